"""The report of a calibration run: prior vs posterior, pairwise posterior, predictive bands.

:func:`write_report` adds to a ``magshock calibrate`` folder

* ``prior_posterior.png``: every parameter's weighted posterior histogram over its uniform
  prior, with the posterior median and the value the scenario ships;
* ``pairs.png``: the pairwise posterior (the last generation's particles, shade by weight);
* ``predictive.csv`` / ``predictive.png``: for every calibration target, the posterior
  predictive band (5-95% over the draws) beside the data;
* ``facts.csv``, ``checks.csv`` and ``targets.csv``: every stylised fact, every further
  outcome check (:mod:`experiments.checks`) and every observation of
  ``experiments/data/observations.toml`` (calibration, validation and consistency), scored
  on the same posterior predictive runs;
* ``report.md``: all of it, with the run's size, wall time and generations.

The predictive runs are the full history scenario (its own start date, not the
calibration's shortened run-in), one seed per draw: what a user of ``history_2025`` runs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments.abc import CalibrationFile, measure
from experiments.posterior import calibration_of, posterior_summary


def shipped_values(scenario: str, names: list[str]) -> dict[str, float]:
    """The values ``scenario`` ships for the calibrated parameters."""
    from experiments.calibrate_history import current
    from simulation.scenario_io import load_scenario

    raw = load_scenario(scenario).model_dump(mode="python", serialize_as_any=True)
    values = current(raw)
    return {n: float(values[n]) for n in names if n in values}


def predictive_runs(folder: str | Path, draws: int, seed_root: int = 2025) -> list:
    """One seed's history run (and no-controls twin) per posterior draw."""
    from experiments.posterior import posterior_scenarios
    from experiments.validation import run_posterior

    return run_posterior(posterior_scenarios(folder, draws, seed_root), seed_root)


def calibration_bands(
    spec: CalibrationFile, samples: dict[str, np.ndarray], seed_root: int = 2025
) -> pd.DataFrame:
    """Every calibration target: the data, its posterior predictive bands, what they hold.

    Two bands per observation, both 5-95% over the draws:

    * ``model``: the model's own value (parameter and seed uncertainty only);
    * ``with error``: the model's value plus the declared observation error, normal with
      the target's tolerance as standard deviation (the error the distance scales by; an
      assumption), drawn from ``SeedSequence([seed_root, 1])``. This is the posterior
      predictive of the observed number.

    A stylised fact has no error model: its band is the tolerance. It holds when at least
    ``PASS_SHARE`` of the draws lie inside (as in ``validate-history``).
    """
    from experiments.abc import target_scales
    from experiments.validation import PASS_SHARE

    scales = target_scales(spec.distance.band_scale)
    rng = np.random.default_rng(np.random.SeedSequence([seed_root, 1]))
    rows = []
    for target in spec.targets:
        low, high, scale = scales[target]
        values = samples[target]
        p5, median, p95 = np.nanpercentile(values, [5, 50, 95])
        row = {"target": target, "model p5": p5, "model median": median, "model p95": p95}
        if low == high:  # an observation with a tolerance
            noisy = values + rng.normal(0.0, scale, size=len(values))
            e5, e95 = np.nanpercentile(noisy, [5, 95])
            row |= {
                "data": f"{low:g} (tol. {scale:.3g})",
                "model band holds data": bool(p5 <= low <= p95),
                "with error p5": e5,
                "with error p95": e95,
                "band with error holds data": bool(e5 <= low <= e95),
                "median within tolerance": bool(abs(median - low) <= scale),
            }
        else:
            inside = float(np.mean((values >= low) & (values <= high)))
            row |= {
                "data": f"{low:g} .. {high:g}",
                "model band holds data": bool(p5 <= high and p95 >= low),
                "with error p5": math.nan,
                "with error p95": math.nan,
                "band with error holds data": inside >= PASS_SHARE,
                "median within tolerance": bool(low <= median <= high),
            }
        rows.append(row)
    columns = [
        "target",
        "data",
        "model p5",
        "model median",
        "model p95",
        "model band holds data",
        "with error p5",
        "with error p95",
        "band with error holds data",
        "median within tolerance",
    ]
    return pd.DataFrame(rows)[columns]


