"""Which levers matter, and when does ramp-up fail? Sensitivity analysis and scenario discovery.

* Global sensitivity: Sobol indices (first order and total, with confidence intervals) from a
  Saltelli design, and Morris elementary effects (mu*, sigma) - both SALib - computed from a
  finished sweep of an experiment with ``sampling = "saltelli"`` or ``"morris"``.
* Scenario discovery: PRIM (the EMA workbench's) over any finished sweep: the boxes of factor
  space where a KPI passes a threshold, with coverage and density and the peeling trajectory.

Everything reads the sweep folder written by :func:`experiments.runner.sweep` (``runs.parquet``
and ``manifest.json``), so the same runner, backends, seeding and resume serve the analysis.
"""

from __future__ import annotations

import json
import math
import tomllib
import warnings
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.atomic import atomic_directory
from experiments.design import Experiment, quick_version, with_sampling

matplotlib.use("Agg")

DEFAULT_KPIS = [
    "lost_production_pct__IN",
    "lost_production_pct__JP",
    "domestic_share_at_horizon",
]
KPI_ALIASES = {
    "lost_production_india": "lost_production_pct__IN",
    "lost_production_japan": "lost_production_pct__JP",
    "domestic_share": "domestic_share_at_horizon",
}
FIXED_COLUMNS = {
    "run_id",
    "point",
    "replication",
    "seed",
    "status",
    "error",
    "wall_time_s",
    "finished_at",
}


class AnalysisError(ValueError):
    """A user mistake in an analysis request; ``str(err)`` is one line for the user."""


def _need_salib() -> None:
    try:
        import SALib  # noqa: F401
    except ImportError:
        raise AnalysisError(
            "the analysis needs the 'analysis' extra: pip install -e '.[analysis]'"
        ) from None


def load_sweep(folder: Path) -> tuple[pd.DataFrame, dict[str, Any], Experiment]:
    """Runs table, manifest and experiment of a finished sweep folder."""
    folder = Path(folder)
    if not (folder / "runs.parquet").exists() or not (folder / "manifest.json").exists():
        raise AnalysisError(
            f"{folder}: not a finished sweep folder (no runs.parquet/manifest.json)"
        )
    runs = pd.read_parquet(folder / "runs.parquet")
    manifest = json.loads((folder / "manifest.json").read_text())
    experiment = Experiment.model_validate(tomllib.loads(manifest["experiment_text"]))
    experiment = with_sampling(experiment, manifest.get("sampling"))
    if manifest.get("quick"):
        experiment = quick_version(experiment)
    return runs, manifest, experiment


def resolve_kpi(name: str, runs: pd.DataFrame) -> str:
    """A KPI column from its name or a friendly alias (``lost_production_india``)."""
    column = KPI_ALIASES.get(name, name)
    if column not in runs.columns or column in FIXED_COLUMNS:
        kpis = sorted(c for c in runs.columns if "__" in c or c.startswith(("licences", "peak")))
        raise AnalysisError(
            f"unknown KPI {name!r}; choose one of {', '.join([*KPI_ALIASES, *kpis[:12]])} ..."
        )
    return column


def point_means(runs: pd.DataFrame, kpi: str, n_points: int) -> np.ndarray:
    """Mean of a KPI over replications for each design point, in point order.

    Raises:
        AnalysisError: when runs are missing or failed, or the KPI is undefined (NaN).
    """
    ok = runs[runs["status"] == "ok"]
    means = ok.groupby("point")[kpi].mean().reindex(range(n_points))
    if means.isna().any():
        missing = int(means.isna().sum())
        raise AnalysisError(
            f"{kpi}: {missing} of {n_points} design points have no value (failed runs or an "
            "undefined KPI such as weeks to a stoppage that never happened)"
        )
    return means.to_numpy(dtype=float)


def _ranked(rows: list[dict[str, Any]], measure: str) -> pd.DataFrame:
    """Rows as a table ranked per KPI by ``measure`` (1 = most influential)."""
    table = pd.DataFrame(rows)
    table["rank"] = table.groupby("kpi")[measure].rank(ascending=False, method="first").astype(int)
    return table.sort_values(["kpi", "rank"]).reset_index(drop=True)


