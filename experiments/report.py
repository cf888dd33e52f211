"""Report for a finished sweep folder: summary tables, heatmaps, fan charts and an HTML page.

``write_report(DIR)`` reads what ``magshock sweep`` wrote to ``DIR`` (``runs.parquet``,
``manifest.json`` and, if kept, ``steps.parquet``) and writes ``DIR/report/``:

- ``summary.csv`` / ``summary.md``: per factor level, n, mean and 95% t-interval of the headline
  KPIs, and the number of failed runs;
- ``cells.csv``: the same per design point (one row per combination of all factors);
- ``heatmap_lost_production.png``: mean lost production (% of plan) per country over two factors;
- ``fan_production_<C>.png``: weekly production as % of plan, median and 5-95% band across runs
  (only when ``steps.parquet`` exists);
- ``exports_by_destination.csv``: per design point, calendar month and destination, China's
  exports (t, median over replications); ``licence_desk_by_destination.csv``: per design point
  and destination, applications filed, decided and approved over the run and the peak number
  pending (medians over replications). Both need the per-destination columns of
  ``steps.parquet``; for an older sweep without them the page says they are not available;
- ``price_paths.csv`` / ``price_paths.png``: per design point and week, the median over
  replications of China's home price, the Chinese export price and the ex-China price
  (USD/kg, ODD §7.20); the figure has one panel per heatmap-rows level and one line per
  design point (only when ``steps.parquet`` holds the price columns);
- ``index.html``: a self-contained page showing all of the above (no external URLs).

The folder is built next to its final place and renamed into it, so a failure never leaves a
half-written report and an older report is replaced in one step.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from matplotlib.figure import Figure
from scipy import stats

from experiments.atomic import OutputExistsError, atomic_directory, check_replaceable
from experiments.months import monthly_totals
from simulation.clearing import EU_CODES

FIXED_COLUMNS = ("run_id", "point", "replication", "seed", "status", "error", "wall_time_s")
HEADLINE_KPIS = (
    "lost_production_pct__IN",
    "lost_production_pct__JP",
    "weeks_to_first_stoppage__IN",
    "weeks_to_first_stoppage__JP",
    "licences_issued",
    "domestic_share_at_horizon",
    "peak_price_index",
    "subsidy_spent_usd",
)
SUMMARY_COLUMNS = ("factor", "level", "kpi", "n", "mean", "ci95_lo", "ci95_hi", "failed")
REPORT_DIRNAME = "report"
HEATMAP_FILE = "heatmap_lost_production.png"
EXPORTS_FILE = "exports_by_destination.csv"
DESK_FILE = "licence_desk_by_destination.csv"
PRICES_FILE = "price_paths.csv"
PRICES_FIGURE = "price_paths.png"
#: Weekly price reporters (USD/kg) the price paths summarise.
PRICE_COLUMNS = (
    "china_home_price_usd_per_kg",
    "china_export_price_usd_per_kg",
    "ex_china_price_usd_per_kg",
)
REPORT_ENTRIES = (
    "summary.csv",
    "cells.csv",
    "summary.md",
    "index.html",
    HEATMAP_FILE,
    "fan_production_*.png",
    EXPORTS_FILE,
    DESK_FILE,
    PRICES_FILE,
    PRICES_FIGURE,
)  # all a report folder may hold: anything else there is the user's and is never replaced
ALL_RUNS = "all runs"

_LOST_RE = re.compile(r"^lost_production_pct__([^_]+)$")
_PLANNED_RE = re.compile(r"^vehicles_planned__([^_]+)$")
_DPI = 120


class ReportError(ValueError):
    """A user mistake that stops the report (bad folder, bad manifest, no successful runs)."""


@dataclass(frozen=True)
class Sweep:
    """A finished sweep folder, loaded.

    Attributes:
        run_dir: the folder.
        name: the experiment name (title of the report).
        factors: the experiment factors, in manifest order.
        runs: ``runs.parquet`` sorted by ``run_id`` (all runs, failed ones included).
        heatmap_rows: factor for heatmap rows and fan-chart panels, or None.
        heatmap_cols: factor for heatmap columns, or None (then no heatmap).
        steps_path: ``steps.parquet`` if it exists, else None.
    """

    run_dir: Path
    name: str
    factors: list[str]
    runs: pd.DataFrame
    heatmap_rows: str | None
    heatmap_cols: str | None
    steps_path: Path | None

    @property
    def ok(self) -> pd.Series:
        """Boolean mask of successful runs (aligned with ``runs``)."""
        return self.runs["status"] == "ok"


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def load_sweep(run_dir: Path) -> Sweep:
    """Read and check a sweep folder.

    Args:
        run_dir: the folder ``magshock sweep`` wrote.

    Returns:
        The loaded sweep.

    Raises:
        ReportError: if the folder, ``runs.parquet`` or ``manifest.json`` is missing or
            malformed, a factor named in the manifest is not a column of ``runs.parquet``, or
            no run succeeded.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir}: no such folder")
    hint = "not a finished sweep folder: run `magshock sweep ...` first"
    runs_path = run_dir / "runs.parquet"
    if not runs_path.is_file():
        raise ReportError(f"{run_dir}: no runs.parquet, {hint}")
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        raise ReportError(f"{run_dir}: no manifest.json, {hint}")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{manifest_path}: not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict):
        raise ReportError(f"{manifest_path}: expected a JSON object")

    runs = pd.read_parquet(runs_path)
    if "status" not in runs.columns:
        raise ReportError(f"{runs_path}: no 'status' column, {hint}")
    if "run_id" in runs.columns:
        runs = runs.sort_values("run_id", kind="stable")
    runs = runs.reset_index(drop=True)

    factors = [str(f) for f in manifest.get("factors") or []]
    missing = [f for f in factors if f not in runs.columns]
    if missing:
        raise ReportError(
            f"{manifest_path}: factor(s) {', '.join(map(repr, missing))} "
            "listed under 'factors' are not columns of runs.parquet"
        )
    rows, cols = _heatmap_factors(manifest, factors, runs.columns, manifest_path)

    n_ok = int((runs["status"] == "ok").sum())
    if n_ok == 0:
        raise ReportError(f"{run_dir}: no successful runs ({len(runs)} failed), nothing to report")

    name = str(manifest.get("experiment_name") or manifest.get("scenario_name") or run_dir.name)
    steps_path = run_dir / "steps.parquet"
    return Sweep(
        run_dir=run_dir,
        name=name,
        factors=factors,
        runs=runs,
        heatmap_rows=rows,
        heatmap_cols=cols,
        steps_path=steps_path if steps_path.is_file() else None,
    )


