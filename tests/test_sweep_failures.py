"""A sweep when things go wrong: full disks, dead workers, bad schedulers, a killed parent."""

from __future__ import annotations

import contextlib
import errno
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal

import psutil
import pytest
from typer.testing import CliRunner

from experiments import report as report_mod
from experiments import runner as runner_mod
from experiments.cli import app
from simulation.policies import CaseByCase, Decision

pytestmark = pytest.mark.slow  # sweeps in subprocesses (kills, full disks, resumes)

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
runner = CliRunner()

EXPERIMENT = """
name = "small"
scenario = "baseline_2025"
replications = {replications}
seed_root = 7
weeks = {weeks}

[factors.policy.levels]
case_by_case = {{ licensing_policy = "case_by_case", approval_probability = 0.5 }}
ban = {{ licensing_policy = "ban" }}
{extra}
"""


def experiment(tmp_path: Path, weeks: int = 5, replications: int = 2, extra: str = "") -> Path:
    path = tmp_path / "small.toml"
    path.write_text(EXPERIMENT.format(weeks=weeks, replications=replications, extra=extra))
    return path


def one_error_line(res, *expected: str) -> str:
    """The single stderr line of a failed command (exit 2), checked for ``expected`` texts."""
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def sweep_args(exp: Path, out: Path, *more: str) -> list[str]:
    return ["sweep", str(exp), "--workers", "1", "--no-report", "--out", str(out), *more]


# ---------------------------------------------------------------------- full or read-only disk


def test_a_full_disk_during_a_sweep_gives_one_line_and_resume_works(tmp_path, monkeypatch):
    exp = experiment(tmp_path)
    out = tmp_path / "s"
    real = runner_mod.write_bytes_atomic

    def full_disk(path: Path, data: bytes) -> None:
        if "parts" in path.parts and "run-00000002" in path.name:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, data)

    monkeypatch.setattr(runner_mod, "write_bytes_atomic", full_disk)
    res = runner.invoke(app, sweep_args(exp, out))
    line = one_error_line(res, "No space left on device", "--resume --out")
    assert "Traceback" not in res.output
    monkeypatch.setattr(runner_mod, "write_bytes_atomic", real)
    hinted = line.split("continue with: magshock ")[1].split()
    res = runner.invoke(app, [*hinted, "--workers", "1", "--no-report"])
    assert res.exit_code == 0, res.output
    assert "2 resumed" in res.output


def test_a_read_only_report_folder_gives_one_line(tmp_path, monkeypatch):
    exp = experiment(tmp_path)
    out = tmp_path / "s"
    assert runner.invoke(app, sweep_args(exp, out)).exit_code == 0

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(out / "report"))

    monkeypatch.setattr(report_mod, "atomic_directory", read_only)
    one_error_line(runner.invoke(app, ["report", str(out)]), "Read-only file system")


def test_parameters_and_sweep_under_a_regular_file_give_one_line(tmp_path):
    a_file = tmp_path / "afile"
    a_file.write_text("x")
    res = runner.invoke(app, ["parameters", "--out", str(a_file / "sub" / "P.md")])
    one_error_line(res)
    assert a_file.read_text() == "x"
    res = runner.invoke(app, ["parameters", "--out", "/proc/magshock/P.md"])
    one_error_line(res, "/proc/magshock")


# ---------------------------------------------------------------------- a run that exits


class _Exits(CaseByCase):
    """A policy that calls ``sys.exit`` in week 2: a run like any other failing run."""

    kind: Literal["sys_exit_test"] = "sys_exit_test"

    def decide(self, application, week, rng):
        if week >= 2:
            sys.exit(3)
        return Decision(application.tonnes, self.validity_weeks)


class _KillsItsWorker(CaseByCase):
    """A policy that ends its worker process abruptly (as SIGKILL or the OOM killer would)."""

    kind: Literal["kill_worker_test"] = "kill_worker_test"

    def decide(self, application, week, rng):
        if multiprocessing.parent_process() is not None:  # never in the sweep's own process
            os._exit(9)
        return Decision(application.tonnes, self.validity_weeks)