def sobol_table(
    problem: dict[str, Any], y_by_kpi: dict[str, np.ndarray], seed: int
) -> pd.DataFrame:
    """First-order and total Sobol indices with 95% confidence intervals, ranked per KPI."""
    _need_salib()
    from SALib.analyze import sobol

    rows = []
    for kpi, y in y_by_kpi.items():
        if np.ptp(y) == 0:
            res = {k: np.zeros(problem["num_vars"]) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            res = sobol.analyze(problem, y, calc_second_order=False, conf_level=0.95, seed=seed)
        for i, name in enumerate(problem["names"]):
            rows.append(
                {
                    "kpi": kpi,
                    "factor": name,
                    "S1": float(res["S1"][i]),
                    "S1_conf": float(res["S1_conf"][i]),
                    "ST": float(res["ST"][i]),
                    "ST_conf": float(res["ST_conf"][i]),
                }
            )
    return _ranked(rows, "ST")


def morris_table(
    problem: dict[str, Any], x: np.ndarray, y_by_kpi: dict[str, np.ndarray], levels: int, seed: int
) -> pd.DataFrame:
    """Morris mu* (with 95% CI) and sigma, ranked per KPI."""
    _need_salib()
    from SALib.analyze import morris

    rows = []
    for kpi, y in y_by_kpi.items():
        res = morris.analyze(problem, x, y, conf_level=0.95, num_levels=levels, seed=seed)
        for i, name in enumerate(problem["names"]):
            rows.append(
                {
                    "kpi": kpi,
                    "factor": name,
                    "mu_star": float(res["mu_star"][i]),
                    "mu_star_conf": float(res["mu_star_conf"][i]),
                    "sigma": float(res["sigma"][i]),
                }
            )
    return _ranked(rows, "mu_star")


def ranking_sentence(table: pd.DataFrame, kpi: str, measure: str) -> str:
    """One sentence naming the dominant levers for a KPI."""
    part = table[table["kpi"] == kpi].sort_values("rank")
    top = part.head(3)
    total = part[measure].clip(lower=0).sum()
    named = ", ".join(f"{r.factor} ({measure} {getattr(r, measure):.2f})" for r in top.itertuples())
    lead = top.iloc[0]
    share = getattr(lead, measure) / total if total > 0 else math.nan
    return (
        f"{kpi}: {lead.factor} dominates ({share:.0%} of the summed {measure}); top three: {named}."
    )


def _bar_chart(table: pd.DataFrame, measure: str, conf: str, title: str, path: Path) -> None:
    kpis = list(dict.fromkeys(table["kpi"]))
    fig = Figure(figsize=(5.2 * len(kpis), 4.2), constrained_layout=True)
    axes = fig.subplots(1, len(kpis), squeeze=False)[0]
    for ax, kpi in zip(axes, kpis, strict=True):
        part = table[table["kpi"] == kpi].sort_values(measure)
        ax.barh(part["factor"], part[measure], xerr=part[conf], color="#4c72b0", capsize=3)
        if "S1" in part:
            ax.barh(part["factor"], part["S1"], color="#dd8452", height=0.4, label="first order S1")
            ax.legend(loc="lower right", fontsize=8)
        ax.set_title(kpi, fontsize=10)
        ax.set_xlabel(f"{measure} (95% CI)")
    fig.suptitle(title)
    fig.savefig(path, dpi=110)


def analyse_sensitivity(folder: Path, method: str, kpis: list[str] | None = None) -> Path:
    """Compute Sobol or Morris indices for a finished sweep; write ``analysis/``.

    Returns:
        The ``analysis`` folder (``<method>.csv``, ``<method>.md``, ``<method>.png``).
    """
    _need_salib()
    runs, manifest, experiment = load_sweep(folder)
    wanted = {"sobol": "saltelli", "morris": "morris"}[method]
    if experiment.sampling != wanted:
        raise AnalysisError(
            f"{folder}: {method} needs an experiment with sampling = {wanted!r} "
            f"(this one has {experiment.sampling!r})"
        )
    from experiments.design import expand, salib_problem

    problem = salib_problem(experiment)
    points = expand(experiment)
    columns = [resolve_kpi(k, runs) for k in (kpis or DEFAULT_KPIS)]
    y = {k: point_means(runs, k, len(points)) for k in columns}
    if method == "sobol":
        table = sobol_table(problem, y, experiment.seed_root)
        measure, conf = "ST", "ST_conf"
    else:
        x = np.array([[p.values[n] for n in problem["names"]] for p in points], dtype=float)
        table = morris_table(problem, x, y, experiment.morris_levels, experiment.seed_root)
        measure, conf = "mu_star", "mu_star_conf"
    target = Path(folder) / "analysis"
    keep = {p.name: p.read_bytes() for p in target.glob("*") if p.is_file()}
    with atomic_directory(target, overwrite=True, entries=("sobol.*", "morris.*")) as tmp:
        for name, data in keep.items():  # keep the other method's results
            if not name.startswith(method):
                (tmp / name).write_bytes(data)
        table.to_csv(tmp / f"{method}.csv", index=False)
        lines = [f"# {manifest['experiment_name']}: {method} sensitivity", ""]
        lines += [f"- {ranking_sentence(table, k, measure)}" for k in columns]
        lines += ["", table.to_markdown(index=False, floatfmt=".3f")]
        (tmp / f"{method}.md").write_text("\n".join(lines) + "\n")
        what = "total Sobol index ST" if method == "sobol" else "Morris mu*"
        title = f"{manifest['experiment_name']}: {what}"
        _bar_chart(table, measure, conf, title, tmp / f"{method}.png")
    return target


# ---------------------------------------------------------------------- scenario discovery


def _plain_box(limits: pd.DataFrame, full: pd.DataFrame) -> list[str]:
    """Box limits in words, naming only the restricted dimensions."""
    words = []
    for name in limits.columns:
        low, high = limits[name].iloc[0], limits[name].iloc[1]
        full_low, full_high = full[name].iloc[0], full[name].iloc[1]
        if isinstance(low, (set, frozenset)):
            if set(low) != set(full_low):
                words.append(f"{name} in {{{', '.join(sorted(map(str, low)))}}}")
            continue
        slack = 0.05 * (full_high - full_low)  # one PRIM peel (5%) or less is not a limit
        parts = []
        if low > full_low + slack:
            parts.append(f"{name} > {low:.3g}")
        if high < full_high - slack:
            parts.append(f"{name} < {high:.3g}")
        if parts:
            words.append(" and ".join(parts))
    return words


def discover(
    folder: Path, kpi: str, above: float | None = None, below: float | None = None
) -> Path:
    """PRIM over a finished sweep: where does ``kpi`` pass the threshold? Writes ``discovery/``.

    Returns:
        The ``discovery`` folder (``boxes.md``, ``trajectory.csv``, ``trajectory.png``).
    """
    if (above is None) == (below is None):
        raise AnalysisError("give exactly one of --above or --below")
    with warnings.catch_warnings():  # the workbench warns about optional ipyparallel
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

    runs, manifest, _ = load_sweep(folder)
    column = resolve_kpi(kpi, runs)
    factors = [f for f in manifest["factors"] if f in runs.columns]
    if not factors:
        raise AnalysisError(f"{folder}: the sweep has no factors to search over")
    ok = runs[(runs["status"] == "ok") & runs[column].notna()]
    if len(ok) < 10:
        raise AnalysisError(f"{folder}: {len(ok)} usable runs; PRIM needs at least 10")
    x = ok[factors].copy()
    for name in factors:  # PRIM peels numbers as floats and labels as categories
        if pd.api.types.is_numeric_dtype(x[name]):
            x[name] = x[name].astype(float)
        else:
            x[name] = x[name].astype("category")
    y = (ok[column] > above if above is not None else ok[column] < below).to_numpy()
    if y.all() or not y.any():
        raise AnalysisError(
            f"{column} is {'above' if above is not None else 'below'} the threshold in "
            f"{'all' if y.all() else 'none'} of {len(y)} runs: nothing to discover"
        )
    box = prim.Prim(x.reset_index(drop=True), y, peel_alpha=0.05, mass_min=0.05).find_box()
    trajectory = box.peeling_trajectory.copy()
    chosen = _choose_box(trajectory)
    box.select(chosen)
    words = _plain_box(box.box_lim, box.box_lims[0])
    condition = (
        f"{column} {'>' if above is not None else '<'} {above if above is not None else below}"
    )
    text = [
        f"# Scenario discovery: {condition}",
        "",
        f"{int(y.sum())} of {len(y)} runs ({y.mean():.0%}) meet it. PRIM box {chosen} of "
        f"{len(trajectory) - 1}: coverage {box.coverage:.0%} (share of those runs inside the "
        f"box), density {box.density:.0%} (share of runs in the box that meet it), "
        f"mass {box.mass:.0%}.",
        "",
        "In words: " + (" and ".join(w for w in words if w) or "the whole space") + ".",
        "",
        box.box_lim.to_markdown(),
    ]
    target = Path(folder) / "discovery"
    entries = ("boxes.md", "trajectory.csv", "trajectory.png")
    with atomic_directory(target, overwrite=True, entries=entries) as tmp:
        (tmp / "boxes.md").write_text("\n".join(text) + "\n")
        trajectory.to_csv(tmp / "trajectory.csv", index=False)
        _trajectory_plot(trajectory, chosen, condition, tmp / "trajectory.png")
    return target


def _choose_box(trajectory: pd.DataFrame) -> int:
    """The box with the best coverage x density among those at least 80% dense."""
    score = trajectory["coverage"] * trajectory["density"]
    dense = trajectory["density"] >= 0.8
    candidates = score[dense] if dense.any() else score
    return int(candidates.idxmax())


def _trajectory_plot(trajectory: pd.DataFrame, chosen: int, title: str, path: Path) -> None:
    fig = Figure(figsize=(6, 4.5), constrained_layout=True)
    ax = fig.subplots()
    points = ax.scatter(
        trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap="viridis"
    )
    ax.scatter(
        trajectory["coverage"].iloc[chosen],
        trajectory["density"].iloc[chosen],
        s=160,
        facecolors="none",
        edgecolors="red",
        label=f"chosen box {chosen}",
    )
    fig.colorbar(points, ax=ax, label="restricted dimensions")
    ax.set_xlabel("coverage")
    ax.set_ylabel("density")
    ax.set_title(f"PRIM peeling trajectory: {title}", fontsize=10)
    ax.legend(loc="lower left")
    fig.savefig(path, dpi=110)