def _heatmap_factors(
    manifest: dict[str, Any], factors: list[str], columns: pd.Index, manifest_path: Path
) -> tuple[str | None, str | None]:
    """Heatmap (rows, cols) factors: from ``manifest["report"]``, else the first two factors.

    With a single factor it becomes the columns of a one-row heatmap (rows = None); with none,
    both are None.
    """
    report = manifest.get("report") or {}
    if not isinstance(report, dict):
        raise ReportError(f"{manifest_path}: 'report' must be a JSON object")
    chosen: dict[str, str | None] = {}
    for key in ("heatmap_rows", "heatmap_cols"):
        value = report.get(key)
        if value is not None and value not in columns:
            raise ReportError(
                f"{manifest_path}: report.{key} = {value!r} is not a column of runs.parquet"
                f" (factors: {', '.join(factors) or 'none'})"
            )
        chosen[key] = value
    spare = iter(f for f in factors if f not in chosen.values())
    rows = chosen["heatmap_rows"] or next(spare, None)
    cols = chosen["heatmap_cols"] or next(spare, None)
    if cols is None:
        rows, cols = None, rows
    return rows, cols


def kpi_columns(runs: pd.DataFrame, factors: Sequence[str]) -> list[str]:
    """All numeric KPI columns: not a fixed run column, not a factor.

    Args:
        runs: the ``runs.parquet`` table.
        factors: the experiment factors.

    Returns:
        KPI column names in table order.
    """
    skip = set(FIXED_COLUMNS) | set(factors)
    return [
        c
        for c in runs.columns
        if c not in skip
        and pd.api.types.is_numeric_dtype(runs[c])
        and not pd.api.types.is_bool_dtype(runs[c])
    ]


def headline_kpis(runs: pd.DataFrame, factors: Sequence[str]) -> list[str]:
    """The headline KPIs (``HEADLINE_KPIS``) present in ``runs``, in headline order.

    Args:
        runs: the ``runs.parquet`` table.
        factors: the experiment factors.

    Returns:
        KPI column names.
    """
    available = set(kpi_columns(runs, factors))
    return [k for k in HEADLINE_KPIS if k in available]


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------


def mean_ci(values: Any, confidence: float = 0.95) -> tuple[int, float, float, float]:
    """Number of finite values, their mean and the Student-t confidence interval of the mean.

    Args:
        values: numbers; NaN and infinite values are ignored.
        confidence: coverage of the interval.

    Returns:
        ``(n, mean, lo, hi)``; mean is NaN when n = 0, lo and hi are NaN when n < 2.

    Example:
        >>> n, mean, lo, hi = mean_ci([1.0, 2.0, 3.0, float("nan")])
        >>> n, mean, round(lo, 3), round(hi, 3)
        (3, 2.0, -0.484, 4.484)
    """
    x = np.asarray(values, dtype=float).ravel()
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return 0, math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n < 2:
        return n, mean, math.nan, math.nan
    sem = float(x.std(ddof=1)) / math.sqrt(n)
    half = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1)) * sem
    return n, mean, mean - half, mean + half


