"""The ``magshock`` command line: run a scenario, validate files, list the scenario library."""

from __future__ import annotations

import math
import os
import re
import time
import tomllib
from concurrent.futures import BrokenExecutor
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from experiments.atomic import OutputExistsError, check_replaceable
from experiments.results import write_run
from simulation.errors import ScenarioError, allowed_range
from simulation.run import simulate
from simulation.scenario import Scenario, SimulationConfig, check_name
from simulation.scenario_io import SCENARIO_DIR, load_scenario, parse_toml


class _Commands(typer.core.TyperGroup):
    """The command group: a failing disk or folder gives one error line, not a traceback."""

    def invoke(self, ctx: typer.Context) -> Any:
        """Run the command; report an uncaught ``OSError`` in one line (exit 2)."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise
        except OSError as err:
            where = f"{err.filename}: " if err.filename else ""
            fail(f"{where}{err.strerror or err}")


app = typer.Typer(
    cls=_Commands,
    help="magshock: agent-based model of the 2025 rare-earth magnet export controls.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 but tab and newline, DEL, C1
_CONTROL_OR_NEWLINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def shown(text: str, one_line: bool = False) -> str:
    r"""User text made safe for a terminal: control characters as visible escapes (``\x1b``).

    File names, scenario labels and error text may hold ESC or other C0/C1 characters, which
    a terminal would obey (clear the screen, retitle the window, hide text). Tabs and newlines
    are kept unless ``one_line``.
    """
    pattern = _CONTROL_OR_NEWLINE if one_line else _CONTROL
    return pattern.sub(lambda m: repr(m.group())[1:-1], text)


class SafeConsole(Console):
    """A rich console that shows control characters in printed strings escaped, never raw."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        """Render ``text`` as rich does, after :func:`shown`."""
        return super().render_str(shown(text), **kwargs)


# Markup is opt-in: scenario names, paths and messages are user text and may contain "[...]".
console = SafeConsole(markup=False)
err_console = SafeConsole(stderr=True, markup=False)

EXIT_USER_ERROR = 2


def fail(message: str) -> None:
    """Print one error line and exit with code 2 (a user mistake, not a crash)."""
    err_console.print(
        f"[bold red]error:[/] {escape(shown(message, one_line=True))}",
        markup=True,
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(EXIT_USER_ERROR)


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """Turn ``["key=value", ...]`` into overrides; values are read as TOML (else as text)."""
    overrides: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            fail(f"--set {item!r}: expected KEY=VALUE, e.g. --set approval_probability=0.3")
        try:
            value = parse_toml(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        except ScenarioError as err:
            fail(f"--set {key.strip()}: {err}")
        overrides[key.strip()] = value
    return overrides


def check_output_folder(out: Path, overwrite: bool) -> None:
    """Refuse, before any work, an output path that is a file, sits under a file, or is taken.

    With ``overwrite`` only a folder magshock wrote may be replaced (see
    :func:`experiments.atomic.check_replaceable`).
    """
    for parent in (out, *out.parents):
        if parent.exists() and not parent.is_dir():
            fail(f"{out}: {parent} is a file, not a folder")
    try:
        check_replaceable(out, overwrite)
    except OutputExistsError as err:
        fail(str(err))


def _load(path: str, overrides: dict[str, Any] | None = None) -> Scenario:
    try:
        return load_scenario(path, **(overrides or {}))
    except ScenarioError as err:
        fail(str(err))
        raise  # unreachable: fail() exits


def _check_seed(seed: int) -> None:
    """Refuse a ``--seed`` outside the range the scenario schema allows for seeds."""
    try:
        SimulationConfig(seed=seed)
    except ValidationError as err:
        bounds = allowed_range(SimulationConfig.model_fields["seed"])
        fail(f"--seed {seed}: {err.errors()[0]['msg']}{bounds}")


def _fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.1f}" if abs(value) < 1e6 else f"{value:,.0f}"


def kpi_table(scenario: Scenario, kpis: dict[str, float]) -> Table:
    """The short KPI table printed after a run."""
    table = Table(title=f"{scenario.name}: run KPIs", show_header=True)
    table.add_column("KPI")
    table.add_column("value", justify="right")
    countries = sorted({o.country for o in scenario.oems})
    for c in countries:
        table.add_row(f"lost production {c} (% of plan)", _fmt(kpis[f"lost_production_pct__{c}"]))
    for c in countries:
        table.add_row(f"weeks to first line stop {c}", _fmt(kpis[f"weeks_to_first_stoppage__{c}"]))
    for o in scenario.oems:
        key = f"{o.country}__{o.name}"
        table.add_row(
            f"  {o.name}: first stop / weeks to recover",
            f"{_fmt(kpis[f'weeks_to_first_stoppage__{key}'])} / "
            f"{_fmt(kpis[f'weeks_to_recover__{key}'])}",
        )
    table.add_row("licences issued", _fmt(kpis["licences_issued"]))
    table.add_row(
        "domestic share of Indian supply at horizon (%)",
        _fmt(100 * kpis["domestic_share_at_horizon"]),
    )
    table.add_row("scheme spending (USD m)", _fmt(kpis["subsidy_spent_usd"] / 1e6))
    table.add_row("peak price index (pre-shock China = 1)", f"{kpis['peak_price_index']:.2f}")
    return table


@app.command()
def run(
    scenario: Annotated[
        str, typer.Argument(help="Scenario file, or a library name (see `magshock scenarios`).")
    ],
    out: Annotated[
        Path | None, typer.Option(help="Result folder (default results/<scenario>/<time>).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the scenario's).")] = None,
    weeks: Annotated[
        int | None, typer.Option(help="Weeks to run (default: the scenario's).")
    ] = None,
    set_: Annotated[
        list[str], typer.Option("--set", help="Override a parameter: KEY=VALUE (repeatable).")
    ] = [],  # noqa: B006
    agents: Annotated[
        bool, typer.Option(help="Also write per-OEM weekly records (agents.parquet).")
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing result folder.")] = False,
) -> None:
    """Run one scenario and write steps.parquet, runs.parquet and manifest.json."""
    overrides = parse_overrides(set_)
    if weeks is not None:
        overrides["weeks"] = weeks
    spec = _load(scenario, overrides)
    if seed is not None:
        _check_seed(seed)
    if out is None:
        out = Path("results") / spec.name / datetime.now().strftime("%Y%m%d-%H%M%S")
    check_output_folder(out, overwrite)
    start = time.perf_counter()
    result = simulate(spec, rng=seed, collect_agent_data=agents)
    wall = time.perf_counter() - start
    try:
        write_run(out, spec, result, wall, overwrite=overwrite, overrides=overrides)
    except OutputExistsError as err:
        fail(str(err))
    except OSError as err:
        fail(f"{out}: cannot write results: {err.strerror or err}")
    console.print(kpi_table(spec, result.kpis))
    console.print(f"{len(result.steps)} weeks, seed {result.seed}, {wall:.2f} s -> {out}")


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="Scenario files to check.")],
) -> None:
    """Check scenario files; print a one-line summary each, or the first problem (exit 2)."""
    for file in files:
        spec = _load(file)
        firms = sum(o.count for o in spec.oems)
        console.print(
            f"[green]OK[/] {escape(file)}: {escape(spec.name)} - {len(spec.oems)} OEM groups "
            f"({firms} firms), policy {spec.licensing.kind}, {spec.simulation.weeks} weeks",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )


@app.command()
def scenarios() -> None:
    """List the scenario library with one-line descriptions."""
    table = Table(title=f"Scenario library ({SCENARIO_DIR})")
    table.add_column("name")
    table.add_column("policy")
    table.add_column("description")
    for path in sorted(SCENARIO_DIR.glob("*.toml")):
        try:
            spec = load_scenario(path)
            table.add_row(path.stem, spec.licensing.kind, spec.description)
        except ScenarioError as err:
            table.add_row(path.stem, "-", Text(shown(f"invalid: {err}"), style="red"))
    console.print(table)


class _Progress:
    """Progress of a sweep: a live bar on a terminal, plain periodic lines otherwise (CI logs)."""

    def __init__(self, total: int, already: int) -> None:
        self.total = total
        self.start = time.perf_counter()
        self.already = already
        self.last_line = 0.0
        self.bar = None
        if console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("sweep"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]:.1f} runs/s"),
                TimeRemainingColumn(),
                TextColumn("[red]{task.fields[failed]} failed"),
                console=console,
            )
            self.task = self.bar.add_task(
                "runs", total=total, completed=already, rate=0.0, failed=0
            )

    def __enter__(self) -> _Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, done: int, total: int, failed: int) -> None:
        elapsed = time.perf_counter() - self.start
        rate = (done - self.already) / elapsed if elapsed > 0 else 0.0
        if self.bar is not None:
            self.bar.update(self.task, completed=done, rate=rate, failed=failed)
            return
        now = time.perf_counter()
        if done == total or now - self.last_line >= 5.0:
            self.last_line = now
            eta = (total - done) / rate if rate > 0 else float("nan")
            console.print(
                f"[sweep] {done}/{total} runs ({100 * done / total:.0f}%), {rate:.1f} runs/s, "
                f"ETA {eta:.0f} s, {failed} failed",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )


def _sweep_folder(exp_name: str, out: Path | None, name: str | None, resume: bool) -> Path:
    if out is not None:
        return out
    base = Path("results") / exp_name
    if name is not None:
        try:
            return base / check_name(name)
        except ValueError as err:
            fail(f"--name {name!r}: {err}")
    if resume:
        unfinished = sorted(
            (
                p
                for p in base.glob("*")
                if (p / "sweep.json").exists() and not (p / "manifest.json").exists()
            ),
            key=lambda p: p.stat().st_mtime,
        )
        if not unfinished:
            fail(f"{base}: no unfinished sweep to resume (give --name or --out)")
        return unfinished[-1]
    return base / datetime.now().strftime("%Y%m%d-%H%M%S")


def _resume_hint(experiment: Path, folder: Path, sampling: str | None) -> str:
    """``; continue with: magshock ... --resume --out FOLDER`` if the folder holds a sweep."""
    if not (folder / "sweep.json").exists():
        return ""
    command = {"saltelli": "analyse sobol", "morris": "analyse morris"}.get(sampling, "sweep")
    return f"; continue with: magshock {command} {experiment} --resume --out {folder}"


def _execute_sweep(
    experiment: Path,
    workers: int,
    scheduler: str | None,
    resume: bool,
    name: str | None,
    out: Path | None,
    quick: bool,
    sampling: str | None = None,
    yes: bool = False,
) -> Path:
    """Load, run (or resume) and consolidate a sweep; return its folder (exit 2/130 on errors)."""
    from experiments.design import (
        CONFIRM_RUNS,
        MAX_RUNS,
        DesignTooLarge,
        ExperimentError,
        load_experiment,
    )
    from experiments.runner import SweepError, SweepFolder, SweepInterrupted, check_scheduler
    from experiments.runner import sweep as run_sweep

    try:
        check_scheduler(scheduler)
    except SweepError as err:
        fail(str(err))
    try:
        design = load_experiment(
            experiment, quick=quick, sampling=sampling, max_runs=MAX_RUNS if yes else CONFIRM_RUNS
        )
    except DesignTooLarge as err:
        fail(f"{err}: add --yes to run them")
    except ExperimentError as err:
        fail(str(err))
    folder = _sweep_folder(design.experiment.name, out, name, resume)
    if resume and not (folder / "sweep.json").exists():
        fail(f"{folder}: no sweep to resume here")
    if not resume:
        check_output_folder(folder, overwrite=False)
    already = len(SweepFolder(folder).finished_ids()) if resume else 0
    console.print(
        f"{design.experiment.name}: {len(design.points)} design points x "
        f"{design.experiment.replications} replications = {len(design.runs)} runs"
        + (f" ({already} already finished)" if resume else "")
        + f" -> {folder}",
        highlight=False,
        soft_wrap=True,
    )
    try:
        with _Progress(len(design.runs), already) as progress:
            summary = run_sweep(
                design,
                folder,
                workers=workers,
                scheduler=scheduler,
                resume=resume,
                quick=quick,
                progress=progress,
            )
    except SweepError as err:
        fail(str(err))
    except SweepInterrupted:
        done = len(SweepFolder(folder).finished_ids())
        err_console.print(
            f"interrupted: {done} of {len(design.runs)} runs finished and kept in {folder}"
            + _resume_hint(experiment, folder, sampling),
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    except OSError as err:
        where = err.filename or folder
        fail(
            f"{where}: cannot write: {err.strerror or err}"
            + _resume_hint(experiment, folder, sampling)
        )
    except BrokenExecutor:
        done = len(SweepFolder(folder).finished_ids())
        fail(
            f"a worker process died (killed, or out of memory?): {done} of {len(design.runs)} "
            f"runs finished and kept in {folder}" + _resume_hint(experiment, folder, sampling)
        )
    console.print(
        f"done: {summary.total} runs ({summary.ran_now} now, {summary.skipped} resumed, "
        f"{summary.failed} failed) in {summary.wall_time_s:.1f} s -> {folder}",
        highlight=False,
        soft_wrap=True,
    )
    return folder


@app.command()
def sweep(
    experiment: Annotated[Path, typer.Argument(help="Experiment file (TOML).")],
    workers: Annotated[
        int, typer.Option(min=1, max=512, help="Local worker processes (1 = in this process).")
    ] = max(1, min(os.cpu_count() or 1, 8)),
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler address (tcp://host:8786), or 'local' for a LocalCluster."
        ),
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="Continue an unfinished sweep; finished runs are kept.")
    ] = False,
    name: Annotated[
        str | None, typer.Option(help="Sweep folder name under results/<experiment>/.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Sweep folder (overrides --name).")] = None,
    quick: Annotated[bool, typer.Option(help="At most 3 replications per design point.")] = False,
    report: Annotated[bool, typer.Option(help="Write the report when the sweep completes.")] = True,
    yes: Annotated[bool, typer.Option(help="Run a design of more than 100,000 runs.")] = False,
) -> None:
    """Run an experiment (factors x replications) and consolidate runs.parquet / steps.parquet."""
    folder = _execute_sweep(experiment, workers, scheduler, resume, name, out, quick, yes=yes)
    if report:
        _write_report(folder)


analyse_app = typer.Typer(
    help="Which levers matter: Sobol and Morris sensitivity, PRIM scenario discovery.",
    no_args_is_help=True,
)
app.add_typer(analyse_app, name="analyse")


def _sensitivity(
    method: str,
    experiment: Path,
    workers: int,
    scheduler: str | None,
    resume: bool,
    name: str | None,
    out: Path | None,
    quick: bool,
    kpi: list[str] | None,
    yes: bool = False,
) -> None:
    from experiments.analysis import AnalysisError, analyse_sensitivity

    sampling = "saltelli" if method == "sobol" else "morris"
    if name is None and out is None and not resume:
        name = f"{method}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    folder = _execute_sweep(experiment, workers, scheduler, resume, name, out, quick, sampling, yes)
    try:
        target = analyse_sensitivity(folder, method, kpi or None)
    except (AnalysisError, OutputExistsError) as err:
        fail(str(err))
    console.print((target / f"{method}.md").read_text(), highlight=False, soft_wrap=True)
    console.print(f"-> {target}", highlight=False, soft_wrap=True)


_KPI_OPTION = typer.Option(
    "--kpi", help="KPI to analyse (repeatable; default: lost production IN and JP, domestic share)."
)


def _register_sensitivity(method: str, summary: str) -> None:
    """Add ``magshock analyse <method>``: run the experiment's design, then the analysis."""

    def command(
        experiment: Annotated[
            Path, typer.Argument(help="Experiment whose factors are all ranges.")
        ],
        workers: Annotated[int, typer.Option(min=1, max=512)] = max(1, min(os.cpu_count() or 1, 8)),
        scheduler: Annotated[
            str | None, typer.Option(help="Dask scheduler address or 'local'.")
        ] = None,
        resume: Annotated[bool, typer.Option(help="Continue an unfinished sweep.")] = False,
        name: Annotated[str | None, typer.Option(help="Sweep folder name.")] = None,
        out: Annotated[Path | None, typer.Option(help="Sweep folder.")] = None,
        quick: Annotated[bool, typer.Option(help="Small design (CI, a first look).")] = False,
        kpi: Annotated[list[str] | None, _KPI_OPTION] = None,
        yes: Annotated[bool, typer.Option(help="Run a design of more than 100,000 runs.")] = False,
    ) -> None:
        _sensitivity(method, experiment, workers, scheduler, resume, name, out, quick, kpi, yes)

    command.__doc__ = summary
    analyse_app.command(method)(command)


