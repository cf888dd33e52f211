"""Validation of the history scenario against the stylised facts of CALIBRATION.md (SF-1..SF-5).

Each fact is a metric computed from one run's weekly records (and, for SF-4, from the
no-controls counterfactual run with the same seed) and a target band, read from the
observation file (``experiments/data/observations.toml``). The history scenario
is run over many seeds; a fact holds when its metric is inside the band in at least
``PASS_SHARE`` of the seeds. ``magshock validate-history`` prints the table; the tests in
``tests/validation/`` assert it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from agents.buyer import MAGNET_TRADE_SOURCES
from experiments.observations import load_observations
from simulation.errors import validate_scenario
from simulation.overrides import apply_overrides
from simulation.run import simulate
from simulation.scenario import Scenario
from simulation.scenario_io import load_scenario

HISTORY = "history_2025"
CONTROLS_START = date(2025, 4, 4)  # C-LIC-1: "week 0" of the stylised facts
PASS_SHARE = 0.8
DEFAULT_SEEDS = 20


@dataclass(frozen=True)
class Context:
    """One seed's records: the history run, its no-controls twin and the scenario."""

    steps: pd.DataFrame
    counterfactual: pd.DataFrame
    scenario: Scenario

    @property
    def shock_week(self) -> int:
        """Model week containing 4 April 2025."""
        return self.scenario.week_of(CONTROLS_START)

    def weeks_in(self, first: date, last: date) -> pd.Series:
        """Boolean mask of the weeks whose Monday falls in [first, last]."""
        dates = pd.to_datetime(self.steps["date"]).dt.date
        return (dates >= first) & (dates <= last)


@dataclass(frozen=True)
class Fact:
    """A stylised fact: a metric per run and the band it must fall in."""

    id: str
    name: str
    metric: str
    band: tuple[float, float]
    compute: Callable[[Context], float]

    def holds(self, value: float) -> bool:
        """Whether a metric value is inside the band (NaN never holds)."""
        low, high = self.band
        return not math.isnan(value) and low <= value <= high

    @property
    def band_text(self) -> str:
        """The band as text."""
        low, high = self.band
        if math.isinf(high):
            return f">= {low:g}"
        if math.isinf(low):
            return f"<= {high:g}"
        return f"{low:g} .. {high:g}"


def _pre_control_exports(ctx: Context) -> float:
    pre = ctx.steps["week"] < ctx.shock_week
    return float(ctx.steps.loc[pre, "china_exports_t"].mean())


def sf1_may_decline(ctx: Context) -> float:
    """SF-1a: fall of Chinese magnet exports in May 2025 vs the pre-control level, %."""
    may = ctx.weeks_in(date(2025, 5, 1), date(2025, 5, 31))
    return 100 * (1 - ctx.steps.loc[may, "china_exports_t"].mean() / _pre_control_exports(ctx))


def sf1_july_level(ctx: Context) -> float:
    """SF-1b: Chinese magnet exports in July 2025 as % of the pre-control level."""
    july = ctx.weeks_in(date(2025, 7, 1), date(2025, 7, 31))
    return 100 * ctx.steps.loc[july, "china_exports_t"].mean() / _pre_control_exports(ctx)


def sf2_first_india_licence(ctx: Context) -> float:
    """SF-2a: weeks after 4 Apr 2025 of the first licence approved for India."""
    approved = ctx.steps.loc[ctx.steps["licences_approved__IN"] > 0, "week"]
    return float(approved.min() - ctx.shock_week) if len(approved) else math.nan


def sf2_licensed_deliveries_before_week_28(ctx: Context) -> float:
    """SF-2b: tonnes shipped to India under licence in weeks 0..27 after the controls."""
    after = ctx.steps["week"] - ctx.shock_week
    window = (after >= 0) & (after < 28)
    return float(ctx.steps.loc[window, "china_licensed_exports_t__IN"].sum())


def _first_jp_stop(ctx: Context) -> tuple[float, float]:
    """(week after the controls of the first Japanese line stop, its length in weeks)."""
    cols = [c for c in ctx.steps.columns if c.startswith("oem_firms_stopped__JP__")]
    best: tuple[float, float] = (math.nan, math.nan)
    for col in cols:
        stopped = ctx.steps[col].to_numpy() > 0
        after = ctx.steps["week"].to_numpy() >= ctx.shock_week
        hits = np.flatnonzero(stopped & after)
        if not len(hits):
            continue
        first = hits[0]
        length = 0
        while first + length < len(stopped) and stopped[first + length]:
            length += 1
        week = float(ctx.steps["week"].iloc[first] - ctx.shock_week)
        if math.isnan(best[0]) or week < best[0]:
            best = (week, float(length))
    return best


def sf3_first_japan_stop(ctx: Context) -> float:
    """SF-3a: weeks after the controls of the first Japanese line stop."""
    return _first_jp_stop(ctx)[0]


def sf3_stop_length(ctx: Context) -> float:
    """SF-3b: length of that first Japanese stop, weeks."""
    return _first_jp_stop(ctx)[1]


def sf4_india_receipts_fall(ctx: Context) -> float:
    """SF-4: Indian magnet receipts Apr-Sep 2025, % below the no-controls counterfactual."""
    cols = [f"receipts_t__IN__{s}" for s in MAGNET_TRADE_SOURCES]
    window = ctx.weeks_in(date(2025, 4, 1), date(2025, 9, 30))
    actual = ctx.steps.loc[window, cols].to_numpy().sum()
    baseline = ctx.counterfactual.loc[window.to_numpy(), cols].to_numpy().sum()
    return 100 * (1 - actual / baseline) if baseline > 0 else math.nan