def _level_label(value: Any) -> str:
    """Text for a factor level (numbers as Python prints them, missing as 'NA')."""
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return "NA"
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def factor_levels(series: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Level codes and levels of a factor, levels in order of first appearance.

    Args:
        series: a factor column (missing values form their own level).

    Returns:
        ``(codes, levels)`` with ``levels[codes[i]]`` the value of row i.
    """
    codes, uniques = pd.factorize(series, sort=False, use_na_sentinel=False)
    return np.asarray(codes), list(uniques)


def summarise(runs: pd.DataFrame, factors: Sequence[str], kpis: Sequence[str]) -> pd.DataFrame:
    """Per factor, per level, per KPI: n, mean, 95% CI over successful runs, and failed runs.

    Levels keep their order of first appearance in ``runs``. With no factors, one pseudo
    factor ``"(all)"`` with the single level ``"all runs"`` is reported.

    Args:
        runs: the ``runs.parquet`` table (with a ``status`` column; "ok" = success).
        factors: the experiment factors.
        kpis: the KPI columns to summarise.

    Returns:
        Tidy table with columns ``SUMMARY_COLUMNS``.
    """
    ok = (runs["status"] == "ok").to_numpy()
    records: list[dict[str, Any]] = []
    for factor, codes, levels in _factor_codes(runs, factors):
        for i, level in enumerate(levels):
            in_level = codes == i
            failed = int((in_level & ~ok).sum())
            chosen = runs.loc[in_level & ok]
            for kpi in kpis:
                n, mean, lo, hi = mean_ci(chosen[kpi])
                records.append(
                    {
                        "factor": factor,
                        "level": _level_label(level),
                        "kpi": kpi,
                        "n": n,
                        "mean": mean,
                        "ci95_lo": lo,
                        "ci95_hi": hi,
                        "failed": failed,
                    }
                )
    return pd.DataFrame.from_records(records, columns=list(SUMMARY_COLUMNS))


def _factor_codes(
    runs: pd.DataFrame, factors: Sequence[str]
) -> Iterator[tuple[str, np.ndarray, list[Any]]]:
    """(factor, codes, levels) per factor, or one pseudo factor covering all runs."""
    if not factors:
        yield "(all)", np.zeros(len(runs), dtype=int), [ALL_RUNS]
        return
    for factor in factors:
        codes, levels = factor_levels(runs[factor])
        yield factor, codes, levels


def cell_keys(runs: pd.DataFrame, factors: Sequence[str]) -> list[str]:
    """The columns that name a design point: ``point`` (if present) and the factors."""
    return (["point"] if "point" in runs.columns else []) + list(factors)


def cell_table(runs: pd.DataFrame, factors: Sequence[str], kpis: Sequence[str]) -> pd.DataFrame:
    """One row per design point: its factor values, run counts, and n/mean/CI per KPI.

    Args:
        runs: the ``runs.parquet`` table.
        factors: the experiment factors.
        kpis: the KPI columns to summarise.

    Returns:
        Columns ``point`` (if present), the factors, ``runs_ok``, ``failed``, then per KPI
        ``<kpi>__n``, ``<kpi>__mean``, ``<kpi>__ci95_lo``, ``<kpi>__ci95_hi``; rows in order of
        first appearance.
    """
    keys = cell_keys(runs, factors)
    ok = runs["status"] == "ok"
    if keys:
        groups = runs.groupby(keys, sort=False, dropna=False).indices.values()
    else:
        groups = [np.arange(len(runs))]
    records: list[dict[str, Any]] = []
    for idx in groups:
        cell = runs.iloc[idx]
        cell_ok = ok.iloc[idx].to_numpy()
        record: dict[str, Any] = {k: cell[k].iloc[0] for k in keys}
        record["runs_ok"] = int(cell_ok.sum())
        record["failed"] = int((~cell_ok).sum())
        for kpi in kpis:
            n, mean, lo, hi = mean_ci(cell.loc[cell_ok, kpi])
            record.update(
                {f"{kpi}__n": n, f"{kpi}__mean": mean, f"{kpi}__ci95_lo": lo, f"{kpi}__ci95_hi": hi}
            )
        records.append(record)
    table = pd.DataFrame.from_records(records)
    first_row = [int(np.min(idx)) for idx in groups]
    return table.iloc[np.argsort(first_row, kind="stable")].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Text tables (Markdown and HTML from the same cells)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    title: str
    header: list[str]
    rows: list[list[str]]


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _summary_tables(
    summary: pd.DataFrame, runs: pd.DataFrame, factors: Sequence[str]
) -> list[_Table]:
    """One table per factor: rows = levels, columns = ok/failed runs and "mean [lo, hi]" per KPI."""
    ok = (runs["status"] == "ok").to_numpy()
    kpis = list(dict.fromkeys(summary["kpi"]))
    tables = []
    for factor, codes, levels in _factor_codes(runs, factors):
        # summarise() wrote the records level by level, KPI by KPI, in this same order.
        part = summary[summary["factor"] == factor].reset_index(drop=True)
        rows = []
        for i, level in enumerate(levels):
            n_ok = int((ok & (codes == i)).sum())
            n_failed = int((~ok & (codes == i)).sum())
            row = [_level_label(level), str(n_ok), str(n_failed)]
            for k in range(len(kpis)):
                rec = part.iloc[i * len(kpis) + k]
                if rec["n"] == 0:
                    row.append("–")
                    continue
                text = f"{_fmt(rec['mean'])} [{_fmt(rec['ci95_lo'])}, {_fmt(rec['ci95_hi'])}]"
                if rec["n"] < n_ok:
                    text += f" (n={int(rec['n'])})"
                row.append(text)
            rows.append(row)
        tables.append(_Table(factor, [factor, "ok runs", "failed", *kpis], rows))
    return tables


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _markdown(name: str, n_ok: int, n_failed: int, tables: list[_Table]) -> str:
    lines = [
        f"# {_md_cell(name)}: summary",
        "",
        f"{n_ok + n_failed} runs: {n_ok} ok, {n_failed} failed.",
        "",
        "Cells: mean [95% confidence interval of the mean, Student t] over successful runs; "
        "(n=k) when only k runs have a value (e.g. no stoppage within the horizon); "
        "– when undefined.",
    ]
    for table in tables:
        lines += ["", f"## By {_md_cell(table.title)}", ""]
        lines.append("| " + " | ".join(_md_cell(h) for h in table.header) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(table.header) - 1)) + "|")
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


def _countries(columns: Sequence[str], pattern: re.Pattern[str]) -> list[str]:
    return [m.group(1) for c in columns if (m := pattern.match(c))]


def heatmap_table(runs: pd.DataFrame, rows: str | None, cols: str, kpi: str) -> pd.DataFrame:
    """Mean of ``kpi`` over successful runs for each (rows level, cols level) cell.

    Args:
        runs: the ``runs.parquet`` table sorted by ``run_id``.
        rows: factor for the rows, or None for a single row labelled "all runs".
        cols: factor for the columns.
        kpi: the KPI column.

    Returns:
        Table indexed by row level labels, columns = column level labels, both in order of
        first appearance; NaN where a cell has no successful run with a finite value.
    """
    col_codes, col_levels = factor_levels(runs[cols])
    if rows is None:
        row_codes, row_levels = np.zeros(len(runs), dtype=int), [ALL_RUNS]
    else:
        row_codes, row_levels = factor_levels(runs[rows])
    shape = (len(row_levels), len(col_levels))
    values = runs[kpi].to_numpy(dtype=float)
    use = (runs["status"] == "ok").to_numpy() & np.isfinite(values)
    flat = row_codes[use] * shape[1] + col_codes[use]
    sums = np.bincount(flat, weights=values[use], minlength=shape[0] * shape[1])
    counts = np.bincount(flat, minlength=shape[0] * shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (sums / counts).reshape(shape)
    return pd.DataFrame(
        means,
        index=pd.Index([_level_label(v) for v in row_levels], name=rows),
        columns=pd.Index([_level_label(v) for v in col_levels], name=cols),
    )


def _heatmap(sweep: Sweep, path: Path) -> Path | None:
    """Mean lost production per country over heatmap rows x cols; None if nothing to draw."""
    countries = _countries(list(sweep.runs.columns), _LOST_RE)
    if sweep.heatmap_cols is None or not countries:
        return None
    tables = {
        c: heatmap_table(
            sweep.runs, sweep.heatmap_rows, sweep.heatmap_cols, f"lost_production_pct__{c}"
        )
        for c in countries
    }
    matrices = {c: t.to_numpy() for c, t in tables.items()}
    first = tables[countries[0]]
    row_labels, col_labels = list(first.index), list(first.columns)
    shape = (len(row_labels), len(col_labels))

    finite = np.concatenate([m[np.isfinite(m)] for m in matrices.values()])
    vmin = min(0.0, float(finite.min())) if finite.size else 0.0
    vmax = float(finite.max()) if finite.size else 1.0
    if vmax <= vmin:
        vmax = vmin + 1.0
    cmap = matplotlib.colormaps["YlOrRd"].with_extremes(bad="#d9d9d9")

    long_cols = max(map(len, col_labels)) * len(col_labels) > 40
    panel_w = max(3.2, 0.85 * shape[1] + 1.6)
    panel_h = max(2.4, 0.6 * shape[0] + 1.9)
    fig = Figure(figsize=(panel_w * len(countries) + 1.4, panel_h), layout="constrained")
    axes = fig.subplots(1, len(countries), squeeze=False)[0]
    fontsize = 10 if shape[0] * shape[1] <= 30 else 8 if shape[0] * shape[1] <= 80 else 6
    shown = []
    for ax, country in zip(axes, countries, strict=True):
        matrix = matrices[country]
        image = ax.imshow(
            np.ma.masked_invalid(matrix), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto"
        )
        for (i, j), value in np.ndenumerate(matrix):
            if math.isfinite(value):
                shade = (value - vmin) / (vmax - vmin)
                ax.text(
                    j,
                    i,
                    f"{value:.1f}",
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                    color="white" if shade > 0.6 else "black",
                )
            else:
                ax.text(j, i, "n/a", ha="center", va="center", fontsize=fontsize, color="#555")
        ax.set_xticks(range(shape[1]), col_labels)
        if long_cols:
            ax.tick_params(axis="x", labelrotation=30)
            for label in ax.get_xticklabels():
                label.set_horizontalalignment("right")
        ax.set_yticks(range(shape[0]), row_labels if ax is axes[0] else [])
        ax.set_xlabel(sweep.heatmap_cols)
        if ax is axes[0] and sweep.heatmap_rows is not None:
            ax.set_ylabel(sweep.heatmap_rows)
        ax.set_title(f"{country}: mean lost production")
        shown.append(image)
    bar = fig.colorbar(shown[-1], ax=list(axes), shrink=0.9)
    bar.set_label("lost production (% of plan)")
    fig.suptitle(f"{sweep.name}: mean lost vehicle production over successful runs")
    fig.savefig(path, dpi=_DPI)
    fig.clear()
    return path


def _fan_charts(sweep: Sweep, out_dir: Path) -> list[Path]:
    """One fan chart per country from ``steps.parquet``; [] if there is none or no columns."""
    if sweep.steps_path is None:
        return []
    available = pq.read_schema(sweep.steps_path).names
    countries = [
        c for c in _countries(available, _PLANNED_RE) if f"vehicles_produced__{c}" in available
    ]
    if "run_id" not in available or "week" not in available or not countries:
        return []
    has_date = "date" in available
    columns = ["run_id", "week", *(["date"] if has_date else [])]
    for c in countries:
        columns += [f"vehicles_produced__{c}", f"vehicles_planned__{c}"]
    table = pq.read_table(
        sweep.steps_path, columns=columns, read_dictionary=["date"] if has_date else None
    )
    steps = table.to_pandas()
    del table

    # x axis: the date of each week (first seen), else the week number.
    weeks = np.sort(steps["week"].unique())
    if has_date:
        first_dates = steps.groupby("week", sort=True)["date"].first().astype(str)
        x = pd.to_datetime(first_dates.reindex(weeks), errors="coerce")
        if x.isna().any():
            x = pd.Series(weeks, index=weeks)
            has_date = False
    else:
        x = pd.Series(weeks, index=weeks)

    # panels: levels of the heatmap-rows factor (the policy); one panel if there is none.
    panel_factor = sweep.heatmap_rows or sweep.heatmap_cols
    runs = sweep.runs
    if panel_factor is None:
        codes, levels = np.zeros(len(runs), dtype=int), [ALL_RUNS]
    else:
        codes, levels = factor_levels(runs[panel_factor])
    ok = sweep.ok.to_numpy()
    if "run_id" in runs.columns:
        panel_of_run = pd.Series(codes[ok], index=runs["run_id"].to_numpy()[ok])
    else:
        return []
    panel = steps["run_id"].map(panel_of_run)
    keep = panel.notna().to_numpy()
    value_columns = [c for c in columns if c.startswith("vehicles_")]
    steps = steps.loc[keep, ["week", *value_columns]]
    steps["panel"] = panel[keep].astype(int).to_numpy()
    n_runs = pd.Series(codes[ok]).value_counts()

    paths = []
    for country in countries:
        planned = steps[f"vehicles_planned__{country}"].to_numpy(dtype=float)
        produced = steps[f"vehicles_produced__{country}"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            pct = np.where(planned > 0, 100.0 * produced / planned, np.nan)
        frame = pd.DataFrame(
            {"panel": steps["panel"].to_numpy(), "week": steps["week"], "pct": pct}
        )
        quant = frame.groupby(["panel", "week"])["pct"].quantile([0.05, 0.5, 0.95]).unstack()
        path = out_dir / f"fan_production_{country}.png"
        _draw_fan(sweep, country, quant, x, has_date, panel_factor, levels, n_runs, path)
        paths.append(path)
    return paths


def _format_panel(ax: Any, ylabel: str | None, has_date: bool) -> None:
    """Grid, y label (first column only) and concise date ticks of one chart panel."""
    ax.grid(True, alpha=0.3)
    if ylabel:
        ax.set_ylabel(ylabel)
    if has_date:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _draw_fan(
    sweep: Sweep,
    country: str,
    quant: pd.DataFrame,
    x: pd.Series,
    has_date: bool,
    panel_factor: str | None,
    levels: list[Any],
    n_runs: pd.Series,
    path: Path,
) -> None:
    n_panels = len(levels)
    ncols = min(n_panels, 3)
    nrows = math.ceil(n_panels / ncols)
    fig = Figure(figsize=(4.4 * ncols + 0.4, 3.1 * nrows + 0.7), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    top = 105.0
    for i, level in enumerate(levels):
        ax = axes[i // ncols][i % ncols]
        label = _level_label(level)
        title = label if panel_factor is None else f"{panel_factor} = {label}"
        ax.set_title(f"{title} ({int(n_runs.get(i, 0))} runs)", fontsize=10)
        ax.axhline(100.0, color="0.5", linestyle="--", linewidth=0.8, label="plan")
        if i in quant.index.get_level_values(0):
            q = quant.loc[i].reindex(x.index)
            ax.fill_between(
                x.to_numpy(),
                q[0.05].to_numpy(),
                q[0.95].to_numpy(),
                color="tab:blue",
                alpha=0.25,
                linewidth=0,
                label="5–95% of runs",
            )
            ax.plot(
                x.to_numpy(), q[0.5].to_numpy(), color="tab:blue", linewidth=1.6, label="median"
            )
            top = max(top, float(np.nanmax(q[0.95].to_numpy(), initial=0.0)) * 1.05)
        else:
            ax.text(
                0.5, 0.5, "no successful runs", ha="center", va="center", transform=ax.transAxes
            )
        _format_panel(ax, "% of plan" if i % ncols == 0 else None, has_date)
        if not has_date and i // ncols == nrows - 1:
            ax.set_xlabel("week")
    for j in range(n_panels, nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    axes[0][0].set_ylim(0.0, top)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, frameon=False)
    fig.suptitle(f"{sweep.name}: weekly vehicle production in {country}, % of plan")
    fig.savefig(path, dpi=_DPI)
    fig.clear()


# ---------------------------------------------------------------------------------------------
# Price paths per design point (from steps.parquet)
# ---------------------------------------------------------------------------------------------


def price_paths(sweep: Sweep) -> pd.DataFrame | None:
    """Median weekly prices per design point over replications (USD/kg), or None.

    Columns: the design point's factor columns (or ``cell``), ``week``, ``date`` (when kept)
    and :data:`PRICE_COLUMNS`. None when the sweep kept no steps or no price columns.
    """
    if sweep.steps_path is None:
        return None
    available = pq.read_schema(sweep.steps_path).names
    prices = [c for c in PRICE_COLUMNS if c in available]
    if not prices or not {"run_id", "week"} <= set(available):
        return None
    extra = ["date"] if "date" in available else []
    steps = pq.read_table(sweep.steps_path, columns=["run_id", "week", *extra, *prices]).to_pandas()
    cells, keys = _ok_cells(sweep.runs, sweep.factors)
    steps = steps.merge(cells, on="run_id", how="inner")
    if steps.empty:
        return None
    medians = steps.groupby([*keys, "week"], sort=True)[prices].median()
    if extra:
        medians = medians.join(steps.groupby([*keys, "week"], sort=True)["date"].first())
    return medians.reset_index()


def _draw_price_paths(sweep: Sweep, paths: pd.DataFrame, path: Path) -> Path | None:
    """One panel per heatmap-rows level; per design point, its median ex-China price."""
    if "ex_china_price_usd_per_kg" not in paths:
        return None
    keys = [c for c in paths.columns if c not in ("week", "date", *PRICE_COLUMNS)]
    panel_factor = sweep.heatmap_rows if sweep.heatmap_rows in keys else None
    levels = list(dict.fromkeys(paths[panel_factor])) if panel_factor else [ALL_RUNS]
    ncols = min(len(levels), 3)
    nrows = math.ceil(len(levels) / ncols)
    fig = Figure(figsize=(4.4 * ncols + 0.4, 3.1 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    has_date = "date" in paths
    for i, level in enumerate(levels):
        ax = axes[i // ncols][i % ncols]
        panel = paths if panel_factor is None else paths[paths[panel_factor] == level]
        others = [k for k in keys if k != panel_factor]
        groups = panel.groupby(others, sort=False) if others else [((), panel)]
        for j, (cell, frame) in enumerate(groups):
            x = pd.to_datetime(frame["date"]) if has_date else frame["week"]
            named = [v for k, v in zip(others, np.atleast_1d(cell), strict=True) if k != "point"]
            label = ", ".join(_level_label(v) for v in named) or "ex-China"
            ax.plot(x, frame["ex_china_price_usd_per_kg"], linewidth=1.3, label=label)
            if j == 0 and "china_home_price_usd_per_kg" in frame:
                ax.plot(
                    x,
                    frame["china_home_price_usd_per_kg"],
                    color="0.4",
                    linestyle="--",
                    linewidth=1.0,
                    label="China home (first cell)",
                )
        title = (
            _level_label(level)
            if panel_factor is None
            else f"{panel_factor} = {_level_label(level)}"
        )
        ax.set_title(title, fontsize=10)
        _format_panel(ax, "USD/kg" if i % ncols == 0 else None, has_date)
    for j in range(len(levels), nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=4, frameon=False)
    fig.suptitle(f"{sweep.name}: ex-China magnet price per design point (median of runs)")
    fig.savefig(path, dpi=_DPI)
    fig.clear()
    return path


# ---------------------------------------------------------------------------------------------
# China's exports and the licence desk by destination (from steps.parquet)
# ---------------------------------------------------------------------------------------------

ALL_DESTINATIONS = "all"  # the destination label of China's exports to everywhere
#: Destinations that add up others (recorded beside their members): never a share of "all".
DESTINATION_TOTALS = {"EU": EU_CODES}
_EXPORTS = "china_exports_t"
#: Licence desk statistics: (weekly reporter prefix, how a run's weeks combine, output column).
DESK_STATS = (
    ("applications_filed", "sum", "filed"),
    ("applications_decided", "sum", "decided"),
    ("licences_approved", "sum", "approved"),
    ("applications_pending", "max", "peak_pending"),
)
_DESTINATION_RE = re.compile(r"^(?P<prefix>[a-z_]+)__(?P<code>[A-Z]{2})$")


def destination_columns(columns: Sequence[str], prefix: str) -> dict[str, str]:
    """Weekly columns ``<prefix>__<CODE>`` in ``columns``: column -> destination code."""
    found = {}
    for column in columns:
        match = _DESTINATION_RE.match(column)
        if match and match["prefix"] == prefix:
            found[column] = match["code"]
    return found


def destination_order(codes: Sequence[str]) -> list[str]:
    """Destinations as the report lists them: the countries, then totals (the EU), then ``all``."""
    unique = list(dict.fromkeys(codes))
    return sorted(
        unique, key=lambda c: (c == ALL_DESTINATIONS, c in DESTINATION_TOTALS, unique.index(c))
    )


def _ok_cells(runs: pd.DataFrame, factors: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """``run_id`` and design point of each successful run, and the design point's columns."""
    keys = cell_keys(runs, factors)
    cells = runs.loc[runs["status"] == "ok", ["run_id", *keys]]
    if not keys:
        keys = ["cell"]
        cells = cells.assign(cell=ALL_RUNS)
    return cells, keys


def _month_weights(dates: pd.Series) -> pd.DataFrame:
    """Share of each week (columns, in ``dates`` order) in each whole month covered (rows).

    The weights are :func:`experiments.months.monthly_totals` of one-hot weeks, so monthly
    totals of any weekly flow are ``weights @ flow``.
    """
    weeks = [str(i) for i in range(len(dates))]
    one_hot = pd.DataFrame(np.eye(len(dates)), columns=weeks)
    one_hot.insert(0, "date", dates.to_numpy())
    return monthly_totals(one_hot, weeks)[weeks].dropna()


def exports_by_destination(
    steps: pd.DataFrame, runs: pd.DataFrame, factors: Sequence[str]
) -> pd.DataFrame:
    """China's exports per design point, calendar month and destination, over replications.

    Each run's weekly exports are summed into calendar months as by
    :func:`experiments.months.monthly_totals` (a week across a month end is split by days;
    months the run covers only in part are left out; a run missing a week counts in no
    month), then the design point's runs give the median. The destinations are read from the
    ``china_exports_t__<CODE>`` columns.

    Args:
        steps: weekly records with ``run_id``, ``date``, ``china_exports_t__<CODE>`` and
            (optionally) ``china_exports_t``, the exports to all destinations.
        runs: the ``runs.parquet`` table (only successful runs count).
        factors: the experiment factors.

    Returns:
        One row per design point, month (``YYYY-MM``) and destination (codes, then ``all``):
        the design point's columns, ``month``, ``destination``, ``exports_t`` (median over
        runs, t per month) and ``runs`` (runs with a value). Empty if there is nothing to count
        (no ``china_exports_t__<CODE>`` column, no successful run).
    """
    columns = destination_columns(steps.columns, _EXPORTS)
    cells, keys = _ok_cells(runs, factors)
    if _EXPORTS in steps.columns and columns:
        columns[_EXPORTS] = ALL_DESTINATIONS
    steps = steps[["run_id", "date", *columns]].merge(cells, on="run_id")
    monthly = []
    for _, part in steps.groupby(keys, sort=False, dropna=False):
        wide = part.pivot(index="date", columns="run_id", values=list(columns)).sort_index()
        weights = _month_weights(wide.index.to_series())
        totals = pd.DataFrame(
            weights.to_numpy() @ wide.to_numpy(dtype=float),
            index=weights.index.astype(str),
            columns=wide.columns.set_names(["column", "run_id"]),
        )
        monthly.append(totals.rename_axis("month").stack(["column", "run_id"]).rename("t"))
    if not monthly:
        return pd.DataFrame(columns=[*keys, "month", "destination", "exports_t", "runs"])
    long = pd.concat(monthly).reset_index().merge(cells, on="run_id")
    long["destination"] = long["column"].map(columns)
    table = (
        long.groupby([*keys, "month", "destination"], sort=False, dropna=False)["t"]
        .agg(exports_t="median", runs="count")
        .reset_index()
    )
    order = destination_order(list(columns.values()))
    table["destination"] = pd.Categorical(table["destination"], categories=order, ordered=True)
    return _in_cell_order(table, cells, keys, ["month", "destination"])


def licence_desk_by_destination(
    steps: pd.DataFrame, runs: pd.DataFrame, factors: Sequence[str]
) -> pd.DataFrame:
    """The licence desk per design point and destination, medians over replications.

    Per run: applications filed, decided and approved (summed over its weeks) and the most
    applications pending in any week.

    Args:
        steps: weekly records with ``run_id`` and the ``<stat>__<CODE>`` columns of
            :data:`DESK_STATS` (a statistic missing from them is left out).
        runs: the ``runs.parquet`` table (only successful runs count).
        factors: the experiment factors.

    Returns:
        One row per design point and destination: the design point's columns,
        ``destination``, ``runs``, then ``filed``, ``decided``, ``approved``, ``peak_pending``
        (those present).
    """
    cells, keys = _ok_cells(runs, factors)
    per_run = []
    for prefix, how, name in DESK_STATS:
        columns = destination_columns(steps.columns, prefix)
        if not columns:
            continue
        value = steps.groupby("run_id")[list(columns)].agg(how).rename(columns=columns)
        per_run.append(value.stack().rename_axis(["run_id", "destination"]).rename(name))
    stats = [name for _, _, name in DESK_STATS]
    if not per_run:
        return pd.DataFrame(columns=[*keys, "destination", "runs"])
    long = pd.concat(per_run, axis=1).reset_index().merge(cells, on="run_id")
    present = [s for s in stats if s in long.columns]
    table = (
        long.groupby([*keys, "destination"], sort=False, dropna=False)
        .agg(runs=("run_id", "count"), **{s: (s, "median") for s in present})
        .reset_index()
    )
    order = destination_order(list(table["destination"]))
    table["destination"] = pd.Categorical(table["destination"], categories=order, ordered=True)
    return _in_cell_order(table, cells, keys, ["destination"])


def _in_cell_order(
    table: pd.DataFrame, cells: pd.DataFrame, keys: list[str], then: list[str]
) -> pd.DataFrame:
    """Rows by design point in order of first appearance, then by ``then``."""
    first = cells.drop_duplicates(keys)[keys].reset_index(drop=True)
    first["_cell"] = np.arange(len(first))
    ordered = table.merge(first, on=keys, how="left").sort_values(["_cell", *then], kind="stable")
    return ordered.drop(columns="_cell").reset_index(drop=True)


def _read_destination_steps(sweep: Sweep) -> pd.DataFrame | None:
    """The per-destination columns of ``steps.parquet``, or None if there are none.

    Also reads ``run_id``, ``date`` and ``china_exports_t``; None too if the sweep kept no steps.
    """
    if sweep.steps_path is None:
        return None
    available = pq.read_schema(sweep.steps_path).names
    wanted = [_EXPORTS, *(prefix for prefix, _, _ in DESK_STATS)]
    columns = [c for prefix in wanted for c in destination_columns(available, prefix)]
    if not columns or not {"run_id", "date"} <= set(available):
        return None
    if _EXPORTS in available:
        columns.append(_EXPORTS)
    table = pq.read_table(sweep.steps_path, columns=["run_id", "date", *columns])
    return table.to_pandas()


def _destination_label(code: str, codes: Sequence[str]) -> str:
    members = [c for c in codes if c in DESTINATION_TOTALS.get(code, ())]
    return f"{code} (total of {', '.join(members)})" if members else code


def _cell_label(row: pd.Series, keys: Sequence[str]) -> str:
    return ", ".join(f"{k} = {_level_label(row[k])}" for k in keys)


def _destination_html(
    exports: pd.DataFrame | None, desk: pd.DataFrame | None, keys: Sequence[str]
) -> str:
    """The page's section on China's exports and the licence desk by destination.

    Args:
        exports: :func:`exports_by_destination`, or None if the sweep did not record it.
        desk: :func:`licence_desk_by_destination`, or None likewise.
        keys: the columns that name a design point in both tables.
    """
    esc = html.escape
    body = ["<h2>China's exports and the licence desk by destination</h2>"]
    missing = (
        '<p class="note">Not available: this sweep\'s steps.parquet has no per-destination '
        "columns ({}), or the sweep kept no weekly steps.</p>"
    )
    if exports is None or exports.empty:
        body.append(missing.format("china_exports_t__&lt;CODE&gt;"))
    else:
        codes = list(exports["destination"].cat.categories)
        body.append(
            '<p class="note">China\'s exports, t per calendar month (customs basis): median over '
            f"each design point's successful runs; months a run covers only in part are left "
            f"out. {esc(ALL_DESTINATIONS)} = every destination; a total such as the EU also "
            "counts in its members. Each column is its own median, so the columns need not "
            f'add up. Data: <a href="{EXPORTS_FILE}">{EXPORTS_FILE}</a>.</p>'
        )
        for _, cell in exports.groupby(list(keys), sort=False, dropna=False):
            wide = cell.pivot(index="month", columns="destination", values="exports_t")
            header = ["month", *(_destination_label(c, codes) for c in wide.columns)]
            rows = [
                [month, *map(_fmt, values)]
                for month, values in zip(wide.index, wide.to_numpy(), strict=True)
            ]
            label = _cell_label(cell.iloc[0], keys)
            body.append(f"<details><summary>{esc(label)}</summary>")
            body.append(_html_table(_Table(label, header, rows)))
            body.append("</details>")
    if desk is None or desk.empty:
        body.append(missing.format("applications_filed__&lt;CODE&gt;, ..."))
    else:
        stats = [name for _, _, name in DESK_STATS if name in desk.columns]
        codes = list(dict.fromkeys(desk["destination"]))
        body.append(
            '<p class="note">Licence desk: applications filed, decided and approved over the '
            "run and the most pending in any week; medians over each design point's successful "
            f'runs. Data: <a href="{DESK_FILE}">{DESK_FILE}</a>.</p>'
        )
        header = ["design point", "destination", "runs", *(s.replace("_", " ") for s in stats)]
        rows = [
            [
                _cell_label(row, keys),
                _destination_label(row["destination"], codes),
                str(int(row["runs"])),
                *(_fmt(float(row[s])) for s in stats),
            ]
            for _, row in desk.iterrows()
        ]
        body.append(_html_table(_Table("licence desk", header, rows)))
    return "\n".join(body)


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222;
       padding: 0 1em; }
