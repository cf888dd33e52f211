"""``simulate``: the one function every caller uses to run a scenario (CLI, sweeps, tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulation import reporters
from simulation.kpis import compute_kpis, kpi_columns
from simulation.model import MagnetSupplyModel
from simulation.scenario import Scenario


@dataclass
class RunResult:
    """Compact, picklable result of one run (never the model object).

    Attributes:
        steps: one row per week, every model reporter (``week`` and ``date`` included).
        kpis: run KPIs from :func:`simulation.kpis.compute_kpis`.
        agents: per-OEM weekly records when requested, else None.
        seed: the seed the run used.
    """

    steps: pd.DataFrame
    kpis: dict[str, float]
    seed: int | None
    agents: pd.DataFrame | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def simulate(
    scenario: Scenario,
    rng: int | np.random.SeedSequence | None = None,
    weeks: int | None = None,
    collect_agent_data: bool = False,
    keep_steps: bool = True,
) -> RunResult:
    """Run ``scenario`` for ``weeks`` (default: its horizon) and return records and KPIs.

    Args:
        scenario: a validated scenario.
        rng: integer seed or a numpy SeedSequence; None uses ``scenario.simulation.seed``.
        weeks: weeks to run; None = ``scenario.simulation.weeks``.
        collect_agent_data: also return per-OEM weekly records.
        keep_steps: record every weekly reporter. False is the lean path for runs whose
            steps nobody keeps: only the reporters :func:`simulation.kpis.compute_kpis`
            reads are recorded (``steps`` holds just those columns); the KPIs are the same.

    Example:
        >>> from simulation import load_scenario
        >>> result = simulate(load_scenario("no_controls"), rng=1, weeks=12)
        >>> round(result.kpis["lost_production_pct__IN"], 3)
        0.0
    """
    if isinstance(rng, np.random.SeedSequence):
        rng = int(rng.generate_state(1, dtype=np.uint64)[0])
    model = MagnetSupplyModel(
        scenario=scenario,
        rng=rng,
        collect_agent_data=collect_agent_data,
        columns=None if keep_steps else kpi_columns(reporters.aggregate_keys(scenario)),
    )
    model.run_for(weeks if weeks is not None else scenario.simulation.weeks)
    steps = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    agents = None
    if collect_agent_data:
        from agents import OEM

        agents = model.datacollector.get_agenttype_vars_dataframe(OEM).reset_index()
    seed = rng if rng is not None else scenario.simulation.seed
    return RunResult(steps=steps, kpis=compute_kpis(steps), seed=seed, agents=agents)
