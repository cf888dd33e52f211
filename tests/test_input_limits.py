"""Hostile or absurd input: one line on stderr naming the key and its range, exit 2, no files."""

from __future__ import annotations

import typing
from pathlib import Path

import annotated_types
import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from experiments import design as design_mod
from experiments.cli import app
from experiments.design import ExperimentError, load_experiment
from experiments.paramdoc import SECTIONS
from simulation.policies import CountryTerms, LicencePolicy, Phase

runner = CliRunner()


def refused(args: list[str], *expected: str) -> str:
    """Invoke the CLI; assert exit 2 with one error line holding every ``expected`` text."""
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    assert "Traceback" not in res.output
    for text in expected:
        assert text in lines[0]
    return lines[0]


def scenario_file(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text('extends = "baseline_2025.toml"\n' + text)
    return path


@pytest.mark.parametrize("depth", [40, 700])
def test_deeply_nested_toml_is_refused_in_one_line(tmp_path, depth):
    deep = "[" * depth + "]" * depth
    path = scenario_file(tmp_path, f"x = {deep}\n")
    refused(["validate", str(path)], str(path), "nested too deeply", "32 levels")
    exp = tmp_path / "exp.toml"
    exp.write_text(f'name = "x"\nscenario = "baseline_2025"\ny = {deep}\n')
    refused(["sweep", str(exp), "--out", str(tmp_path / "o")], "nested too deeply")
    refused(["run", "full_ban", "--set", f"x={deep}", "--out", str(tmp_path / "o")], "--set x")
    assert not (tmp_path / "o").exists()


def test_long_and_cyclic_extends_chains_are_refused(tmp_path):
    for i in range(1000):
        (tmp_path / f"s{i}.toml").write_text(f'extends = "s{i + 1}.toml"\n')
    (tmp_path / "s1000.toml").write_text('extends = "baseline_2025.toml"\n')
    refused(["validate", str(tmp_path / "s0.toml")], "s0.toml", "longer than 32 files")
    (tmp_path / "s1000.toml").write_text('extends = "s980.toml"\n')
    refused(["validate", str(tmp_path / "s990.toml")], "cyclic extends chain")


def test_a_start_date_whose_horizon_leaves_the_calendar_is_refused(tmp_path):
    path = scenario_file(tmp_path, "[simulation]\nstart_date = 9999-12-01\nweeks = 10\n")
    refused(["validate", str(path)], "simulation.start_date", "[1900-01-01, 2199-12-31]")
    timeline = scenario_file(
        tmp_path,
        '[licensing]\nkind = "timeline"\n'
        '[[licensing.phases]]\nstart_week = 999999999\npolicy = { kind = "ban" }\n',
        "t.toml",
    )
    refused(["validate", str(timeline)], "start_week", "[0, 1040]")


def test_booleans_are_not_numbers(tmp_path):
    path = scenario_file(tmp_path, "[simulation]\nweeks = true\n")
    refused(["validate", str(path)], "simulation.weeks", "not a boolean", "[1, 1040]")
    refused(
        ["run", "case_by_case", "--set", "approval_probability=true", "--out", str(tmp_path / "o")],
        "approval_probability",
        "not a boolean",
    )
    exp = tmp_path / "exp.toml"
    exp.write_text('name = "x"\nscenario = "baseline_2025"\nreplications = true\n')
    with pytest.raises(ExperimentError, match="replications: expected a number"):
        load_experiment(exp)


def _numeric(annotation: object) -> bool:
    types = set(typing.get_args(annotation)) or {annotation}
    return bool(types & {int, float}) and bool not in types


def _schema_models() -> list[type[BaseModel]]:
    policies = [
        c
        for c in LicencePolicy.registry.values()
        if c.__module__.startswith("simulation.policies.")
    ]
    return [model for _, model in SECTIONS] + policies + [CountryTerms, Phase]


@pytest.mark.parametrize("model", _schema_models(), ids=lambda m: m.__name__)
def test_every_numeric_parameter_has_a_finite_lower_and_upper_bound(model):
    for name, info in model.model_fields.items():
        if not _numeric(info.annotation):
            continue
        kinds = {type(m) for m in info.metadata}
        assert kinds & {annotated_types.Ge, annotated_types.Gt}, f"{name}: no lower bound"
        assert kinds & {annotated_types.Le, annotated_types.Lt}, f"{name}: no upper bound"


def test_absurd_values_are_refused_with_the_allowed_range(tmp_path):
    out = str(tmp_path / "o")
    refused(
        ["run", "full_ban", "--set", "planned_vehicles_per_week=1e308", "--out", out],
        "planned_vehicles_per_week",
        "allowed range [0, 10000000]",
    )
    refused(["run", "full_ban", "--set", "weeks=nan", "--out", out], "simulation.weeks")
    refused(["run", "full_ban", "--weeks", "0", "--out", out], "simulation.weeks", "[1, 1040]")
    refused(["run", "full_ban", "--weeks", "5000", "--out", out], "[1, 1040]")
    refused(["run", "full_ban", "--seed", "-1", "--out", out], "--seed", "[0, 9223372036854775807]")
    refused(["run", "full_ban", "--seed", str(2**64), "--out", out], "--seed")
    exp = tmp_path / "exp.toml"
    exp.write_text('name = "x"\nscenario = "baseline_2025"\nreplications = 1000000000\n')
    refused(["sweep", str(exp), "--out", out], "replications", "allowed range [1, 100000]")
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------------- design size (item 11)

DESIGNS = {
    "grid": "[factors.policy.levels]\na = {}\nb = {}\nc = {}\n"
    "[factors.subsidy_usd_per_kg]\nvalues = [1, 2]\n",
    "lhs": 'sampling = "lhs"\nsamples = 5\n[factors.subsidy_usd_per_kg]\nvalues = [1, 2]\n'
    "[factors.approval_probability]\nrange = [0, 1]\n",
    "saltelli": 'sampling = "saltelli"\nsamples = 4\n[factors.approval_probability]\n'
    "range = [0, 1]\n[factors.subsidy_usd_per_kg]\nrange = [0, 50]\n",
    "morris": 'sampling = "morris"\nmorris_trajectories = 3\n[factors.approval_probability]\n'
    "range = [0, 1]\n[factors.subsidy_usd_per_kg]\nrange = [0, 50]\n",
}


def experiment_file(tmp_path: Path, body: str, replications: int = 2) -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(
        f'name = "x"\nscenario = "baseline_2025"\nreplications = {replications}\nweeks = 3\n'
        f'overrides = {{ licensing_policy = "case_by_case" }}\n{body}'
    )
    return path


@pytest.mark.parametrize("kind", sorted(DESIGNS))
def test_run_count_is_known_without_expanding(tmp_path, kind):
    design = load_experiment(experiment_file(tmp_path, DESIGNS[kind]))
    assert design_mod.run_count(design.experiment) == len(design.runs)


@pytest.mark.parametrize("command", [["sweep"], ["analyse", "sobol"], ["analyse", "morris"]])
def test_a_huge_design_gives_its_size_and_asks_for_yes(tmp_path, command):
    body = (
        'sampling = "saltelli"\nsamples = 1000000\nmorris_trajectories = 100000\n'
        "[factors.approval_probability]\nrange = [0, 1]\n"
        "[factors.subsidy_usd_per_kg]\nrange = [0, 50]\n"
    )
    exp = experiment_file(tmp_path, body, replications=1)
    out = tmp_path / "o"
    line = refused([*command, str(exp), "--out", str(out)], "runs (more than 100,000)", "--yes")
    assert ("4,000,000" if command[-1] != "morris" else "300,000") in line
    assert not out.exists()


def test_yes_runs_a_design_above_the_threshold(tmp_path, monkeypatch):
    monkeypatch.setattr(design_mod, "CONFIRM_RUNS", 4)
    exp = experiment_file(tmp_path, DESIGNS["grid"], replications=1)
    out = tmp_path / "o"
    args = ["sweep", str(exp), "--workers", "1", "--no-report", "--out", str(out)]
    refused(args, "6 runs (more than 4)", "--yes")
    assert not out.exists()
    res = runner.invoke(app, [*args, "--yes"])
    assert res.exit_code == 0, res.output
    assert (out / "runs.parquet").exists()


def test_designs_beyond_ten_million_runs_are_refused_even_with_yes(tmp_path):
    body = 'sampling = "lhs"\nsamples = 1000000\n[factors.approval_probability]\nrange = [0, 1]\n'
    exp = experiment_file(tmp_path, body, replications=100_000)
    refused(
        ["sweep", str(exp), "--yes", "--out", str(tmp_path / "o")],
        "100,000,000,000 runs",
        "allowed at most 10,000,000",
    )