def _prior_posterior_figure(spec, posterior, summary, shipped) -> Figure:
    names = list(spec.parameters)
    cols = 4
    fig = Figure(figsize=(3.2 * cols, 2.6 * math.ceil(len(names) / cols)), layout="constrained")
    weights = posterior["weight"].to_numpy()
    for i, name in enumerate(names):
        ax = fig.add_subplot(math.ceil(len(names) / cols), cols, i + 1)
        prior = spec.parameters[name]
        ax.hist(
            posterior[name],
            bins=20,
            range=(prior.low, prior.high),
            weights=weights,
            density=True,
            color="#4c72b0",
            alpha=0.8,
            label="posterior",
        )
        ax.axhline(1 / (prior.high - prior.low), color="grey", ls=":", label="prior")
        ax.axvline(summary.loc[name, "median"], color="black", label="median")
        if name in shipped:
            ax.axvline(shipped[name], color="#dd8452", ls="--", label="shipped")
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        if i == 0:
            ax.legend(fontsize=6)
    return fig


def _pairs_figure(spec, posterior) -> Figure:
    names = list(spec.parameters)
    k = len(names)
    fig = Figure(figsize=(1.6 * k, 1.6 * k), layout="constrained")
    weights = posterior["weight"].to_numpy()
    shade = weights / weights.max()
    for i, yi in enumerate(names):
        for j, xj in enumerate(names):
            ax = fig.add_subplot(k, k, i * k + j + 1)
            px, py = spec.parameters[xj], spec.parameters[yi]
            if i == j:
                ax.hist(
                    posterior[xj],
                    bins=15,
                    range=(px.low, px.high),
                    weights=weights,
                    color="#4c72b0",
                )
            else:
                ax.scatter(posterior[xj], posterior[yi], s=4, c=shade, cmap="Blues", vmin=0, vmax=1)
                ax.set_ylim(py.low, py.high)
            ax.set_xlim(px.low, px.high)
            ax.tick_params(labelsize=5)
            if i == k - 1:
                ax.set_xlabel(xj, fontsize=7)
            if j == 0:
                ax.set_ylabel(yi, fontsize=7)
    return fig


def _predictive_figure(bands: pd.DataFrame, samples: dict[str, np.ndarray], data) -> Figure:
    """Small multiples: each target's predictive draws, model band, band with error, data."""
    n = len(bands)
    cols = 4
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(3.2 * cols, 1.9 * rows), layout="constrained")
    for i, row in enumerate(bands.to_dict("records")):
        ax = fig.add_subplot(rows, cols, i + 1)
        sample = samples[row["target"]]
        ax.hist(sample[~np.isnan(sample)], bins=15, color="#4c72b0", alpha=0.8)
        ax.axvspan(row["model p5"], row["model p95"], color="#4c72b0", alpha=0.2)
        if not math.isnan(row["with error p5"]):
            ax.axvspan(row["with error p5"], row["with error p95"], color="#8172b3", alpha=0.1)
        low, high = data[row["target"]]
        if low == high:
            ax.axvline(low, color="#c44e52", lw=2)
        else:
            top = high if math.isfinite(high) else max(row["model p95"], low) * 1.1
            ax.axvspan(low, top, color="#c44e52", alpha=0.15)
        colour = "black" if row["band with error holds data"] else "#c44e52"
        ax.set_title(row["target"][:42], fontsize=7, color=colour)
        ax.tick_params(labelsize=6)
    return fig


def _markdown_table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join([head, rule, *body])


