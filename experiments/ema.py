"""EMA workbench interop: magshock as an ``ema_workbench.Model`` for ``perform_experiments``.

The uncertainties and levers come from an experiment file's ranged factors (``role =
"uncertainty"`` or ``"lever"``; names and bounds validated against the scenario schema), the
outcomes from our KPI list, so an EMA user can write::

    from ema_workbench import perform_experiments
    from experiments.ema import ema_model

    experiments, outcomes = perform_experiments(ema_model("experiments/sensitivity.toml"), 100)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from experiments.design import load_experiment
from simulation.run import simulate
from simulation.scenario_io import load_scenario, resolve_scenario_path

DEFAULT_OUTCOMES = [
    "lost_production_pct__IN",
    "lost_production_pct__JP",
    "domestic_share_at_horizon",
    "licences_issued",
]


def run_for_ema(
    base_scenario: str, fixed_overrides: dict[str, Any], seed: int, **factors: Any
) -> dict[str, float]:
    """One run for the workbench: scenario + fixed overrides + sampled factors -> KPIs."""
    scenario = load_scenario(base_scenario, **{**fixed_overrides, **factors})
    return simulate(scenario, rng=seed, keep_steps=False).kpis


def ema_model(
    experiment: str | Path = "experiments/sensitivity.toml",
    outcomes: list[str] | None = None,
    seed: int | None = None,
):
    """An ``ema_workbench.Model`` of magshock built from an experiment file.

    Args:
        experiment: experiment TOML whose ranged factors become uncertainties and levers.
        outcomes: KPI names (``simulation.kpis.compute_kpis`` keys) to report.
        seed: seed of every run (common random numbers); default the file's ``seed_root``.
    """
    from ema_workbench import (
        Constant,
        IntegerParameter,
        Model,
        RealParameter,
        ScalarOutcome,
    )

    design = load_experiment(experiment)
    exp = design.experiment
    model = Model(exp.name.replace("-", "_"), function=run_for_ema)
    params: dict[str, list] = {"uncertainty": [], "lever": []}
    for name, factor in exp.factors.items():
        if factor.range is None:
            continue
        low, high = factor.range
        param = (
            IntegerParameter(name, int(low), int(high))
            if factor.integer
            else RealParameter(name, float(low), float(high))
        )
        params[factor.role].append(param)
    model.uncertainties = params["uncertainty"]
    model.levers = params["lever"]
    base = resolve_scenario_path(exp.scenario, relative_to=design.path.parent)
    fixed = dict(exp.overrides)
    if exp.weeks is not None:
        fixed["weeks"] = exp.weeks
    model.constants = [
        Constant("base_scenario", str(base)),
        Constant("fixed_overrides", fixed),
        Constant("seed", exp.seed_root if seed is None else seed),
    ]
    model.outcomes = [ScalarOutcome(name) for name in (outcomes or DEFAULT_OUTCOMES)]
    return model
