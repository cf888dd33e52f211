"""Simulation core of magshock: scenario schema, licence policies, market, the Mesa model, KPIs."""

from simulation.kpis import compute_kpis
from simulation.model import MagnetSupplyModel
from simulation.policies import Ban, CaseByCase, LicencePolicy, Open, Preferential, Quota, Timeline
from simulation.run import RunResult, simulate
from simulation.scenario import Scenario, ScenarioError, load_scenario

__all__ = [
    "Ban",
    "CaseByCase",
    "LicencePolicy",
    "MagnetSupplyModel",
    "Open",
    "Preferential",
    "Quota",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "Timeline",
    "compute_kpis",
    "load_scenario",
    "simulate",
]
