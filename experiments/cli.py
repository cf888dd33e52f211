"""The ``magshock`` command line: run a scenario, validate files, list the scenario library."""

from __future__ import annotations

import math
import time
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from experiments.results import OutputExistsError, write_run
from simulation.run import simulate
from simulation.scenario import SCENARIO_DIR, Scenario, ScenarioError, load_scenario

app = typer.Typer(
    help="magshock: agent-based model of the 2025 rare-earth magnet export controls.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

EXIT_USER_ERROR = 2


def fail(message: str) -> None:
    """Print one error line and exit with code 2 (a user mistake, not a crash)."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_USER_ERROR)


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """Turn ``["key=value", ...]`` into overrides; values are read as TOML (else as text)."""
    overrides: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            fail(f"--set {item!r}: expected KEY=VALUE, e.g. --set approval_probability=0.3")
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        overrides[key.strip()] = value
    return overrides


def check_output_folder(out: Path, overwrite: bool) -> None:
    """Refuse, before any work, an output path that is a file, sits under a file, or is taken."""
    for parent in (out, *out.parents):
        if parent.exists() and not parent.is_dir():
            fail(f"{out}: {parent} is a file, not a folder")
    if out.exists() and any(out.iterdir()) and not overwrite:
        fail(f"{out}: output folder exists and is not empty (use --overwrite)")


def _load(path: str, overrides: dict[str, Any] | None = None) -> Scenario:
    try:
        return load_scenario(path, **(overrides or {}))
    except ScenarioError as err:
        fail(str(err))
        raise  # unreachable: fail() exits


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
    seed: Annotated[
        int | None,
        typer.Option(min=0, max=2**63 - 1, help="Random seed (default: the scenario's)."),
    ] = None,
    weeks: Annotated[
        int | None, typer.Option(min=1, help="Weeks to run (default: the scenario's).")
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
            f"[green]OK[/] {file}: {spec.name} - {len(spec.oems)} OEM groups ({firms} firms), "
            f"policy {spec.licensing.kind}, {spec.simulation.weeks} weeks",
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
            table.add_row(path.stem, "-", f"[red]invalid: {err}[/]")
    console.print(table)


def main() -> None:
    """Entry point for ``python -m experiments.cli``."""
    app()


if __name__ == "__main__":
    main()
