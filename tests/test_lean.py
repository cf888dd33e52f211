"""The lean run path (steps not kept) gives the same numbers as the full Mesa path."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from simulation import MagnetSupplyModel, load_scenario
from simulation.kpis import compute_kpis, kpi_columns
from simulation.run import simulate


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a
    )


@pytest.mark.parametrize(
    ("name", "seed", "weeks"),
    [("history_2025", 3, None), ("baseline_2025", 5, 80), ("fast_domestic_rampup", 2, 120)],
)
def test_lean_path_same_kpis_and_columns(name, seed, weeks):
    spec = load_scenario(name)
    full = simulate(spec, rng=seed, weeks=weeks)
    lean = simulate(spec, rng=seed, weeks=weeks, keep_steps=False)
    assert _same(full.kpis, lean.kpis)
    assert len(lean.steps.columns) < len(full.steps.columns) / 2  # it is lean
    pd.testing.assert_frame_equal(lean.steps, full.steps[list(lean.steps.columns)])


def test_mesa_model_and_datacollector_match_simulate():
    """The interactive path (a Mesa model stepped by hand, its DataCollector) is the same run."""
    spec = load_scenario("history_2025")
    model = MagnetSupplyModel(spec, rng=11)
    for _ in range(60):
        model.step()
    steps = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    pd.testing.assert_frame_equal(steps, simulate(spec, rng=11, weeks=60).steps)


def test_kpi_columns_are_all_compute_kpis_reads():
    """KPIs from the declared columns alone equal KPIs from every column."""
    steps = simulate(load_scenario("history_2025"), rng=1, weeks=90).steps
    assert _same(compute_kpis(steps[kpi_columns(steps.columns)]), compute_kpis(steps))
