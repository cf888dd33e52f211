"""`magshock` CLI: results on success; on error one clear line, exit 2, nothing written."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments import results as results_mod
from experiments.cli import app
from simulation import load_scenario, simulate

runner = CliRunner()


def test_run_writes_steps_runs_and_manifest(tmp_path):
    out = tmp_path / "demo"
    res = runner.invoke(
        app, ["run", "experiments/scenarios/baseline_2025.toml", "--out", str(out), "--seed", "7"]
    )
    assert res.exit_code == 0, res.output
    assert "lost production IN" in res.output and "licences issued" in res.output
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "runs.parquet",
        "steps.parquet",
    ]
    steps = pd.read_parquet(out / "steps.parquet")
    assert len(steps) == 156 and steps["date"].iloc[0] == "2025-04-07"
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 1 and runs["seed"].iloc[0] == 7
    expected = simulate(load_scenario("baseline_2025"), rng=7).kpis
    assert runs["lost_production_pct__IN"].iloc[0] == pytest.approx(
        expected["lost_production_pct__IN"]
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 7
    first = manifest["scenario_files"][0]
    assert hashlib.sha256(first["text"].encode()).hexdigest() == first["sha256"]
    assert first["text"] == Path("experiments/scenarios/baseline_2025.toml").read_text()
    assert manifest["scenario_sha256"] == load_scenario("baseline_2025").sha256()
    assert {"mesa", "numpy", "python", "magshock"} <= manifest["versions"].keys()


def test_run_with_overrides_and_agents(tmp_path):
    out = tmp_path / "ban"
    res = runner.invoke(
        app, ["run", "full_ban", "--out", str(out), "--weeks", "20", "--set", "count=2", "--agents"]
    )
    assert res.exit_code == 0, res.output
    agents = pd.read_parquet(out / "agents.parquet")
    assert agents["AgentID"].nunique() == 2 * 7  # two firms in each of seven groups
    assert len(pd.read_parquet(out / "steps.parquet")) == 20


BAD = {
    "unknown_key": (
        'extends = "baseline_2025.toml"\n[market]\nchina_price_usd_per_kgg = 5\n',
        "market.china_price_usd_per_kgg: unknown key; did you mean 'china_price_usd_per_kg'?",
    ),
    "wrong_type": (
        'extends = "baseline_2025.toml"\n[simulation]\nweeks = "many"\n',
        "simulation.weeks: Input should be a valid integer",
    ),
    "out_of_range": (
        'extends = "baseline_2025.toml"\n[irel]\nstrategic_reserve_share = 1.5\n',
        "irel.strategic_reserve_share: Input should be less than or equal to 1 (got 1.5); "
        "allowed range [0, 1]",
    ),
    "negative": (
        'extends = "baseline_2025.toml"\n[[exporters]]\nname = "x"\ncapacity_t_per_week = -1\n',
        "exporters[0].capacity_t_per_week: Input should be greater than or equal to 0",
    ),
    "broken_toml": ('extends = "baseline_2025.toml"\n[market\n', "not valid TOML"),
    "bad_policy": (
        'extends = "baseline_2025.toml"\n[licensing]\nkind = "embargo"\n',
        "unknown licence policy kind 'embargo'",
    ),
    "timeline_order": (
        'extends = "baseline_2025.toml"\n[licensing]\nkind = "timeline"\n'
        '[[licensing.phases]]\nstart_week = 9\npolicy = { kind = "ban" }\n'
        '[[licensing.phases]]\nstart_week = 2\npolicy = { kind = "open" }\n',
        "phases must be in strictly increasing order",
    ),
    "missing_parent": ('extends = "nowhere.toml"\n', "extends: file 'nowhere.toml' not found"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenario_gives_one_line_exit_2_and_writes_nothing(tmp_path, case):
    text, expected = BAD[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(path), "--out", str(out)])
    assert res.exit_code == 2
    message = res.output.strip()
    assert "Traceback" not in message
    assert message.startswith("error:") and str(path) in message.replace("\n", "")
    assert expected in " ".join(message.split())
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_missing_file_and_cyclic_extends(tmp_path):
    res = runner.invoke(app, ["validate", str(tmp_path / "absent.toml")])
    assert res.exit_code == 2 and "scenario file not found" in res.output
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    res = runner.invoke(app, ["validate", str(tmp_path / "a.toml")])
    assert res.exit_code == 2
    assert "cyclic extends chain a.toml -> b.toml -> a.toml" in " ".join(res.output.split())


def test_bad_override_on_the_command_line(tmp_path):
    res = runner.invoke(
        app,
        ["run", "baseline_2025", "--set", "subsidy_usd_per_kgg=3", "--out", str(tmp_path / "o")],
    )
    assert res.exit_code == 2 and "did you mean 'subsidy_usd_per_kg'" in res.output
    res = runner.invoke(
        app, ["run", "baseline_2025", "--set", "novalue", "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2 and "expected KEY=VALUE" in res.output
    assert not (tmp_path / "o").exists()


def test_existing_output_is_kept_unless_overwrite(tmp_path):
    out = tmp_path / "r"
    assert (
        runner.invoke(app, ["run", "no_controls", "--weeks", "5", "--out", str(out)]).exit_code == 0
    )
    before = (out / "manifest.json").read_text()
    res = runner.invoke(app, ["run", "no_controls", "--weeks", "6", "--out", str(out)])
    assert res.exit_code == 2 and "exists" in res.output
    assert (out / "manifest.json").read_text() == before
    res = runner.invoke(
        app, ["run", "no_controls", "--weeks", "6", "--out", str(out), "--overwrite"]
    )
    assert res.exit_code == 0
    assert len(pd.read_parquet(out / "steps.parquet")) == 6


def test_a_crash_while_writing_leaves_no_half_result(tmp_path, monkeypatch):
    scenario = load_scenario("no_controls", weeks=4)
    result = simulate(scenario, rng=1)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(results_mod, "build_manifest", boom)
    with pytest.raises(OSError, match="disk full"):
        results_mod.write_run(tmp_path / "x", scenario, result, 0.1)
    assert list(tmp_path.iterdir()) == []


def test_validate_and_scenarios_commands():
    res = runner.invoke(
        app,
        [
            "validate",
            "experiments/scenarios/full_ban.toml",
            "experiments/scenarios/no_controls.toml",
        ],
    )
    assert res.exit_code == 0 and res.output.count("OK") == 2
    res = runner.invoke(app, ["scenarios"])
    assert res.exit_code == 0
    for name in (
        "baseline_2025",
        "no_controls",
        "full_ban",
        "case_by_case",
        "fast_domestic_rampup",
    ):
        assert name in res.output


@pytest.mark.slow
def test_installed_console_script_reports_errors_without_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'extends = "baseline_2025.toml"\n'
        '[licensing]\nkind = "case_by_case"\naproval_probability = 0.3\n'
    )
    exe = Path(sys.executable).with_name("magshock")
    proc = subprocess.run(
        [str(exe), "run", str(bad), "--out", str(tmp_path / "o")], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert (
        "licensing.aproval_probability: unknown key; did you mean 'approval_probability'?"
        in " ".join(proc.stderr.split())
    )
    assert not (tmp_path / "o").exists()


def test_more_bad_inputs_exit_2_without_traceback(tmp_path):
    binary = tmp_path / "latin1.toml"
    binary.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    res = runner.invoke(app, ["validate", str(binary)])
    assert res.exit_code == 2 and "not a UTF-8 text file" in res.output
    a_file = tmp_path / "afile"
    a_file.write_text("x")
    for out in (a_file, a_file / "sub"):
        res = runner.invoke(app, ["run", "full_ban", "--weeks", "3", "--out", str(out)])
        assert res.exit_code == 2 and "is a file, not a folder" in " ".join(res.output.split())
    res = runner.invoke(
        app, ["run", "full_ban", "--weeks", "3", "--seed", str(2**64), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2 and not (tmp_path / "o").exists()
    res = runner.invoke(
        app,
        ["run", "full_ban", "--set", "planned_vehicles_per_week=inf", "--out", str(tmp_path / "o")],
    )
    assert res.exit_code == 2 and "finite" in res.output
    res = runner.invoke(app, ["validate", ""])
    assert res.exit_code == 2 and "not found" in res.output


def test_viz_refuses_a_bad_scenario_before_serving():
    res = runner.invoke(app, ["viz", "no_such_scenario"])
    assert res.exit_code == 2 and "scenario file not found" in res.output


def _one_error_line(res) -> str:
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    return lines[0]


def test_overwrite_refuses_a_folder_that_is_not_a_magshock_result(tmp_path):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.docx").write_text("years of work")
    res = runner.invoke(
        app, ["run", "no_controls", "--weeks", "3", "--out", str(out), "--overwrite"]
    )
    assert "not a magshock result" in _one_error_line(res)
    assert sorted(p.name for p in out.iterdir()) == ["chapter1.docx"]
    assert (out / "chapter1.docx").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]


def test_overwrite_refuses_a_result_folder_holding_files_magshock_did_not_write(tmp_path):
    out = tmp_path / "r"
    assert (
        runner.invoke(app, ["run", "no_controls", "--weeks", "3", "--out", str(out)]).exit_code == 0
    )
    (out / "notes.txt").write_text("mine")
    res = runner.invoke(
        app, ["run", "no_controls", "--weeks", "4", "--out", str(out), "--overwrite"]
    )
    assert "notes.txt" in _one_error_line(res)
    assert (out / "notes.txt").read_text() == "mine"
    assert len(pd.read_parquet(out / "steps.parquet")) == 3


def test_overwrite_refuses_a_manifest_that_is_not_ours(tmp_path):
    out = tmp_path / "web"
    out.mkdir()
    (out / "manifest.json").write_text('{"name": "my web app", "icons": []}')
    res = runner.invoke(
        app, ["run", "no_controls", "--weeks", "3", "--out", str(out), "--overwrite"]
    )
    assert "not a magshock result" in _one_error_line(res)
    assert (out / "manifest.json").read_text() == '{"name": "my web app", "icons": []}'


def test_parameters_never_overwrites_a_file_it_did_not_write(tmp_path):
    mine = tmp_path / "README.md"
    mine.write_text("# My project\n")
    res = runner.invoke(app, ["parameters", "--out", str(mine)])
    assert "--out" in _one_error_line(res)
    assert mine.read_text() == "# My project\n"
    ours = tmp_path / "PARAMETERS.md"
    assert runner.invoke(app, ["parameters", "--out", str(ours)]).exit_code == 0
    assert runner.invoke(app, ["parameters", "--out", str(ours)]).exit_code == 0
    assert ours.read_text() == Path("docs/PARAMETERS.md").read_text()


def test_a_scenario_named_dot_dot_cannot_write_outside_results(tmp_path, monkeypatch):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    (work / "evil.toml").write_text('extends = "baseline_2025"\nname = "../../x"\n')
    res = runner.invoke(app, ["run", "evil.toml", "--weeks", "2"])
    line = _one_error_line(res)
    assert "evil.toml" in line and "name" in line and "letters, digits" in line
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b", "evil.toml"]


SIDE_EFFECT_MODULE = """
from pathlib import Path
Path(__file__).with_name("IMPORTED").write_text("validate ran code from a scenario file")
class Policy: pass
"""


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["os:system", "magshock_sidefx:Policy", "magshock_sidefx"])
def test_validate_never_imports_what_a_scenario_names(tmp_path, monkeypatch, kind):
    plugin = tmp_path / "plugins"
    plugin.mkdir()
    (plugin / "magshock_sidefx.py").write_text(SIDE_EFFECT_MODULE)
    monkeypatch.syspath_prepend(str(plugin))
    monkeypatch.setenv("PYTHONPATH", str(plugin))
    single = tmp_path / "single.toml"
    single.write_text(f'extends = "baseline_2025"\n[licensing]\nkind = "{kind}"\n')
    phased = tmp_path / "phased.toml"
    phased.write_text(
        'extends = "baseline_2025"\n[licensing]\nkind = "timeline"\n'
        f'[[licensing.phases]]\nstart_week = 0\npolicy = {{ kind = "{kind}" }}\n'
    )
    for path in (single, phased):
        line = _one_error_line(runner.invoke(app, ["validate", str(path)]))
        assert f"unknown licence policy kind '{kind}'" in line
        assert "allowed: " in line and "case_by_case" in line and "timeline" in line
    line = _one_error_line(
        runner.invoke(app, ["run", "baseline_2025", "--set", f"licensing_policy={kind!r}"])
    )
    assert "allowed: " in line
    done = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "validate", str(single)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert not (plugin / "IMPORTED").exists()


ESC = "\x1b"


def _shown_escaped(text: str) -> None:
    assert ESC not in text and "\x07" not in text and "\x9b" not in text, repr(text)
    assert "\\x1b" in text, text


def test_errors_show_control_characters_escaped_on_one_line(tmp_path):
    res = runner.invoke(app, ["run", f"no\npe{ESC}[2J\x9b", "--out", str(tmp_path / "o")])
    line = _one_error_line(res)
    _shown_escaped(line)
    assert "\\n" in line and "\\x9b" in line


def test_run_output_shows_control_characters_escaped(tmp_path):
    spec = tmp_path / "s.toml"
    base = Path("experiments/scenarios/baseline_2025.toml").read_text()
    spec.write_text(base.replace('name = "in-e2w"', 'name = "in-e2w\\u001b[31m\\u0007"', 1))
    out = tmp_path / f"out{ESC}]0;title\x07"
    res = runner.invoke(app, ["run", str(spec), "--weeks", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    _shown_escaped(res.stdout)
    assert "in-e2w\\x1b[31m\\x07: first stop" in res.stdout
    assert "\\x1b]0;title" in res.stdout  # the path, shown escaped (a long line may wrap)


def test_scenario_listing_and_validate_show_control_characters_escaped(tmp_path, monkeypatch):
    library = tmp_path / "library"
    library.mkdir()
    base = Path("experiments/scenarios/no_controls.toml").read_text()
    (library / "ok.toml").write_text(
        'extends = "baseline_2025"\ndescription = "fine\\u001b[2J"\n' + base.split("\n", 1)[0]
    )
    (library / f"bad{ESC}[5m.toml").write_text("name = 1\n")
    monkeypatch.setattr("experiments.cli.SCENARIO_DIR", library)
    res = runner.invoke(app, ["scenarios"])
    assert res.exit_code == 0, res.output
    _shown_escaped(res.stdout)
    good = tmp_path / f"x{ESC}[1m.toml"
    good.write_text('extends = "baseline_2025"\n')
    res = runner.invoke(app, ["validate", str(good)])
    assert res.exit_code == 0, res.output
    _shown_escaped(res.stdout)
