"""Directional checks: stricter licensing never helps India; faster domestic ramp-up never hurts it.

Averaged over the same seeds for every setting (common random numbers).
"""

import itertools

import numpy as np
import pytest

from simulation import load_scenario, simulate

pytestmark = pytest.mark.slow  # 6 seeds x several settings of the baseline

SEEDS = range(6)


def mean_lost_india(**overrides) -> float:
    scenario = load_scenario("baseline_2025", **overrides)
    return float(
        np.mean([simulate(scenario, rng=s).kpis["lost_production_pct__IN"] for s in SEEDS])
    )


def assert_non_decreasing(values, tol=1e-9):
    assert all(b >= a - tol for a, b in itertools.pairwise(values)), values


def test_stricter_policy_never_reduces_indian_lost_production():
    losses = [
        mean_lost_india(licensing_policy="open"),
        *(
            mean_lost_india(licensing_policy="case_by_case", approval_probability=p)
            for p in (0.9, 0.5, 0.1)
        ),
        mean_lost_india(licensing_policy="ban"),
    ]
    assert_non_decreasing(losses)
    assert losses[0] < 1.0 < 30.0 < losses[-1]


def test_much_smaller_review_desk_never_reduces_indian_lost_production():
    # A small desk against an unlimited one: a clear contrast. Between 3 and 1 decisions a
    # week the order is not fixed: with 1, buyers give up on China sooner and hedge with
    # non-Chinese makers (the patience rule), which can offset the slower desk.
    unlimited, *small = [
        mean_lost_india(
            licensing_policy="case_by_case", approval_probability=0.5, review_capacity_per_week=c
        )
        for c in (None, 3, 1)
    ]
    assert min(small) > unlimited


def test_faster_domestic_rampup_never_increases_indian_lost_production():
    losses = [
        mean_lost_india(incentive__award_week=0, gestation_weeks=0, build_weeks=b, ramp_weeks=r)
        for b, r in ((0, 0), (26, 13), (52, 26), (104, 52))
    ]
    assert_non_decreasing(losses)
    no_scheme = mean_lost_india(incentive__enabled=False)
    assert losses[-1] <= no_scheme + 1e-9
