"""`magshock sweep`: same numbers on every backend, nothing lost on a kill, clear errors."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.cli import app
from experiments.design import ExperimentError, load_experiment, run_seed
from experiments.runner import sweep
from simulation import load_scenario, simulate
from simulation.policies import CaseByCase, Decision

pytestmark = pytest.mark.slow  # sweeps in subprocesses, the embedded pool and Dask

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
runner = CliRunner()
VOLATILE = ["wall_time_s", "finished_at"]

SMALL = """
name = "small"
scenario = "baseline_2025"
replications = 2
seed_root = 7
weeks = {weeks}

[factors.policy.levels]
case_by_case = {{ licensing_policy = "case_by_case", approval_probability = 0.5 }}
ban = {{ licensing_policy = "ban" }}
{extra}

[factors.subsidy_usd_per_kg]
values = [10.0, 40.0]
"""


def write_experiment(
    tmp_path: Path, weeks: int = 30, extra: str = "", replications: int = 2
) -> Path:
    path = tmp_path / "small.toml"
    text = SMALL.format(weeks=weeks, extra=extra).replace(
        "replications = 2", f"replications = {replications}"
    )
    path.write_text(text)
    return path


def tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    runs = pd.read_parquet(folder / "runs.parquet").drop(columns=VOLATILE)
    steps = pd.read_parquet(folder / "steps.parquet")
    return runs, steps


def test_design_is_a_full_factorial_with_seeds_from_coordinates(tmp_path):
    design = load_experiment(write_experiment(tmp_path))
    assert len(design.points) == 4 and len(design.runs) == 8
    assert [p.values for p in design.points][:2] == [
        {"policy": "case_by_case", "subsidy_usd_per_kg": 10.0},
        {"policy": "case_by_case", "subsidy_usd_per_kg": 40.0},
    ]
    assert design.scenarios[2].licensing.kind == "ban"
    assert design.scenarios[1].incentive.subsidy_usd_per_kg == 40.0
    # common random numbers: replication r has one seed across all points
    seeds = {(r.point, r.replication): r.seed for r in design.runs}
    assert seeds[(0, 1)] == seeds[(3, 1)] != seeds[(0, 0)]
    assert seeds[(0, 1)] == run_seed(7, 0, 1, common=True)


def test_sampled_ranges_use_lhs_or_sobol_within_bounds(tmp_path):
    path = tmp_path / "sampled.toml"
    path.write_text(
        'name = "s"\nscenario = "baseline_2025"\nsampling = "lhs"\nsamples = 8\n'
        "[factors.approval_probability]\nrange = [0.2, 0.6]\n"
        '[factors.policy.levels]\ncbc = { licensing_policy = "case_by_case" }\n'
    )
    design = load_experiment(path)
    values = sorted(p.values["approval_probability"] for p in design.points)
    assert len(values) == 8 and values[0] >= 0.2 and values[-1] <= 0.6
    # Latin hypercube: exactly one sample in each of the 8 equal strata
    strata = sorted(int((v - 0.2) / 0.05) for v in values)
    assert strata == list(range(8))
    assert {s.licensing.approval_probability for s in design.scenarios} == set(values)
    sobol = path.read_text().replace('sampling = "lhs"', 'sampling = "sobol"')
    path.write_text(sobol)
    assert len(load_experiment(path).points) == 8


def test_sweep_matches_single_runs_and_keeps_what_is_asked(tmp_path):
    design = load_experiment(write_experiment(tmp_path))
    summary = sweep(design, tmp_path / "out", workers=1)
    assert summary.total == 8 and summary.failed == 0
    runs, steps = tables(tmp_path / "out")
    assert list(runs["run_id"]) == list(range(8))
    assert set(steps["run_id"]) == set(range(8)) and len(steps) == 8 * 30
    row = runs.iloc[5]
    direct = simulate(design.scenarios[row["point"]], rng=int(row["seed"]))
    assert row["lost_production_pct__IN"] == pytest.approx(direct.kpis["lost_production_pct__IN"])
    assert not (tmp_path / "out" / "parts").exists()
    manifest = (tmp_path / "out" / "manifest.json").read_text()
    assert (
        '"runs_ok": 8' in manifest
        and '"factors": [\n    "policy",\n    "subsidy_usd_per_kg"' in manifest
    )


def test_one_worker_two_workers_and_dask_give_identical_tables(tmp_path):
    design = load_experiment(write_experiment(tmp_path))
    sweep(design, tmp_path / "w1", workers=1)
    sweep(design, tmp_path / "w2", workers=2)
    sweep(design, tmp_path / "dask", workers=2, scheduler="local")
    runs1, steps1 = tables(tmp_path / "w1")
    for other in ("w2", "dask"):
        runs, steps = tables(tmp_path / other)
        pd.testing.assert_frame_equal(runs1, runs)
        pd.testing.assert_frame_equal(steps1, steps)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sweep_through_a_real_dask_scheduler_and_worker(tmp_path):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = str(BIN / "dask")
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [dask, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        exp = write_experiment(tmp_path)
        res = runner.invoke(
            app,
            [
                "sweep",
                str(exp),
                "--scheduler",
                address,
                "--out",
                str(tmp_path / "d"),
                "--no-report",
            ],
        )
        assert res.exit_code == 0, res.output
        manifest = (tmp_path / "d" / "manifest.json").read_text()
        assert address in manifest
        sweep(load_experiment(exp), tmp_path / "local", workers=1)
        for a, b in zip(tables(tmp_path / "d"), tables(tmp_path / "local"), strict=True):
            pd.testing.assert_frame_equal(a, b)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def sweep_command(exp: Path, folder: Path) -> list[str]:
    """The installed CLI running a 2-worker sweep of ``exp`` into ``folder``."""
    return [
        str(BIN / "magshock"),
        "sweep",
        str(exp),
        "--workers",
        "2",
        "--out",
        str(folder),
        "--no-report",
    ]


def _run_until_parts(cmd: list[str], folder: Path, at_least: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        parts = folder / "parts" / "runs"
        if parts.exists() and len(list(parts.glob("run-*.json"))) >= at_least:
            return proc
        if proc.poll() is not None:
            pytest.fail(f"sweep ended before it could be interrupted: {proc.stderr.read()}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail("sweep made no progress")


def test_a_killed_sweep_resumes_without_redoing_finished_runs(tmp_path):
    exp = write_experiment(tmp_path, weeks=156, replications=12)
    folder = tmp_path / "k"
    cmd = sweep_command(exp, folder)
    proc = _run_until_parts(cmd, folder, at_least=5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = time.time()
    finished = {int(p.stem.split("-")[1]) for p in (folder / "parts" / "runs").glob("run-*.json")}
    assert 5 <= len(finished) < 48
    assert not (folder / "runs.parquet").exists()
    res = subprocess.run([*cmd, "--resume"], cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert f"{len(finished)} resumed" in res.stdout
    runs = pd.read_parquet(folder / "runs.parquet")
    assert sorted(runs["run_id"]) == list(range(48))  # every run exactly once
    before = set(runs.loc[runs["finished_at"] < killed_at, "run_id"])
    assert before == finished  # finished runs were kept, not redone
    clean = tmp_path / "clean"
    sweep(load_experiment(exp), clean, workers=1)
    pd.testing.assert_frame_equal(tables(folder)[0], tables(clean)[0])


def test_sigterm_stops_cleanly_and_keeps_finished_runs(tmp_path):
    exp = write_experiment(tmp_path, weeks=156, replications=12)
    folder = tmp_path / "t"
    cmd = sweep_command(exp, folder)
    proc = _run_until_parts(cmd, folder, at_least=3)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted" in stderr and "--resume" in stderr and "Traceback" not in stderr
    assert len(list((folder / "parts" / "runs").glob("run-*.json"))) >= 3


class _Explode(CaseByCase):
    """A policy that fails mid-run, to check that a failing run does not stop a sweep."""

    kind: Literal["explode_test"] = "explode_test"

    def decide(self, application, week, rng):
        if week >= 5:
            raise RuntimeError("boom in week 5")
        return Decision(application.tonnes, self.validity_weeks)


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    policy = '{ kind = "explode_test", min_delay_working_days = 0 }'
    extra = f"explode = {{ licensing_policy = {policy} }}"
    design = load_experiment(write_experiment(tmp_path, extra=extra))
    summary = sweep(design, tmp_path / "e", workers=1)
    runs = pd.read_parquet(tmp_path / "e" / "runs.parquet")
    failed = runs[runs["status"] == "error"]
    assert summary.failed == len(failed) == 4
    assert set(failed["policy"]) == {"explode"}
    assert failed["error"].str.contains("boom in week 5").all()
    assert failed["seed"].notna().all() and failed["lost_production_pct__IN"].isna().all()
    assert (runs[runs["status"] == "ok"]["policy"] != "explode").all()


BAD = {
    "unknown key": (
        'name = "x"\nscenario = "baseline_2025"\nreplication = 3\n',
        "replication: unknown key; did you mean 'replications'?",
    ),
    "bad level": (
        'name = "x"\nscenario = "baseline_2025"\n[factors.policy.levels]\n'
        'bad = { approval_probability = 2.0, licensing_policy = "case_by_case" }\n',
        "factors (policy='bad')",
    ),
    "range on a grid": (
        'name = "x"\nscenario = "baseline_2025"\n[factors.subsidy_usd_per_kg]\nrange = [0, 50]\n',
        "set sampling = 'lhs' or 'sobol'",
    ),
    "unknown parameter": (
        'name = "x"\nscenario = "baseline_2025"\n[factors.subsidy_per_kg]\nvalues = [1, 2]\n',
        "did you mean 'subsidy_usd_per_kg'",
    ),
    "missing scenario": (
        'name = "x"\nscenario = "nowhere.toml"\n',
        "scenario: file 'nowhere.toml' not found",
    ),
    "heatmap factor": (
        'name = "x"\nscenario = "baseline_2025"\n[report]\nheatmap_rows = "policy"\n',
        "is not a factor",
    ),
    "broken toml": ('name = "x"\nscenario = \n', "not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_experiment_file_gives_one_line_and_exit_2(tmp_path, case):
    text, expected = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ExperimentError):
        load_experiment(path)
    res = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "Traceback" not in res.output and res.output.startswith("error:")
    assert expected in " ".join(res.output.split())
    assert not (tmp_path / "o").exists()


def test_resume_refuses_a_changed_experiment_and_new_sweep_refuses_a_used_folder(tmp_path):
    exp = write_experiment(tmp_path)
    out = tmp_path / "r"
    first = runner.invoke(
        app, ["sweep", str(exp), "--workers", "1", "--out", str(out), "--no-report"]
    )
    assert first.exit_code == 0
    assert "[sweep] 8/8 runs (100%)" in first.output  # plain progress lines when not a terminal
    res = runner.invoke(app, ["sweep", str(exp), "--workers", "1", "--out", str(out)])
    assert res.exit_code == 2 and "exists" in res.output
    res = runner.invoke(app, ["sweep", str(exp), "--resume", "--out", str(out), "--no-report"])
    assert res.exit_code == 0 and "8 resumed" in res.output  # already complete: nothing redone
    assert "[sweep]" not in res.output  # no progress lines when there is nothing to run
    exp.write_text(exp.read_text().replace("seed_root = 7", "seed_root = 8"))
    res = runner.invoke(app, ["sweep", str(exp), "--resume", "--out", str(out)])
    assert res.exit_code == 2 and "changed since this sweep started" in res.output


def test_quick_caps_replications(tmp_path):
    design = load_experiment(REPO / "experiments" / "policy_vs_rampup.toml", quick=True)
    full = load_experiment(REPO / "experiments" / "policy_vs_rampup.toml")
    assert design.experiment.replications == 3 and full.experiment.replications >= 20
    assert len(full.points) >= 20  # >= 5 policies x 4 ramp-up settings
    policies = {p.values["policy"] for p in full.points}
    rampups = {p.values["rampup"] for p in full.points}
    assert len(policies) >= 5 and len(rampups) >= 4


def test_headline_levels_are_valid_and_distinct():
    design = load_experiment(REPO / "experiments" / "policy_vs_rampup.toml", quick=True)
    hashes = [s.sha256() for s in design.scenarios]
    assert len(set(hashes)) == len(hashes)
    ban = next(
        s
        for s, p in zip(design.scenarios, design.points, strict=True)
        if p.values["policy"] == "ban"
    )
    assert ban.licensing.kind == "ban"
    assert np.isclose(load_scenario("baseline_2025").incentive.subsidy_usd_per_kg, 25.0)


@pytest.mark.parametrize("name", ["../../x", "ABSOLUTE", "..", "a/b"])
def test_experiment_and_sweep_names_stay_under_results(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    if name == "ABSOLUTE":
        name = str(tmp_path / "elsewhere")
    exp = write_experiment(tmp_path)
    res = runner.invoke(app, ["sweep", str(exp), "--workers", "1", "--name", name])
    assert res.exit_code == 2 and "--name" in res.stderr and "letters, digits" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    bad = tmp_path / "bad.toml"
    bad.write_text(exp.read_text().replace('name = "small"', f"name = {json.dumps(name)}"))
    with pytest.raises(ExperimentError, match=r"name: .*letters, digits"):
        load_experiment(bad)
    res = runner.invoke(app, ["sweep", str(bad), "--workers", "1"])
    assert res.exit_code == 2 and "letters, digits" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "small.toml"]


def test_sweep_progress_shows_control_characters_in_the_folder_escaped(tmp_path):
    exp = write_experiment(tmp_path, weeks=4, replications=1)
    out = tmp_path / "out\x1b[2J"
    res = runner.invoke(app, ["sweep", str(exp), "--workers", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.stdout and "out\\x1b[2J" in res.stdout