def sf5_domestic_share_two_years(ctx: Context) -> float:
    """SF-5: highest weekly domestic output as % of Indian demand before award + 2 years."""
    award = ctx.scenario.incentive_award_week()
    end = (award if award is not None else 0) + 104
    window = ctx.steps["week"] < end
    need = ctx.steps.loc[window, "magnet_need_t__IN"]
    share = ctx.steps.loc[window, "domestic_output_t"] / need.where(need > 0)
    return float(100 * share.max())


def band_fact(fact_id: str, name: str, metric: str, compute: Callable[[Context], float]) -> Fact:
    """A fact whose band is read from the observation file (data, not code)."""
    return Fact(fact_id, name, metric, OBSERVATIONS.band_of(fact_id, metric), compute)


OBSERVATIONS = load_observations()

FACTS: list[Fact] = [
    band_fact(
        "SF-1",
        "China's exports collapse in May 2025",
        "May exports, % below pre-control",
        sf1_may_decline,
    ),
    band_fact(
        "SF-1",
        "... and partly recover once licences flow",
        "July exports, % of pre-control",
        sf1_july_level,
    ),
    band_fact(
        "SF-2",
        "No licensed magnets reach India before week 28",
        "t shipped to IN, weeks 0-27",
        sf2_licensed_deliveries_before_week_28,
    ),
    band_fact(
        "SF-2",
        "First Indian approvals at the end of October",
        "week of first IN approval",
        sf2_first_india_licence,
    ),
    band_fact(
        "SF-3",
        "A Japanese carmaker stops a line within weeks",
        "week of first JP line stop",
        sf3_first_japan_stop,
    ),
    band_fact("SF-3", "... then restarts", "length of that stop, weeks", sf3_stop_length),
    band_fact(
        "SF-4",
        "India's receipts collapse for the half year",
        "IN receipts Apr-Sep, % below no-controls",
        sf4_india_receipts_fall,
    ),
    band_fact(
        "SF-5",
        "Domestic supply negligible for two years",
        "max weekly domestic output, % of IN demand",
        sf5_domestic_share_two_years,
    ),
]


def counterfactual_of(scenario: Scenario) -> Scenario:
    """The same scenario with no export controls (open licensing)."""
    raw = scenario.model_dump(mode="python", serialize_as_any=True)
    twin = validate_scenario(apply_overrides(raw, {"licensing_policy": "open"}), scenario.name)
    return twin


def run_seed(scenario: Scenario, seed: int) -> Context:
    """One seed's history run and its no-controls twin."""
    return Context(
        simulate(scenario, rng=seed).steps,
        simulate(counterfactual_of(scenario), rng=seed).steps,
        scenario,
    )


def _metrics(ctx: Context, facts: list[Fact]) -> dict[str, float]:
    """Every fact's metric for one seed."""
    return {f"{fact.id}: {fact.metric}": fact.compute(ctx) for fact in facts}


def run_history(
    scenario: Scenario | None = None, seeds: int = DEFAULT_SEEDS, seed_root: int = 2025
) -> list[Context]:
    """Run the history scenario (and its no-controls twin) over ``seeds`` seeds.

    Args:
        scenario: the history scenario; None loads ``history_2025``.
        seeds: number of seeds, drawn from ``numpy.random.SeedSequence(seed_root)``.
        seed_root: entropy of the seed sequence.

    Returns:
        One :class:`Context` per seed, for :func:`score_facts` and
        :func:`experiments.targets.compare_targets` (``[c.steps for c in contexts]``).
    """
    return run_posterior([scenario or load_scenario(HISTORY)] * seeds, seed_root)


def run_posterior(scenarios: list[Scenario], seed_root: int = 2025) -> list[Context]:
    """One seed per scenario (e.g. per posterior draw: the posterior predictive runs).

    The i-th scenario runs with the i-th seed of ``SeedSequence(seed_root)``;
    :func:`run_history` is this with one scenario repeated.
    """
    children = np.random.SeedSequence(seed_root).generate_state(len(scenarios), dtype=np.uint32)
    return [run_seed(sc, int(s)) for sc, s in zip(scenarios, children, strict=True)]


def score_facts(contexts: list[Context], facts: list[Fact] | None = None) -> pd.DataFrame:
    """Score every stylised fact (or the given ``facts``) over the seeds' runs.

    Returns:
        One row per fact: id, fact, metric, band, median, p5, p95, share of seeds inside the
        band, and PASS (share >= 80%) or FAIL.
    """
    facts = FACTS if facts is None else facts
    per_seed = pd.DataFrame([_metrics(ctx, facts) for ctx in contexts])
    rows = []
    for fact in facts:
        values = per_seed[f"{fact.id}: {fact.metric}"].to_numpy(dtype=float)
        share = float(np.mean([fact.holds(v) for v in values]))
        finite = values[~np.isnan(values)]
        rows.append(
            {
                "id": fact.id,
                "fact": fact.name,
                "metric": fact.metric,
                "band": fact.band_text,
                "median": float(np.median(finite)) if len(finite) else math.nan,
                "p5": float(np.percentile(finite, 5)) if len(finite) else math.nan,
                "p95": float(np.percentile(finite, 95)) if len(finite) else math.nan,
                "share_in_band": share,
                "result": "PASS" if share >= PASS_SHARE else "FAIL",
            }
        )
    return pd.DataFrame(rows)


def validate_history(
    scenario: Scenario | None = None, seeds: int = DEFAULT_SEEDS, seed_root: int = 2025
) -> pd.DataFrame:
    """Run the history scenario over ``seeds`` seeds and score every stylised fact.

    Returns:
        The table of :func:`score_facts`.
    """
    return score_facts(run_history(scenario, seeds, seed_root))
