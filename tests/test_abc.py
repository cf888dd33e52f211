"""Bayesian calibration (ABC-SMC with pyabc): recovery, the declared split, determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.abc import (
    BATCH,
    CALIBRATION_DIR,
    CalibrationError,
    load_calibration,
    run_calibration,
    target_roles,
)
from experiments.cli import app
from experiments.posterior import posterior_summary

pytestmark = pytest.mark.slow  # ABC-SMC calibrations on pools and a Dask cluster


def _shifted(parameters: dict[str, float]) -> dict[str, float]:
    """Toy with a known inverse: April exports = 4 x customs_t + noise (sd 40 t).

    Module-level so it pickles into spawned workers; the noise comes from the generator the
    sampler seeds per task. The data (2,627 t, C-LIC-5) then say customs_t = 656.75.
    """
    return {"exports_all_2025_04": 4.0 * parameters["customs_t"] + 40.0 * np.random.normal()}


def _toy_file(tmp_path: Path, **abc) -> Path:
    settings = {"population_size": 60, "max_populations": 4, "seed_root": 7, **abc}
    lines = [
        'name = "toy"',
        "end_date = 2025-05-01",
        'targets = ["exports_all_2025_04"]',
        "[parameters.customs_t]",
        "low = 300.0",
        "high = 1000.0",
        "[abc]",
        *(f"{k} = {v}" for k, v in settings.items()),
    ]
    path = tmp_path / "toy.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_abc_recovers_a_known_parameter_within_its_90_percent_interval(tmp_path) -> None:
    out = run_calibration(_toy_file(tmp_path), tmp_path / "run", model=_shifted)
    summary = posterior_summary(pd.read_parquet(out / "posterior.parquet")).loc["customs_t"]
    truth = 2627.0 / 4.0
    assert summary["q05"] <= truth <= summary["q95"]
    assert summary["q95"] - summary["q05"] < 0.5 * (1000.0 - 300.0)  # the data taught it
    for name in ("history.db", "generations.csv", "manifest.json"):
        assert (out / name).exists()


def test_the_same_file_and_seed_give_the_same_posterior_on_one_two_workers_and_dask(tmp_path):
    path = _toy_file(tmp_path, max_populations=3)
    one = run_calibration(path, tmp_path / "one", workers=1, model=_shifted)
    two = run_calibration(path, tmp_path / "two", workers=2, model=_shifted)
    dask = run_calibration(path, tmp_path / "dask", workers=2, scheduler="local", model=_shifted)
    a = pd.read_parquet(one / "posterior.parquet")
    pd.testing.assert_frame_equal(a, pd.read_parquet(two / "posterior.parquet"))
    pd.testing.assert_frame_equal(a, pd.read_parquet(dask / "posterior.parquet"))
    (tmp_path / "other").mkdir()
    other = _toy_file(tmp_path / "other", max_populations=3, seed_root=8)
    c = pd.read_parquet(
        run_calibration(other, tmp_path / "three", model=_shifted) / "posterior.parquet"
    )
    assert not a.equals(c)  # the seed matters


def test_a_validation_target_among_the_targets_is_refused(tmp_path) -> None:
    roles = target_roles()
    validation = next(k for k, r in roles.items() if r == "validation")
    path = _toy_file(tmp_path)
    path.write_text(
        path.read_text().replace(
            'targets = ["exports_all_2025_04"]',
            f'targets = ["exports_all_2025_04", "{validation}"]',
        )
    )
    with pytest.raises(CalibrationError, match=f"{validation}.*role 'validation'"):
        load_calibration(path)
    res = CliRunner().invoke(app, ["calibrate", str(path), "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "role 'validation'" in res.output
    assert not (tmp_path / "x").exists()


def test_shipped_calibration_files_fit_only_calibration_targets() -> None:
    roles = target_roles()
    files = sorted(CALIBRATION_DIR.glob("*.toml"))
    assert files
    for path in files:
        spec = load_calibration(path)
        assert all(roles[t] == "calibration" for t in spec.targets), path.name


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("low = 300.0", "low = 1.0"), "outside the allowed range"),
        (("[parameters.customs_t]", "[parameters.nonsense]"), "parameters.nonsense: unknown"),
        (('targets = ["exports_all_2025_04"]', 'targets = ["no_such"]'), "is no observation"),
    ],
)
def test_bad_calibration_files_get_one_line(tmp_path, edit, message) -> None:
    path = _toy_file(tmp_path)
    path.write_text(path.read_text().replace(*edit))
    with pytest.raises(CalibrationError, match=message):
        load_calibration(path)


def test_posterior_draws_reproduce_and_follow_the_weights(tmp_path) -> None:
    from experiments.posterior import posterior_draws

    folder = tmp_path / "cal"
    folder.mkdir()
    frame = pd.DataFrame({"customs_t": [400.0, 500.0, 900.0], "weight": [0.0, 0.25, 0.75]})
    frame.to_parquet(folder / "posterior.parquet")
    draws = posterior_draws(folder, 400, seed_root=3)
    assert draws == posterior_draws(folder, 400, seed_root=3)
    values = [d["customs_t"] for d in draws]
    assert 400.0 not in values  # weight 0 is never drawn
    assert 0.65 < values.count(900.0) / len(values) < 0.85


def test_validate_history_refuses_a_folder_without_a_posterior(tmp_path) -> None:
    res = CliRunner().invoke(
        app, ["validate-history", "--seeds", "1", "--posterior", str(tmp_path)]
    )
    assert res.exit_code == 2 and "no posterior.parquet" in res.output


def test_the_simulation_budget_holds_inside_a_generation(tmp_path) -> None:
    """A budget below a generation's need stops the run with the generation before it."""
    import json

    path = _toy_file(tmp_path, max_populations=10, max_simulations=200)
    out = run_calibration(path, tmp_path / "run", model=_shifted)
    manifest = json.loads((out / "manifest.json").read_text())
    # each task of a batch may use its share of what is left, rounded up
    assert manifest["simulations"] <= 200 + BATCH
    assert manifest["generations"] < 10


