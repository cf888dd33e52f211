"""Sensitivity analysis and scenario discovery: known answers, the real pipeline, bad input."""

from __future__ import annotations

import json
import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("SALib")
pytest.importorskip("ema_workbench")

from experiments.analysis import discover, morris_table, sobol_table
from experiments.cli import app
from experiments.design import Experiment, expand, salib_problem

pytestmark = pytest.mark.slow  # Sobol, Morris, PRIM and the EMA bridge

REPO = Path(__file__).resolve().parent.parent
runner = CliRunner()


def unit_experiment(
    sampling: str, samples: int, names=("x1", "x2", "x3"), bounds=(-math.pi, math.pi)
):
    return Experiment.model_validate(
        {
            "name": "synthetic",
            "scenario": "baseline_2025",
            "sampling": sampling,
            "samples": samples,
            "morris_trajectories": samples,
            "seed_root": 11,
            "factors": {n: {"range": list(bounds)} for n in names},
        }
    )


def design_matrix(experiment: Experiment) -> np.ndarray:
    names = salib_problem(experiment)["names"]
    return np.array([[p.values[n] for n in names] for p in expand(experiment)])


def test_sobol_recovers_the_ishigami_indices():
    from SALib.test_functions import Ishigami

    experiment = unit_experiment("saltelli", 2048)
    x = design_matrix(experiment)
    assert len(x) == 2048 * (3 + 2)  # a Saltelli design without second-order terms
    table = sobol_table(salib_problem(experiment), {"y": Ishigami.evaluate(x)}, seed=1)
    s1 = table.set_index("factor")["S1"]
    st = table.set_index("factor")["ST"]
    # analytic values for a=7, b=0.1 (Ishigami & Homma 1990)
    assert s1["x1"] == pytest.approx(0.314, abs=0.05)
    assert s1["x2"] == pytest.approx(0.442, abs=0.05)
    assert s1["x3"] == pytest.approx(0.0, abs=0.05)
    assert st["x1"] == pytest.approx(0.558, abs=0.05)
    assert st["x2"] == pytest.approx(0.442, abs=0.05)
    assert st["x3"] == pytest.approx(0.244, abs=0.05)
    assert table.sort_values("rank")["factor"].tolist() == ["x1", "x2", "x3"]
    assert (table["ST_conf"] > 0).all()


def test_morris_ranks_a_dummy_factor_last():
    experiment = unit_experiment("morris", 40, names=("strong", "curved", "dummy"), bounds=(0, 1))
    x = design_matrix(experiment)
    y = 5 * x[:, 0] + 3 * x[:, 1] ** 2 + 0 * x[:, 2]
    table = morris_table(salib_problem(experiment), x, {"y": y}, levels=4, seed=1)
    ranked = table.sort_values("rank")["factor"].tolist()
    assert ranked == ["strong", "curved", "dummy"]
    assert table.set_index("factor").loc["dummy", "mu_star"] == pytest.approx(0.0, abs=1e-12)


def fake_sweep(folder: Path, runs: pd.DataFrame, factors: list[str]) -> Path:
    folder.mkdir(parents=True)
    runs.to_parquet(folder / "runs.parquet")
    text = 'name = "synthetic"\nscenario = "baseline_2025"\n'
    (folder / "manifest.json").write_text(
        json.dumps({"experiment_name": "synthetic", "factors": factors, "experiment_text": text})
    )
    return folder


def test_prim_finds_a_planted_box(tmp_path):
    rng = np.random.default_rng(3)
    n = 800
    runs = pd.DataFrame(
        {
            "run_id": range(n),
            "point": range(n),
            "status": "ok",
            "approval_probability": rng.uniform(0, 1, n),
            "subsidy_usd_per_kg": rng.uniform(0, 60, n),
            "build_weeks": rng.uniform(52, 156, n),
        }
    )
    inside = (runs["approval_probability"] < 0.3) & (runs["build_weeks"] > 100)
    runs["lost_production_pct__IN"] = np.where(inside, 40.0, 5.0) + rng.normal(0, 1, n)
    folder = fake_sweep(
        tmp_path / "s", runs, ["approval_probability", "subsidy_usd_per_kg", "build_weeks"]
    )
    target = discover(folder, "lost_production_india", above=20)
    text = (target / "boxes.md").read_text()
    words = text.split("In words:")[1].split("\n")[0]
    approval = float(re.search(r"approval_probability < ([0-9]+(?:\.[0-9]+)?)", words).group(1))
    build = float(re.search(r"build_weeks > ([0-9]+(?:\.[0-9]+)?)", words).group(1))
    assert 0.25 < approval < 0.35 and 90 < build < 110  # the planted box: < 0.3 and > 100
    assert "subsidy_usd_per_kg" not in words
    trajectory = pd.read_csv(target / "trajectory.csv")
    best = trajectory.loc[(trajectory["density"] >= 0.8)].eval("coverage * density").max()
    assert best > 0.8
    assert (target / "trajectory.png").stat().st_size > 10_000