_register_sensitivity("sobol", "Global sensitivity: Sobol first-order and total indices, 95% CIs.")
_register_sensitivity("morris", "Cheap screening of many factors: Morris mu* (95% CI), sigma.")


@analyse_app.command("discover")
def analyse_discover(
    folder: Annotated[Path, typer.Argument(help="A finished sweep folder.")],
    kpi: Annotated[str, typer.Option(help="KPI column or alias, e.g. lost_production_india.")],
    above: Annotated[float | None, typer.Option(help="Runs where the KPI is above this.")] = None,
    below: Annotated[float | None, typer.Option(help="Runs where the KPI is below this.")] = None,
) -> None:
    """Scenario discovery (PRIM): where in factor space does the KPI pass the threshold?"""
    from experiments.analysis import AnalysisError, discover

    try:
        target = discover(folder, kpi, above=above, below=below)
    except (AnalysisError, OutputExistsError) as err:
        fail(str(err))
    console.print((target / "boxes.md").read_text(), highlight=False, soft_wrap=True)
    console.print(f"-> {target}", highlight=False, soft_wrap=True)


def _write_report(folder: Path) -> None:
    from experiments.atomic import remove_stale_temporaries
    from experiments.report import ReportError, write_report

    try:
        remove_stale_temporaries(folder)  # left by a report or merge that was killed
        path = write_report(folder)
    except ReportError as err:
        fail(str(err))
    except OSError as err:
        fail(f"{err.filename or folder}: cannot write the report: {err.strerror or err}")
    console.print(f"report: {path / 'index.html'}", highlight=False, soft_wrap=True)


