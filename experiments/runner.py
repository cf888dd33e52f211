"""The batch runner: runs a design on an executor, keeps every finished run, resumes, consolidates.

One function, :func:`run_many`, serves every backend: it takes any
``concurrent.futures.Executor`` (the embedded :class:`~concurrent.futures.ProcessPoolExecutor`,
or a Dask cluster through ``Client.get_executor()``) or ``None`` for in-process execution.
Each run is a pure function of (scenario, seed) computed by :func:`execute_chunk` in a worker,
which returns compact tables, never the model. The parent writes each finished run at once
(atomic rename) under ``parts/``, so a killed sweep resumes where it stopped; at the end the
parts are consolidated (streaming, so memory does not grow with the number of runs) into
``runs.parquet`` and ``steps.parquet``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.atomic import remove_stale_temporaries, write_bytes_atomic
from experiments.design import Design
from experiments.results import git_commit, package_versions
from simulation.run import simulate
from simulation.scenario import Scenario

TARGET_CHUNK_SECONDS = 0.5  # workers pay ~0.9 s to start; keep tasks at least this long
IN_FLIGHT_PER_WORKER = 3  # chunks queued per worker (bounded: memory and Ctrl-C latency)
CONNECT_TIMEOUT_S = 20  # to reach a remote Dask scheduler
PARENT_POLL_S = 0.5  # how often a worker checks that the sweep that started it still runs
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")


class SweepError(ValueError):
    """A user mistake about a sweep folder (exists, cannot resume, changed experiment)."""


class SweepInterrupted(Exception):
    """Ctrl-C or SIGTERM stopped the sweep; every finished run was kept."""


@dataclass
class RunTask:
    """Everything a worker needs for one run (picklable)."""

    run_id: int
    seed: int
    scenario: Scenario
    keep_steps: bool
    keep_agents: bool


@dataclass
class RunOutput:
    """What a worker sends back for one run."""

    run_id: int
    status: str
    error: str | None
    wall_time_s: float
    kpis: dict[str, float]
    steps: bytes | None  # Parquet, made in the worker so the parent only writes bytes
    agents: bytes | None


def parquet_bytes(frame: pd.DataFrame, run_id: int) -> bytes:
    """A run's table as Parquet bytes with a leading ``run_id`` column and no pandas metadata."""
    frame = frame.copy()
    frame.insert(0, "run_id", run_id)
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def warm_up() -> bool:
    """Import the model in a fresh worker (so the first real chunk does not pay for it)."""
    return simulate is not None


def execute_chunk(tasks: list[RunTask]) -> list[RunOutput]:
    """Run tasks one after another; a run that raises (or calls ``sys.exit``) is reported."""
    outputs = []
    for task in tasks:
        start = time.perf_counter()
        try:
            result = simulate(
                task.scenario,
                rng=task.seed,
                collect_agent_data=task.keep_agents,
                keep_steps=task.keep_steps,
            )
            outputs.append(
                RunOutput(
                    task.run_id,
                    "ok",
                    None,
                    time.perf_counter() - start,
                    result.kpis,
                    parquet_bytes(result.steps, task.run_id) if task.keep_steps else None,
                    parquet_bytes(result.agents, task.run_id) if task.keep_agents else None,
                )
            )
        except (Exception, SystemExit) as err:
            text = "".join(traceback.format_exception_only(type(err), err)).strip()
            outputs.append(
                RunOutput(task.run_id, "error", text, time.perf_counter() - start, {}, None, None)
            )
    return outputs


def chunked(tasks: list[RunTask], size: int) -> Iterator[list[RunTask]]:
    """Consecutive chunks of ``size`` tasks."""
    for i in range(0, len(tasks), size):
        yield tasks[i : i + size]


