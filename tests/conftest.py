"""Shared helpers for the test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation import load_scenario
from simulation.scenario_io import SCENARIO_DIR

REPO = Path(__file__).resolve().parent.parent
LIBRARY = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


@pytest.fixture(scope="session")
def baseline():
    """The embedded default scenario."""
    return load_scenario("baseline_2025")