def _cell(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "**no**"
    if isinstance(value, float | np.floating):
        return "" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def write_report(folder: str | Path, draws: int = 40, seed_root: int = 2025) -> Path:
    """Write the figures, tables and ``report.md`` of a calibration run into its folder.

    Args:
        folder: a ``magshock calibrate`` output folder.
        draws: posterior predictive draws (one seed each).
        seed_root: root of the draws' resampling and of their seeds.

    Returns:
        The path of ``report.md``.
    """
    from experiments.abc import target_scales
    from experiments.checks import CHECKS
    from experiments.targets import compare_targets
    from experiments.validation import PASS_SHARE, score_facts

    folder = Path(folder)
    spec = calibration_of(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    posterior = pd.read_parquet(folder / "posterior.parquet")
    generations = pd.read_csv(folder / "generations.csv")
    summary = posterior_summary(posterior)
    shipped = shipped_values(spec.scenario, list(spec.parameters))

    contexts = predictive_runs(folder, draws, seed_root)
    facts = score_facts(contexts)
    checks = score_facts(contexts, CHECKS)
    targets = compare_targets([c.steps for c in contexts])
    per_run = [measure(spec, ctx) for ctx in contexts]
    samples = {t: np.array([r[t] for r in per_run], dtype=float) for t in spec.targets}
    bands = calibration_bands(spec, samples, seed_root)
    data = {t: (low, high) for t, (low, high, _) in target_scales().items()}

    bands.to_csv(folder / "predictive.csv", index=False)
    facts.to_csv(folder / "facts.csv", index=False)
    checks.to_csv(folder / "checks.csv", index=False)
    targets.to_csv(folder / "targets.csv", index=False)
    _prior_posterior_figure(spec, posterior, summary, shipped).savefig(
        folder / "prior_posterior.png", dpi=110
    )
    _pairs_figure(spec, posterior).savefig(folder / "pairs.png", dpi=100)
    _predictive_figure(bands, samples, data).savefig(folder / "predictive.png", dpi=110)

    weights = posterior["weight"].to_numpy()
    ess = float(weights.sum() ** 2 / (weights**2).sum())
    params = pd.DataFrame(
        {
            "parameter": summary.index,
            "prior": [
                f"U({spec.parameters[n].low:g}, {spec.parameters[n].high:g})" for n in summary.index
            ],
            "posterior median": summary["median"].to_numpy(),
            "5%": summary["q05"].to_numpy(),
            "95%": summary["q95"].to_numpy(),
            "shipped": [shipped.get(n, math.nan) for n in summary.index],
        }
    )
    held = int(bands["band with error holds data"].sum())
    held_model = int(bands["model band holds data"].sum())
    lines = [
        f"# Calibration report: {spec.name}",
        "",
        f"{spec.description}",
        "",
        f"- ABC-SMC (pyabc {manifest['versions'].get('pyabc', '?')}), "
        f"{manifest['generations']} generations of {spec.abc.population_size} particles, "
        f"{manifest['simulations']} simulations, wall time {manifest['wall_time_s']:.0f} s "
        f"on {manifest['workers']} worker(s); seed root {spec.abc.seed_root}; "
        f"final epsilon {generations['epsilon'].iloc[-1]:.3g}; "
        f"effective sample size of the last generation {ess:.0f}.",
        f"- Posterior predictive: {draws} weighted draws from the posterior, one seed each, "
        "full history scenario (not the calibration's shortened run-in).",
        f"- Calibration targets whose posterior predictive band holds the data: {held} of "
        f"{len(bands)} with the declared observation error, {held_model} of {len(bands)} on "
        "the model's own value alone.",
        "",
        "## Posterior",
        "",
        _markdown_table(params),
        "",
        "![prior and posterior](prior_posterior.png)",
        "",
        "![pairwise posterior](pairs.png)",
        "",
        "## Calibration targets: posterior predictive band beside the data",
        "",
        "Bands are 5-95% over the draws. *model*: the model's own value (parameter and seed "
        "uncertainty). *with error*: plus the declared observation error, normal with the "
        "target's tolerance as standard deviation (the posterior predictive of the observed "
        "number; the error model is an assumption). A band holds the data when the data lie "
        "inside. A stylised fact has no error model: it holds when at least "
        f"{PASS_SHARE:.0%} of the draws lie inside its band (its PASS in validate-history).",
        "",
        _markdown_table(bands),
        "",
        "![posterior predictive](predictive.png)",
        "",
        "## Stylised facts on the posterior predictive runs",
        "",
        _markdown_table(facts.drop(columns=["fact"])),
        "",
        "## Further outcome facts (validation, never fitted)",
        "",
        "Bands are our reading of each fact's words (`experiments/data/observations.toml`, "
        "each band's note); `experiments.checks`.",
        "",
        _markdown_table(checks),
    ]
    for role in ("validation", "consistency"):
        part = targets[(targets["role"] == role)]
        part = part[
            [
                "key",
                "id",
                "aggregate",
                "data",
                "median",
                "p5",
                "p95",
                "rel_error",
                "tolerance",
                "within_tolerance",
                "status",
            ]
        ]
        lines += ["", f"## {role.capitalize()} targets (never fitted)", "", _markdown_table(part)]
    lines += ["", "## Generations", "", _markdown_table(generations)]
    path = folder / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path