def run_many(
    tasks: list[RunTask],
    executor: Executor | None,
    on_output: Callable[[RunOutput], None],
    chunk_size: int = 1,
    max_in_flight: int = 8,
) -> None:
    """Run ``tasks`` on ``executor`` (None = here), calling ``on_output`` as each run finishes.

    At most ``max_in_flight`` chunks are queued at once. Raises :class:`SweepInterrupted` on
    Ctrl-C / SIGTERM after cancelling what has not started.
    """
    if executor is None:
        try:
            for chunk in chunked(tasks, chunk_size):
                for output in execute_chunk(chunk):
                    on_output(output)
        except KeyboardInterrupt:
            raise SweepInterrupted from None
        return
    pending: set[Future] = set()
    chunks = chunked(tasks, chunk_size)
    try:
        for chunk in chunks:
            pending.add(executor.submit(execute_chunk, chunk))
            if len(pending) >= max_in_flight:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    for output in future.result():
                        on_output(output)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                for output in future.result():
                    on_output(output)
    except KeyboardInterrupt:
        for future in pending:
            future.cancel()
        raise SweepInterrupted from None


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while the sweep runs (main thread only)."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def check_scheduler(address: str | None) -> None:
    """Refuse a malformed Dask scheduler address before anything is written.

    Raises:
        SweepError: naming ``--scheduler`` and the accepted forms.
    """
    if address is None or address == "local":
        return
    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError:
        port = None
    if (
        parts.scheme not in SCHEDULER_SCHEMES
        or not parts.hostname
        or not port
        or parts.path not in ("", "/")
    ):
        raise SweepError(
            f"--scheduler {address!r}: expected tcp://HOST:PORT (port 1-65535) or 'local'"
        )


@contextmanager
def open_executor(workers: int, scheduler: str | None = None) -> Iterator[Executor | None]:
    """The executor for a backend: embedded processes, a Dask cluster, or None (in-process).

    Args:
        workers: local worker processes (embedded backend); 1 runs in this process.
        scheduler: a Dask scheduler address (``tcp://host:8786``) or ``"local"`` for an
            embedded Dask ``LocalCluster`` with ``workers`` workers.
    """
    check_scheduler(scheduler)
    if scheduler is not None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise SweepError(
                "the Dask backend needs the 'dask' extra: pip install 'magshock[dask]'"
            ) from None
        if scheduler == "local":
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = Client(cluster)
        else:
            cluster = None
            try:
                client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
            except (OSError, TimeoutError) as err:
                raise SweepError(
                    f"cannot reach Dask scheduler {scheduler} ({err}); start it, or check "
                    "--scheduler, or leave --scheduler out to run on local --workers"
                ) from None
        try:
            yield client.get_executor(pure=False)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        return
    if workers <= 1:
        yield None
        return
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_init_worker,
        initargs=(os.getpid(),),
    ) as pool:
        yield pool


def _init_worker(parent_pid: int) -> None:
    """Leave Ctrl-C to the parent (it stops the sweep and keeps what finished); die with it.

    A worker whose parent was killed (SIGKILL, OOM killer) would otherwise wait forever on
    its task queue: a thread checks every ``PARENT_POLL_S`` that the parent still runs.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()


def _exit_with_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


def choose_chunk_size(seconds_per_run: float, n_tasks: int, workers: int) -> int:
    """Runs per chunk: about TARGET_CHUNK_SECONDS of work, but enough chunks to share out."""
    by_time = max(1, round(TARGET_CHUNK_SECONDS / max(seconds_per_run, 1e-6)))
    by_balance = max(1, math.ceil(n_tasks / (max(workers, 1) * 4)))
    return max(1, min(by_time, by_balance))


# ---------------------------------------------------------------------- the sweep folder


class SweepFolder:
    """The on-disk state of one sweep: design, finished parts, final tables, manifest."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.parts = self.path / "parts"

    @property
    def state_file(self) -> Path:
        """``sweep.json``: the experiment (verbatim and hashed) and when it started."""
        return self.path / "sweep.json"

    def check_new(self) -> None:
        """Refuse to start a sweep in a folder that already holds one (or anything else)."""
        if self.state_file.exists() or (self.path.exists() and any(self.path.iterdir())):
            raise SweepError(f"{self.path}: folder already holds a sweep (use --resume or --name)")

    def create(self, design: Design, quick: bool) -> None:
        """Start a new sweep folder (refuses a folder that already holds a sweep)."""
        self.check_new()
        for kind in ("runs", "steps", "agents"):
            (self.parts / kind).mkdir(parents=True, exist_ok=True)
        state = {
            "experiment_path": str(design.path),
            "experiment_sha256": design.sha256,
            "experiment_text": design.text,
            "quick": quick,
            "sampling": design.experiment.sampling,
            "started": datetime.now(UTC).isoformat(),
        }
        write_bytes_atomic(self.state_file, json.dumps(state, indent=2).encode())
        _write_table_atomic(self.path / "design.parquet", pd.DataFrame(design.table()))

    def check_resumable(self, design: Design, quick: bool) -> None:
        """Refuse to resume with a different experiment file or quick setting."""
        if not self.state_file.exists():
            raise SweepError(f"{self.path}: no sweep to resume here")
        state = json.loads(self.state_file.read_text())
        same_design = (
            state.get("sampling", design.experiment.sampling) == design.experiment.sampling
        )
        if (
            state["experiment_sha256"] != design.sha256
            or state.get("quick") != quick
            or not same_design
        ):
            raise SweepError(
                f"{self.path}: the experiment file (or --quick) changed since this sweep started; "
                "start a new sweep instead of resuming"
            )

    def finished_ids(self) -> set[int]:
        """Run ids with a complete part on disk (parts are written atomically)."""
        return {int(p.stem.split("-")[1]) for p in (self.parts / "runs").glob("run-*.json")}

    def save(self, output: RunOutput, design: Design) -> None:
        """Write one finished run: its steps/agents if kept, then its KPI row (marks it done)."""
        spec = design.runs[output.run_id]
        row = {
            "run_id": spec.run_id,
            "point": spec.point,
            "replication": spec.replication,
            "seed": spec.seed,
            "status": output.status,
            "error": output.error,
            "wall_time_s": output.wall_time_s,
            "finished_at": time.time(),
            **design.points[spec.point].values,
            **output.kpis,
        }
        name = f"run-{output.run_id:08d}"
        if output.steps is not None:
            write_bytes_atomic(self.parts / "steps" / f"{name}.parquet", output.steps)
        if output.agents is not None:
            write_bytes_atomic(self.parts / "agents" / f"{name}.parquet", output.agents)
        write_bytes_atomic(self.parts / "runs" / f"{name}.json", json.dumps(row).encode())

    def consolidate(self) -> pd.DataFrame:
        """Merge the parts into runs.parquet / steps.parquet / agents.parquet (streaming)."""
        run_files = sorted((self.parts / "runs").glob("run-*.json"))
        runs = pd.DataFrame([json.loads(p.read_text()) for p in run_files])
        runs = runs.sort_values("run_id", kind="stable").reset_index(drop=True)
        _write_table_atomic(self.path / "runs.parquet", runs)
        for kind in ("steps", "agents"):
            files = sorted((self.parts / kind).glob("run-*.parquet"))
            if files:
                _concat_parquet_streaming(files, self.path / f"{kind}.parquet")
        return runs

    def finish(self, manifest: dict[str, Any]) -> None:
        """Write the manifest and drop the parts (the final tables now hold everything)."""
        write_bytes_atomic(
            self.path / "manifest.json", json.dumps(manifest, indent=2, default=str).encode()
        )
        shutil.rmtree(self.parts, ignore_errors=True)