@app.command("report")
def report_command(
    folder: Annotated[Path, typer.Argument(help="A finished sweep folder.")],
) -> None:
    """Write report/ (summary tables with 95% CIs, heatmap, fan charts, index.html) for a sweep."""
    _write_report(folder)


def _fmt_target(value: float, unit: str) -> str:
    """A target-table number: tonnes without decimals, percentages with one."""
    if pd.isna(value):
        return "-"
    return f"{value:,.0f}" if unit == "t" else f"{value:.1f}"


def targets_table(table: pd.DataFrame, title: str) -> Table:
    """The targets table: each observation's data value beside the model median [5-95%]."""
    out = Table(
        title=title,
        caption="all = all destinations; calendar months; error = (median - data) / data. "
        "'outside the run': the run does not cover every month of the period; "
        "'not modelled yet': the model has no column for that destination.",
    )
    for column in ("id", "role", "aggregate", "unit", "data", "model median [5-95%]", "error"):
        out.add_column(
            column, justify="right" if column in ("data", "error") else "left", no_wrap=True
        )
    out.add_column("tol.", justify="right")
    out.add_column("within", no_wrap=True)
    for row in table.itertuples():
        if row.status == "compared":
            model = (
                f"{_fmt_target(row.median, row.unit)} "
                f"[{_fmt_target(row.p5, row.unit)}-{_fmt_target(row.p95, row.unit)}]"
            )
            error = f"{row.rel_error:+.0%}"
            within = Text("yes", style="green") if row.within_tolerance else Text("no", style="red")
        else:
            model, error, within = row.status, "", Text("")
        out.add_row(
            row.id,
            row.role,
            row.aggregate,
            row.unit,
            _fmt_target(row.data, row.unit),
            model,
            error,
            row.tolerance,
            within,
        )
    return out