def test_a_calibration_writes_its_report_with_every_target_beside_the_data(tmp_path) -> None:
    """The quick profile: prior/posterior and pairwise figures, predictive bands, all roles."""
    quick = CALIBRATION_DIR / "history_2025_quick.toml"
    spec = load_calibration(quick)
    out = run_calibration(quick, tmp_path / "run", workers=1)
    for name in ("prior_posterior.png", "pairs.png", "predictive.png", "report.md"):
        assert (out / name).stat().st_size > 0, name
    bands = pd.read_csv(out / "predictive.csv")
    assert list(bands["target"]) == spec.targets
    assert (bands["model p5"] <= bands["model median"]).all()
    assert (bands["model median"] <= bands["model p95"]).all()
    observed = bands["with error p5"].notna()
    assert observed.sum() == 13  # the observations; the four stylised facts have no error
    obs = bands[observed]
    error_width = (obs["with error p95"] - obs["with error p5"]).sum()
    assert error_width > (obs["model p95"] - obs["model p5"]).sum()  # the error widens bands
    targets = pd.read_csv(out / "targets.csv")
    assert {"calibration", "validation", "consistency"} <= set(targets["role"])
    report = (out / "report.md").read_text()
    assert "## Validation targets (never fitted)" in report
    for key in targets.loc[targets["role"] == "validation", "key"]:
        assert key in report
    assert len(pd.read_csv(out / "facts.csv")) == 8
    checks = pd.read_csv(out / "checks.csv")
    assert set(checks["id"]) == {"C-LIC-6", "C-LIC-11", "C-JP-5", "C-MKT-10", "C-IN-7"}
    assert "## Further outcome facts (validation, never fitted)" in report


def test_a_malformed_scheduler_is_refused_before_anything_is_written(tmp_path) -> None:
    out = tmp_path / "x"
    res = CliRunner().invoke(
        app, ["calibrate", str(_toy_file(tmp_path)), "--scheduler", "nowhere", "--out", str(out)]
    )
    assert res.exit_code == 2 and "--scheduler 'nowhere'" in res.output
    assert not out.exists()


def test_a_calibration_reruns_from_its_manifest(tmp_path) -> None:
    first = run_calibration(_toy_file(tmp_path, max_populations=2), tmp_path / "a", model=_shifted)
    again = run_calibration(first / "manifest.json", tmp_path / "b", model=_shifted)
    pd.testing.assert_frame_equal(
        pd.read_parquet(first / "posterior.parquet"), pd.read_parquet(again / "posterior.parquet")
    )
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(CalibrationError, match="not a calibration manifest"):
        load_calibration(tmp_path / "bad.json")