def test_a_run_that_calls_sys_exit_is_recorded_as_failed(tmp_path):
    policy = '{ kind = "sys_exit_test", min_delay_working_days = 0 }'
    exp = experiment(tmp_path, extra=f"exits = {{ licensing_policy = {policy} }}")
    out = tmp_path / "s"
    res = runner.invoke(app, sweep_args(exp, out))
    assert res.exit_code == 0, res.output
    assert "2 failed" in res.output
    import pandas as pd

    runs = pd.read_parquet(out / "runs.parquet")
    failed = runs[runs["status"] == "error"]
    assert set(failed["policy"]) == {"exits"} and failed["error"].str.contains("SystemExit").all()


def test_a_dead_worker_gives_one_line_and_a_resume_hint(tmp_path):
    policy = '{ kind = "kill_worker_test", min_delay_working_days = 0 }'
    exp = experiment(tmp_path, replications=1, extra=f"die = {{ licensing_policy = {policy} }}")
    out = tmp_path / "s"
    res = runner.invoke(
        app, ["sweep", str(exp), "--workers", "2", "--no-report", "--out", str(out)]
    )
    one_error_line(res, "worker process died", f"--resume --out {out}")
    assert "Traceback" not in res.output


# ---------------------------------------------------------------------- schedulers


@pytest.mark.parametrize("address", ["foo", "tcp://:x", "tcp://host:99999", "tcp://:8786"])
def test_a_malformed_scheduler_is_refused_before_anything_is_written(tmp_path, address):
    out = tmp_path / "s"
    res = runner.invoke(app, [*sweep_args(experiment(tmp_path), out), "--scheduler", address])
    one_error_line(res, "--scheduler", "tcp://HOST:PORT")
    assert not out.exists()


def test_an_unreachable_scheduler_leaves_no_folder_and_hints_real_options(tmp_path, monkeypatch):
    monkeypatch.setattr(runner_mod, "CONNECT_TIMEOUT_S", 1)
    out = tmp_path / "s"
    args = [*sweep_args(experiment(tmp_path), out), "--scheduler", "tcp://127.0.0.1:1"]
    line = one_error_line(runner.invoke(app, args), "cannot reach Dask scheduler")
    assert not out.exists()
    options = set(re.findall(r"--[a-z-]+", runner.invoke(app, ["sweep", "--help"]).output))
    hinted = set(re.findall(r"--[a-z-]+", line))
    assert hinted and hinted <= options


# ---------------------------------------------------------------------- a killed parent


def test_workers_exit_when_the_sweep_parent_is_killed(tmp_path):
    exp = experiment(tmp_path, weeks=104, replications=20)
    folder = tmp_path / "k"
    cmd = [str(BIN / "magshock"), *sweep_args(exp, folder)]
    cmd[cmd.index("--workers") + 1] = "2"
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parent = psutil.Process(proc.pid)
    workers: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            parts = folder / "parts" / "runs"
            if parts.exists() and len(list(parts.glob("run-*.json"))) >= 3:
                workers = parent.children(recursive=True)
                break
            time.sleep(0.05)
        assert len(workers) >= 2, "the sweep never started its workers"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        _, alive = psutil.wait_procs(workers, timeout=15)
        assert not alive, f"orphaned workers: {[p.pid for p in alive]}"
    finally:
        for p in [parent, *workers]:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()


def test_resume_and_report_remove_only_stale_temporaries(tmp_path):
    exp = experiment(tmp_path)
    out = tmp_path / "s"
    assert runner.invoke(app, sweep_args(exp, out)).exit_code == 0
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = [
        out / f".runs.parquet.tmp-{dead.pid}",
        out / f".steps.parquet.tmp-{dead.pid}-0123abcd",
    ]
    stale_dir = out / f".report.tmp-{dead.pid}-89abcdef"
    kept = [out / ".notes.tmp", out / f".runs.parquet.tmp-{os.getpid()}", out / "user.tmp-1"]
    for path in (*stale, *kept):
        path.write_text("x")
    stale_dir.mkdir()
    (stale_dir / "summary.csv").write_text("x")
    res = runner.invoke(app, sweep_args(exp, out, "--resume"))
    assert res.exit_code == 0, res.output
    assert not any(p.exists() for p in (*stale, stale_dir))
    assert all(p.exists() for p in kept)
    stale_dir.mkdir()
    assert runner.invoke(app, ["report", str(out)]).exit_code == 0
    assert not stale_dir.exists() and all(p.exists() for p in kept)