@app.command()
def calibrate(
    calibration: Annotated[
        Path, typer.Argument(help="Calibration file (TOML), or a run's manifest.json to re-run it.")
    ],
    workers: Annotated[
        int, typer.Option(min=1, max=512, help="Local worker processes (1 = in this process).")
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask scheduler address (tcp://host:8786), or 'local' for a LocalCluster."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default results/calibration/<name>).")
    ] = None,
) -> None:
    """Bayesian calibration (ABC-SMC, pyabc) of a scenario to its declared targets.

    Writes the ABC history, the posterior, a manifest and report.md (prior vs posterior,
    pairwise posterior, every target's posterior predictive band beside the data).
    """
    from experiments.abc import CalibrationError, load_calibration, run_calibration
    from experiments.posterior import posterior_summary
    from experiments.runner import SweepError, check_scheduler

    try:
        spec = load_calibration(calibration)
        check_scheduler(scheduler)
    except (CalibrationError, SweepError) as err:
        fail(str(err))
    folder = out or Path("results") / "calibration" / spec.name
    check_output_folder(folder, overwrite=False)
    run_calibration(calibration, folder, workers=workers, scheduler=scheduler)
    posterior = pd.read_parquet(folder / "posterior.parquet")
    summary = posterior_summary(posterior)
    table = Table(title=f"{spec.name}: posterior (weighted median, 5-95%)")
    for column in ("parameter", "prior", "median", "5-95%"):
        table.add_column(column)
    for name, row in summary.iterrows():
        prior = spec.parameters[name]
        table.add_row(
            name,
            f"{prior.low:g} .. {prior.high:g}",
            f"{row['median']:.4g}",
            f"{row['q05']:.4g} .. {row['q95']:.4g}",
        )
    console.print(table)
    console.print(f"-> {folder}" + (" (report.md)" if (folder / "report.md").exists() else ""))


def facts_table(table: pd.DataFrame, title: str) -> Table:
    """A scored-facts table (:func:`experiments.validation.score_facts`) for the console."""
    out = Table(title=title)
    for column in ("fact", "metric", "band", "median", "5-95% range", "in band", "result"):
        out.add_column(
            column, justify="right" if column in ("median", "in band") else "left", no_wrap=True
        )
    for row in table.itertuples():
        out.add_row(
            row.id,
            row.metric,
            row.band,
            f"{row.median:.1f}",
            f"{row.p5:.1f} .. {row.p95:.1f}",
            f"{row.share_in_band:.0%}",
            Text(row.result, style="green" if row.result == "PASS" else "bold red"),
        )
    return out


@app.command("validate-history")
def validate_history_command(
    seeds: Annotated[int, typer.Option(min=1, max=10_000, help="Seeds to run.")] = 20,
    scenario: Annotated[str, typer.Option(help="History scenario file or name.")] = "history_2025",
    posterior: Annotated[
        Path | None,
        typer.Option(help="A calibration's output folder: draw parameter sets from its posterior."),
    ] = None,
) -> None:
    """Score the history scenario against SF-1..SF-5 (exit 1 if one fails) and the data targets.

    With ``--posterior``, each seed runs its own parameter set drawn from the posterior
    (posterior predictive check); calibration and validation targets print in separate tables.
    """
    from experiments.checks import CHECKS
    from experiments.targets import compare_targets
    from experiments.validation import PASS_SHARE, run_history, run_posterior, score_facts

    spec = _load(scenario)
    runs = f"{seeds} seeds"
    if posterior is not None:
        from experiments.posterior import posterior_scenarios

        if not (posterior / "posterior.parquet").is_file():
            fail(f"{posterior}: no posterior.parquet (the output folder of magshock calibrate)")
        contexts = run_posterior(posterior_scenarios(posterior, seeds))
        runs = f"{seeds} posterior draws x 1 seed"
    else:
        contexts = run_history(spec, seeds=seeds)
    table = score_facts(contexts)
    wide = SafeConsole(markup=False, width=max(console.width, 120))
    wide.print(
        facts_table(
            table,
            f"{spec.name}: stylised facts over {runs} (pass: >= {PASS_SHARE:.0%} of runs in band)",
        )
    )
    wide.print(
        facts_table(
            score_facts(contexts, CHECKS),
            f"{spec.name}: further outcome facts over {runs} (validation, never fitted; "
            "not in the exit code)",
        )
    )
    targets = compare_targets([ctx.steps for ctx in contexts])
    for role in ("calibration", "validation", "consistency"):
        part = targets[targets["role"] == role]
        if len(part):
            wide.print(
                targets_table(
                    part,
                    f"{spec.name}: {role} targets: model median [5-95%] over {runs} beside the "
                    "data (docs/VALIDATION.md)",
                )
            )
    if (table["result"] != "PASS").any():
        raise typer.Exit(1)


@app.command("reproduce")
def reproduce_command(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Canonical experiments (history, baseline, headline, calibration); default all."
        ),
    ] = None,
    update: Annotated[
        bool, typer.Option(help="Rewrite the references (maintainers, after an intended change).")
    ] = False,
    reference_dir: Annotated[
        Path | None, typer.Option(help="Reference folder (default results/reference).")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 2,
) -> None:
    """Re-run the canonical experiments and compare their KPIs with the committed references."""
    from experiments.reproduce import REFERENCE_DIR, RTOL, reproduce

    try:
        results = reproduce(
            names, update=update, root=reference_dir or REFERENCE_DIR, workers=workers
        )
    except (ValueError, OutputExistsError) as err:
        fail(str(err))
    failed = False
    for r in results:
        verdict = "PASS" if r.ok else "FAIL"
        how = "bit-identical" if r.mode == "identical" else f"within rtol {RTOL:g}"
        console.print(f"{verdict} {r.name}: {r.rows} runs, {how}", highlight=False, soft_wrap=True)
        for line in r.differences:
            console.print(f"    {line}", highlight=False, soft_wrap=True)
        failed |= not r.ok
    if failed:
        raise typer.Exit(1)