def test_ema_workbench_can_perform_experiments_on_our_model():
    from ema_workbench import SequentialEvaluator

    from experiments.ema import ema_model, run_for_ema

    model = ema_model(REPO / "experiments" / "sensitivity.toml")
    assert {u.name for u in model.uncertainties} >= {
        "approval_probability",
        "review_capacity_per_week",
    }
    assert {lever.name for lever in model.levers} >= {"subsidy_usd_per_kg", "build_weeks"}
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=3, policies=1)
    assert len(experiments) == 3 and set(outcomes) >= {"lost_production_pct__IN", "licences_issued"}
    row = experiments.iloc[0]
    params = {u.name: row[u.name] for u in [*model.uncertainties, *model.levers]}
    params = {
        k: int(v)
        if k
        in (
            "review_capacity_per_week",
            "min_delay_working_days",
            "low_hree_lag_weeks",
            "engineering_slots",
            "build_weeks",
        )
        else float(v)
        for k, v in params.items()
    }
    fixed = {c.name: c.value for c in model.constants}
    direct = run_for_ema(fixed["base_scenario"], fixed["fixed_overrides"], fixed["seed"], **params)
    assert outcomes["lost_production_pct__IN"][0] == pytest.approx(
        direct["lost_production_pct__IN"]
    )


def test_quick_sobol_and_discovery_through_the_cli(tmp_path):
    out = tmp_path / "sens"
    res = runner.invoke(
        app,
        [
            "analyse",
            "sobol",
            "experiments/sensitivity.toml",
            "--quick",
            "--workers",
            "2",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "analysis" / "sobol.csv")
    assert len(table) == 22 * 3 and set(table["kpi"]) == {
        "lost_production_pct__IN",
        "lost_production_pct__JP",
        "domestic_share_at_horizon",
    }
    assert "dominates" in (out / "analysis" / "sobol.md").read_text()
    assert (out / "analysis" / "sobol.png").exists()
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 8 * (22 + 2) * 1  # quick Saltelli: N = 8, 22 factors
    threshold = float(runs["lost_production_pct__IN"].median())
    res = runner.invoke(
        app,
        [
            "analyse",
            "discover",
            str(out),
            "--kpi",
            "lost_production_india",
            "--above",
            str(threshold),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "coverage" in res.output and (out / "discovery" / "trajectory.png").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["analyse", "discover", "{sweep}", "--kpi", "nonsense", "--above", "1"],
            "unknown KPI 'nonsense'",
        ),
        (
            [
                "analyse",
                "discover",
                "{sweep}",
                "--kpi",
                "lost_production_india",
                "--above",
                "1",
                "--below",
                "2",
            ],
            "exactly one of",
        ),
        (
            ["analyse", "discover", "{tmp}", "--kpi", "lost_production_india", "--above", "1"],
            "not a finished sweep folder",
        ),
        (
            ["analyse", "discover", "{small}", "--kpi", "lost_production_india", "--above", "1"],
            "PRIM needs at least 10",
        ),
        (
            ["analyse", "sobol", "experiments/policy_vs_rampup.toml", "--out", "{tmp}/x"],
            "needs every factor to be a range",
        ),
        (["analyse", "sobol", "{few}", "--out", "{tmp}/y"], "too few"),
        (
            ["analyse", "sobol", "{unknown}", "--out", "{tmp}/z"],
            "did you mean 'subsidy_usd_per_kg'",
        ),
    ],
)
def test_bad_analysis_input_gets_one_line_and_exit_2(tmp_path, args, expected):
    rng = np.random.default_rng(0)
    runs = pd.DataFrame(
        {"run_id": range(40), "point": range(40), "status": "ok", "a": rng.uniform(0, 1, 40)}
    )
    runs["lost_production_pct__IN"] = runs["a"] * 10
    sweep = fake_sweep(tmp_path / "sweep", runs, ["a"])
    small = fake_sweep(tmp_path / "small", runs.head(5), ["a"])
    few = tmp_path / "few.toml"
    few.write_text(
        'name = "f"\nscenario = "baseline_2025"\nsampling = "saltelli"\nsamples = 1\n[factors.subsidy_usd_per_kg]\nrange = [0, 1]\n'
    )
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(
        'name = "u"\nscenario = "baseline_2025"\nsampling = "saltelli"\nsamples = 4\n[factors.subsidy_usd_per_kgg]\nrange = [0, 1]\n'
    )
    names = {"sweep": sweep, "small": small, "tmp": tmp_path, "few": few, "unknown": unknown}
    res = runner.invoke(app, [a.format(**names) for a in args])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert expected in " ".join(res.output.split())


def test_quick_morris_on_the_shipped_experiment(tmp_path):
    out = tmp_path / "morris"
    res = runner.invoke(
        app,
        [
            "analyse",
            "morris",
            "experiments/sensitivity.toml",
            "--quick",
            "--workers",
            "1",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "analysis" / "morris.csv")
    assert len(pd.read_parquet(out / "runs.parquet")) == 4 * (22 + 1)  # 4 trajectories (quick)
    assert set(table["factor"]) == set(
        tomllib.loads((REPO / "experiments" / "sensitivity.toml").read_text())["factors"]
    )
    assert (table["mu_star"] >= 0).all() and "dominates" in res.output