h1 { margin-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; }
th { background: #f2f2f2; }
td { text-align: right; white-space: nowrap; }
td:first-child { text-align: left; }
img { max-width: 100%; height: auto; display: block; margin: 0.5em 0 1.5em; }
.note { color: #555; font-size: 0.9em; }
.failed { color: #a00; }
"""


def _html_table(table: _Table, caption: str | None = None) -> str:
    esc = html.escape
    parts = ["<table>"]
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    parts.append(
        "<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in table.header) + "</tr></thead>"
    )
    parts.append("<tbody>")
    for row in table.rows:
        parts.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>")
    parts.append("</tbody></table>")
    return "\n".join(parts)


def _error_table(runs: pd.DataFrame) -> _Table | None:
    failed = runs[runs["status"] != "ok"]
    if failed.empty:
        return None
    messages = failed["error"] if "error" in failed.columns else pd.Series("", index=failed.index)
    first_line = messages.fillna("").astype(str).str.strip().str.split("\n").str[0]
    counts = first_line.replace("", "(no message)").value_counts().head(20)
    rows = [[msg, str(n)] for msg, n in counts.items()]
    return _Table("errors", ["error (first line)", "runs"], rows)


def _index_html(
    sweep: Sweep,
    n_ok: int,
    n_failed: int,
    tables: list[_Table],
    images: list[Path],
    by_destination: str,
) -> str:
    esc = html.escape
    body = [
        f"<h1>{esc(sweep.name)}</h1>",
        f'<p>{n_ok + n_failed} runs: {n_ok} ok, <span class="failed">{n_failed} failed</span>.'
        f" Factors: {esc(', '.join(sweep.factors) or 'none')}.</p>",
        '<p class="note">Files: <a href="summary.csv">summary.csv</a>, '
        '<a href="summary.md">summary.md</a>, <a href="cells.csv">cells.csv</a>.</p>',
    ]
    if images:
        body.append("<h2>Figures</h2>")
        for image in images:
            body.append(f'<img src="{esc(image.name)}" alt="{esc(image.stem.replace("_", " "))}">')
    body.append("<h2>Summary</h2>")
    body.append(
        '<p class="note">Cells: mean [95% confidence interval of the mean, Student t] over '
        "successful runs; (n=k) when only k runs have a value (e.g. no stoppage within the "
        "horizon); – when undefined.</p>"
    )
    for table in tables:
        body.append(f"<h3>By {esc(table.title)}</h3>")
        body.append(_html_table(table))
    body.append(by_destination)
    errors = _error_table(sweep.runs)
    if errors is not None:
        body.append("<h2>Failed runs</h2>")
        body.append(_html_table(errors))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(sweep.name)}: report</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def write_report(run_dir: Path) -> Path:
    """Write ``run_dir/report/`` for a finished sweep folder, replacing any older report.

    Args:
        run_dir: the folder ``magshock sweep`` wrote (``runs.parquet``, ``manifest.json`` and
            optionally ``steps.parquet``).

    Returns:
        The report folder.

    Raises:
        ReportError: on a missing or malformed sweep folder, a heatmap factor that is not a
            column, or a sweep without successful runs.
    """
    sweep = load_sweep(Path(run_dir))
    target = sweep.run_dir / REPORT_DIRNAME
    try:
        check_replaceable(target, overwrite=True, entries=REPORT_ENTRIES)
    except OutputExistsError as err:
        raise ReportError(str(err)) from None
    runs = sweep.runs
    kpis = headline_kpis(runs, sweep.factors)
    n_ok = int(sweep.ok.sum())
    n_failed = len(runs) - n_ok

    summary = summarise(runs, sweep.factors, kpis)
    cells = cell_table(runs, sweep.factors, kpis)
    tables = _summary_tables(summary, runs, sweep.factors)
    steps = _read_destination_steps(sweep)
    exports = desk = None
    _, cell_columns = _ok_cells(runs, sweep.factors)
    if steps is not None:
        exports = exports_by_destination(steps, runs, sweep.factors)
        desk = licence_desk_by_destination(steps, runs, sweep.factors)
        del steps

    with atomic_directory(target, overwrite=True, entries=REPORT_ENTRIES) as tmp:
        summary.to_csv(tmp / "summary.csv", index=False)
        cells.to_csv(tmp / "cells.csv", index=False)
        (tmp / "summary.md").write_text(_markdown(sweep.name, n_ok, n_failed, tables))
        images: list[Path] = []
        heatmap = _heatmap(sweep, tmp / HEATMAP_FILE)
        if heatmap is not None:
            images.append(heatmap)
        images += _fan_charts(sweep, tmp)
        prices = price_paths(sweep)
        if prices is not None:
            prices.to_csv(tmp / PRICES_FILE, index=False)
            figure = _draw_price_paths(sweep, prices, tmp / PRICES_FIGURE)
            if figure is not None:
                images.append(figure)
        for table, name in ((exports, EXPORTS_FILE), (desk, DESK_FILE)):
            if table is not None and not table.empty:
                table.to_csv(tmp / name, index=False)
        by_destination = _destination_html(exports, desk, cell_columns)
        (tmp / "index.html").write_text(
            _index_html(sweep, n_ok, n_failed, tables, images, by_destination)
        )
    return target
