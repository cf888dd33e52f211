"""Calibrate non-Chinese capacity investment to C-RMP-2 in the 2010-like episode, and only that.

C-RMP-2: after 2010, non-China supply grew about 4% of the market a year (Sprecher et al.
2017). The issue ([3 of 6]) makes this a calibration target, not a parameter: growth must come
out of the makers' investment decisions (``agents.row.RestOfWorldSupplier.invest``), whose
one free parameter, ``capacity_response_share``, is set here so that ``episode_2010`` grows
non-Chinese capacity by 4% of world demand a year while the premium's expansions come on
line. Build and ramp times are mechanism facts (C-RMP-1), not fitted.

The measure (:func:`capacity_growth`): the quota (the premium) runs weeks 0-155, and an
expansion decided then produces after ``expansion_build_weeks`` (104) and an
``expansion_ramp_weeks`` (52) ramp, so the premium's capacity arrives in weeks 104-311:
growth there, as % of world demand a year, is "while the premium lasts"; growth in weeks
312-363 is "after" (it should stall).

Usage::

    python -m experiments.calibrate_investment [--seeds 3] [--target 4.0]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from simulation.run import simulate
from simulation.scenario_io import load_scenario

SCENARIO = "episode_2010"
DURING = (104, 311)  # weeks in which the quota's expansions come on line (inclusive)
AFTER = (312, 363)  # the last year: the premium's expansions are all built


def capacity_growth(steps: pd.DataFrame) -> tuple[float, float]:
    """Non-Chinese capacity growth (% of world demand per year) during and after the premium.

    Args:
        steps: the weekly table of an ``episode_2010`` run (``row_capacity_t``,
            ``world_demand_t``).

    Returns:
        (growth while the premium's expansions arrive, growth in the year after), % a year.
    """
    cap = steps["row_capacity_t"].to_numpy()
    world = steps["world_demand_t"].to_numpy()

    def rate(first: int, last: int) -> float:
        years = (last - first + 1) / 52.0
        return 100.0 * (cap[last] - cap[first]) / np.mean(world[first : last + 1]) / years

    return rate(*DURING), rate(*AFTER)


def mean_growth(response_share: float, seeds: list[int]) -> tuple[float, float]:
    """Mean (during, after) growth over ``seeds`` with ``capacity_response_share`` set."""
    spec = load_scenario(SCENARIO, capacity_response_share=response_share)
    rates = [capacity_growth(simulate(spec, rng=seed).steps) for seed in seeds]
    return float(np.mean([r[0] for r in rates])), float(np.mean([r[1] for r in rates]))


def main() -> None:
    """Find the response share that gives the target growth; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds (from SeedSequence(2010))")
    parser.add_argument("--target", type=float, default=4.0, help="% of the market a year")
    args = parser.parse_args()
    seeds = [int(s) for s in np.random.SeedSequence(2010).generate_state(args.seeds)]
    share = brentq(lambda b: mean_growth(b, seeds)[0] - args.target, 1.0, 40.0, xtol=0.25)
    during, after = mean_growth(share, seeds)
    print(f"capacity_response_share = {share:.1f}: {during:.2f}% of the market a year while")
    print(f"the premium's expansions arrive (target {args.target}%), {after:.2f}% after")


if __name__ == "__main__":
    main()
