"""Simulation core of magshock: scenario schema, licence policies, market, the Mesa model, KPIs.

Names are loaded lazily so that ``agents`` can import ``simulation.policies`` and
``simulation.market`` without importing the model (which imports ``agents``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Ban": "simulation.policies",
    "CaseByCase": "simulation.policies",
    "LicencePolicy": "simulation.policies",
    "Open": "simulation.policies",
    "Preferential": "simulation.policies",
    "Quota": "simulation.policies",
    "Timeline": "simulation.policies",
    "MagnetSupplyModel": "simulation.model",
    "RunResult": "simulation.run",
    "simulate": "simulation.run",
    "Scenario": "simulation.scenario",
    "ScenarioError": "simulation.errors",
    "load_scenario": "simulation.scenario_io",
    "compute_kpis": "simulation.kpis",
}

__all__ = [  # noqa: RUF022 - same order as _EXPORTS
    "Ban",
    "CaseByCase",
    "LicencePolicy",
    "Open",
    "Preferential",
    "Quota",
    "Timeline",
    "MagnetSupplyModel",
    "RunResult",
    "simulate",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "compute_kpis",
]

if TYPE_CHECKING:
    from simulation.errors import ScenarioError
    from simulation.kpis import compute_kpis
    from simulation.model import MagnetSupplyModel
    from simulation.policies import (
        Ban,
        CaseByCase,
        LicencePolicy,
        Open,
        Preferential,
        Quota,
        Timeline,
    )
    from simulation.run import RunResult, simulate
    from simulation.scenario import Scenario
    from simulation.scenario_io import load_scenario


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'simulation' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
