"""`magshock reproduce` passes on the committed references and reports clearly what moved."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.cli import app
from experiments.reproduce import (
    CANONICAL,
    REFERENCE_DIR,
    RTOL,
    compare,
    compute,
    environment,
    reproduce,
)

pytestmark = pytest.mark.slow  # re-runs every committed reference

runner = CliRunner()


@pytest.fixture(scope="module")
def fresh():
    return {c.name: compute(c) for c in CANONICAL}


def test_committed_references_reproduce_bit_for_bit(fresh):
    for name, table in fresh.items():
        result = compare(name, table)
        assert result.ok, result.differences
        assert result.rows == len(pd.read_csv(REFERENCE_DIR / name / "kpis.csv"))


def test_a_moved_number_is_reported_with_its_column(tmp_path, fresh):
    shutil.copytree(REFERENCE_DIR, tmp_path / "ref")
    path = tmp_path / "ref" / "baseline" / "kpis.csv"
    table = pd.read_csv(path)
    table.loc[2, "lost_production_pct__IN"] += 0.5
    table.to_csv(path, index=False, float_format="%.17g")
    result = compare("baseline", fresh["baseline"], root=tmp_path / "ref")
    assert not result.ok
    assert any(
        d.startswith("lost_production_pct__IN: 1 of 5 rows moved") for d in result.differences
    )


def test_other_platforms_compare_within_tolerance(tmp_path, fresh):
    shutil.copytree(REFERENCE_DIR, tmp_path / "ref")
    manifest = tmp_path / "ref" / "history" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["environment"]["numpy"] = "0.0-elsewhere"
    manifest.write_text(json.dumps(data))
    path = tmp_path / "ref" / "history" / "kpis.csv"
    table = pd.read_csv(path)
    table["lost_production_pct__IN"] *= 1 + 1e-9  # float noise from another platform
    table.to_csv(path, index=False, float_format="%.17g")
    result = compare("history", fresh["history"], root=tmp_path / "ref")
    assert result.ok and result.mode == "tolerance"
    table["lost_production_pct__IN"] *= 1.01
    table.to_csv(path, index=False, float_format="%.17g")
    assert not compare("history", fresh["history"], root=tmp_path / "ref").ok


def test_cli_reproduce_exit_codes(tmp_path):
    """The documented contract: bit-identical on the reference's platform, else within rtol."""
    saved = json.loads((REFERENCE_DIR / "baseline" / "manifest.json").read_text())["environment"]
    how = "bit-identical" if saved == environment() else f"within rtol {RTOL:g}"
    res = runner.invoke(app, ["reproduce", "baseline"])
    assert res.exit_code == 0 and f"PASS baseline: 5 runs, {how}" in res.output
    res = runner.invoke(app, ["reproduce", "nonsense"])
    assert res.exit_code == 2 and "unknown canonical experiment" in res.output
    res = runner.invoke(app, ["reproduce", "baseline", "--reference-dir", str(tmp_path)])
    assert res.exit_code == 1 and "no reference" in res.output


def test_update_writes_references(tmp_path):
    results = reproduce(["history"], update=True, root=tmp_path)
    assert results[0].ok
    assert (tmp_path / "history" / "kpis.csv").exists()
    assert json.loads((tmp_path / "history" / "manifest.json").read_text())["name"] == "history"


def test_cli_reproduce_on_another_platform_passes_within_tolerance(monkeypatch):
    """A different Python or package version is not a failure: the CLI says which contract held."""
    monkeypatch.setattr(
        "experiments.reproduce.environment", lambda: {"python": "3.99.0", "platform": "Other"}
    )
    res = runner.invoke(app, ["reproduce", "baseline"])
    assert res.exit_code == 0, res.output
    assert f"PASS baseline: 5 runs, within rtol {RTOL:g}" in res.output


def test_update_never_replaces_a_folder_it_did_not_write(tmp_path):
    folder = tmp_path / "history"
    folder.mkdir()
    (folder / "kpis.csv").write_text("my,own\n1,2\n")
    res = runner.invoke(app, ["reproduce", "history", "--update", "--reference-dir", str(tmp_path)])
    assert res.exit_code == 2 and "not a magshock" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in folder.iterdir()) == ["kpis.csv"]
    assert (folder / "kpis.csv").read_text() == "my,own\n1,2\n"