def _write_table_atomic(path: Path, frame: pd.DataFrame) -> None:
    write_bytes_atomic(path, frame.to_parquet(index=False))


RUNS_PER_ROW_GROUP = 64  # one row group per run would keep 1,000s of footers in memory


def _concat_parquet_streaming(files: list[Path], target: Path) -> None:
    """Append many Parquet files into one, ``RUNS_PER_ROW_GROUP`` files in memory at a time."""
    schema = pq.read_schema(files[0])
    for file in files[1:]:
        other = pq.read_schema(file)
        if not other.equals(schema):
            schema = pa.unify_schemas([schema, other], promote_options="permissive")
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    with pq.ParquetWriter(tmp, schema) as writer:
        for start in range(0, len(files), RUNS_PER_ROW_GROUP):
            tables = [
                _aligned(pq.read_table(f), schema)
                for f in files[start : start + RUNS_PER_ROW_GROUP]
            ]
            writer.write_table(pa.concat_tables(tables), row_group_size=1 << 30)
    os.replace(tmp, target)


def _aligned(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The table with the schema's columns, in order, cast; missing ones as nulls."""
    if table.schema.equals(schema):
        return table
    columns = [
        table.column(name).cast(schema.field(name).type)
        if name in table.column_names
        else pa.nulls(table.num_rows, schema.field(name).type)
        for name in schema.names
    ]
    return pa.Table.from_arrays(columns, schema=schema)


# ---------------------------------------------------------------------- the whole sweep


@dataclass
class SweepSummary:
    """What a finished (or resumed) sweep did."""

    folder: Path
    total: int
    ran_now: int
    skipped: int
    failed: int
    wall_time_s: float


def sweep(
    design: Design,
    folder: Path,
    workers: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    quick: bool = False,
    progress: Callable[[int, int, int], None] | None = None,
) -> SweepSummary:
    """Run every run of ``design`` not yet finished in ``folder``; consolidate at the end.

    Args:
        design: the expanded experiment.
        folder: the sweep folder (created unless resuming).
        workers: local worker processes, or Dask LocalCluster workers with scheduler="local".
        scheduler: Dask scheduler address (or "local"); None = embedded processes.
        resume: continue a sweep in ``folder``, skipping finished runs.
        quick: recorded so that a resume uses the same reduced design.
        progress: called as progress(done, total, failed) after each finished run.

    Raises:
        SweepError: folder/experiment mismatch; SweepInterrupted: Ctrl-C/SIGTERM (finished runs
        are kept; resume later).
    """
    sweep_folder = SweepFolder(folder)
    total = len(design.runs)
    if resume:
        sweep_folder.check_resumable(design, quick)
        remove_stale_temporaries(sweep_folder.path)  # left by a killed save or merge
        if (sweep_folder.path / "manifest.json").exists():  # already complete: nothing to redo
            runs = pd.read_parquet(sweep_folder.path / "runs.parquet", columns=["status"])
            return SweepSummary(folder, total, 0, total, int((runs["status"] != "ok").sum()), 0.0)
    else:
        sweep_folder.check_new()
    done_before = sweep_folder.finished_ids()
    keep = design.experiment.outputs
    tasks = [
        RunTask(r.run_id, r.seed, design.scenarios[r.point], keep.steps, keep.agents)
        for r in design.runs
        if r.run_id not in done_before
    ]
    counts = {"done": len(done_before), "failed": 0}

    def on_output(output: RunOutput) -> None:
        sweep_folder.save(output, design)
        counts["done"] += 1
        counts["failed"] += output.status != "ok"
        if progress is not None:
            progress(counts["done"], total, counts["failed"])

    start = time.perf_counter()
    backend = open_executor(workers if len(tasks) > 1 else 1, scheduler) if tasks else nullcontext()
    with terminate_as_interrupt(), backend as executor:
        # Made only once the backend is up: an unreachable scheduler leaves no folder behind.
        if resume:
            for kind in ("runs", "steps", "agents"):
                (sweep_folder.parts / kind).mkdir(parents=True, exist_ok=True)
        else:
            sweep_folder.create(design, quick)
        if tasks:
            if executor is not None:  # workers start while the first run goes here
                for _ in range(max(1, workers)):
                    executor.submit(warm_up)
            # The first run goes here: it measures a run's cost to size the chunks.
            first, rest = tasks[0], tasks[1:]
            (output,) = execute_chunk([first])
            on_output(output)
            if rest:
                size = choose_chunk_size(output.wall_time_s, len(rest), workers)
                run_many(
                    rest,
                    executor,
                    on_output,
                    chunk_size=size,
                    max_in_flight=max(1, workers) * IN_FLIGHT_PER_WORKER,
                )
    wall = time.perf_counter() - start
    runs = sweep_folder.consolidate()
    failed = int((runs["status"] != "ok").sum())
    manifest = build_sweep_manifest(design, runs, workers, scheduler, wall, quick)
    sweep_folder.finish(manifest)
    return SweepSummary(folder, total, len(tasks), len(done_before), failed, wall)


def build_sweep_manifest(
    design: Design,
    runs: pd.DataFrame,
    workers: int,
    scheduler: str | None,
    wall_time_s: float,
    quick: bool,
) -> dict[str, Any]:
    """Inputs verbatim and hashed, versions, seeds rule, timing: enough to cite and re-run."""
    exp = design.experiment
    return {
        "experiment_name": exp.name,
        "experiment_path": str(design.path),
        "experiment_sha256": design.sha256,
        "experiment_text": design.text,
        "quick": quick,
        "sampling": exp.sampling,
        "scenario_files": [
            {"path": p, "sha256": _sha(t), "text": t} for p, t in design.base_sources
        ],
        "scenario_sha256_by_point": [s.sha256() for s in design.scenarios],
        "factors": list(exp.factors),
        "report": exp.report.model_dump(),
        "points": len(design.points),
        "replications": exp.replications,
        "runs": len(design.runs),
        "runs_ok": int((runs["status"] == "ok").sum()),
        "runs_failed": int((runs["status"] != "ok").sum()),
        "seed_root": exp.seed_root,
        "seed_rule": "SeedSequence(seed_root, spawn_key=(replication,) if common_random_numbers "
        "else (point, replication)).generate_state(1, uint64)[0] >> 1; per-run seeds in "
        "runs.parquet",
        "common_random_numbers": exp.common_random_numbers,
        "backend": scheduler or ("embedded" if workers > 1 else "in-process"),
        "workers": workers,
        "wall_time_s_last_session": round(wall_time_s, 3),
        "finished": datetime.now(UTC).isoformat(),
        "git_commit": git_commit(),
        "versions": package_versions(),
    }


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()