@app.command()
def viz(
    scenario: Annotated[
        str, typer.Argument(help="Scenario file or library name to open on.")
    ] = "baseline_2025",
    host: Annotated[
        str, typer.Option(help="Interface to serve on (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8765,
) -> None:
    """Serve the live browser page (Solara) on http://HOST:PORT."""
    import subprocess

    spec = _load(scenario)
    try:
        import solara  # noqa: F401
    except ImportError:
        fail("the browser page needs the 'viz' extra: pip install -e '.[viz]'")
    import simulation.app as page
    from experiments.viz_server import NO_AUTH_WARNING, is_loopback, solara_command, solara_env

    user_file = Path(scenario) if Path(scenario).is_file() else None
    env = solara_env(os.environ, spec.name if spec.name else scenario, user_file)
    cmd = solara_command(host, port, page.__file__)
    if not is_loopback(host):
        err_console.print(
            NO_AUTH_WARNING.format(host=host, port=port), highlight=False, soft_wrap=True
        )
    console.print(f"serving {spec.name} on http://{host}:{port} (Ctrl-C to stop)", highlight=False)
    try:
        raise typer.Exit(subprocess.call(cmd, env=env))
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


@app.command()
def parameters(
    out: Annotated[Path, typer.Option(help="Where to write the table.")] = Path(
        "docs/PARAMETERS.md"
    ),
) -> None:
    """Regenerate the parameter table (name, unit, default, range, source) from the schema."""
    from experiments.atomic import write_bytes_atomic
    from experiments.paramdoc import GENERATED_MARK, parameters_markdown

    if out.is_dir() or (out.exists() and GENERATED_MARK not in out.read_text(errors="replace")):
        fail(f"--out {out}: exists and is not a parameter table magshock wrote; choose a new file")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(out, parameters_markdown().encode())
    console.print(f"wrote {out}", highlight=False, soft_wrap=True)


def main() -> None:
    """Entry point for ``python -m experiments.cli``."""
    app()


if __name__ == "__main__":
    main()
