"""Further outcome facts (experiments.checks): measured on the history run, never fitted."""

from __future__ import annotations

import math

import pytest

from experiments.abc import CalibrationError, load_calibration, target_roles
from experiments.checks import CHECKS
from experiments.validation import run_history, score_facts


def test_every_check_is_a_validation_band_and_cannot_be_fitted(tmp_path) -> None:
    roles = target_roles()
    for check in CHECKS:
        assert roles[f"{check.id}: {check.metric}"] == "validation"
    name = f"{CHECKS[0].id}: {CHECKS[0].metric}"
    path = tmp_path / "c.toml"
    path.write_text(
        f'name = "c"\nend_date = 2025-11-07\ntargets = ["{name}"]\n'
        "[parameters.customs_t]\nlow = 300.0\nhigh = 1000.0\n"
    )
    with pytest.raises(CalibrationError, match="role 'validation'"):
        load_calibration(path)


def test_every_check_is_measured_on_the_history_run() -> None:
    table = score_facts(run_history(seeds=1), CHECKS)
    assert len(table) == len(CHECKS)
    for row in table.itertuples():
        assert not math.isnan(row.median), row.id
        assert row.result in ("PASS", "FAIL")
    utilisation = table.set_index("id").loc["C-JP-5", "median"]
    assert 0 <= utilisation <= 100


def test_validation_md_lists_every_target_and_band_with_its_role() -> None:
    """docs/VALIDATION.md declares the split: every observation and band, with its role."""
    from pathlib import Path

    from experiments.observations import load_observations

    rows = [
        line
        for line in (Path(__file__).parents[1] / "docs" / "VALIDATION.md").read_text().splitlines()
        if line.startswith("|")
    ]
    obs = load_observations()
    for o in obs.observation:
        assert any(r.startswith(f"| `{o.key}` | {o.role} |") for r in rows), o.key
    for b in obs.band:
        assert any(r.startswith(f"| {b.id} |") and b.role in r for r in rows), (b.id, b.metric)
