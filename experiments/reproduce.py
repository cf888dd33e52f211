"""One-command reproduction: re-run the canonical experiments and compare with committed references.

``magshock reproduce`` re-runs each canonical experiment (the 2025 history, the baseline, a
reduced headline policy x ramp-up sweep and a small profile of the history calibration), and
compares its KPI table with the reference
committed under ``results/reference/<name>/`` (``kpis.csv`` + ``manifest.json``). On the
platform and package versions that made the reference the tables must be identical; anywhere
else they must agree within ``RTOL``/``ATOL``, and whatever moved is listed column by column.
"""

from __future__ import annotations

import io
import json
import math
import platform
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.atomic import atomic_directory, check_replaceable
from experiments.design import load_experiment
from experiments.results import git_commit, package_versions
from experiments.runner import sweep
from simulation.run import simulate
from simulation.scenario_io import REPO_ROOT, load_scenario

REFERENCE_DIR = REPO_ROOT / "results" / "reference"
RTOL = 1e-6  # tolerance across platforms / versions (same platform and versions: identical)
ATOL = 1e-9
SEED_ROOT = 2025
DROP = ["wall_time_s", "finished_at", "error"]


@dataclass(frozen=True)
class Canonical:
    """A canonical experiment: a scenario over seeds, or an experiment file (reduced)."""

    name: str
    description: str
    scenario: str | None = None
    seeds: int = 0
    experiment: str | None = None
    calibration: str | None = None


CANONICAL = [
    Canonical("history", "history_2025 over 5 seeds", scenario="history_2025", seeds=5),
    Canonical("baseline", "baseline_2025 over 5 seeds", scenario="baseline_2025", seeds=5),
    Canonical(
        "headline",
        "policy_vs_rampup.toml with 3 replications (--quick)",
        experiment="experiments/policy_vs_rampup.toml",
    ),
    Canonical(
        "calibration",
        "the ABC-SMC of history_2025 in a small profile (10 particles, 2 generations)",
        calibration="experiments/calibration/history_2025_quick.toml",
    ),
]


def compute(canonical: Canonical, workers: int = 2) -> pd.DataFrame:
    """Run one canonical experiment and return its KPI table (stable order and columns)."""
    if canonical.calibration is not None:
        from experiments.abc import run_calibration

        with tempfile.TemporaryDirectory() as tmp:
            out = run_calibration(
                REPO_ROOT / canonical.calibration, Path(tmp) / "abc", workers, report=False
            )
            table = pd.read_parquet(out / "posterior.parquet")
    elif canonical.experiment is not None:
        design = load_experiment(REPO_ROOT / canonical.experiment, quick=True)
        with tempfile.TemporaryDirectory() as tmp:
            sweep(design, Path(tmp) / "sweep", workers=workers)
            runs = pd.read_parquet(Path(tmp) / "sweep" / "runs.parquet")
        table = runs.drop(columns=[c for c in DROP if c in runs.columns])
    else:
        scenario = load_scenario(canonical.scenario)
        seeds = np.random.SeedSequence(SEED_ROOT).generate_state(canonical.seeds, dtype=np.uint32)
        rows = [
            {"seed": int(seed), **simulate(scenario, rng=int(seed), keep_steps=False).kpis}
            for seed in seeds
        ]
        table = pd.DataFrame(rows)
    return _normalise(table)


def _normalise(table: pd.DataFrame) -> pd.DataFrame:
    """Round-trip through CSV so fresh and saved tables compare like for like."""
    text = table.to_csv(index=False, float_format="%.17g")
    return pd.read_csv(io.StringIO(text))


def environment() -> dict[str, Any]:
    """What must match for results to be bit-identical."""
    return {"platform": platform.system(), "machine": platform.machine(), **package_versions()}


def save_reference(canonical: Canonical, table: pd.DataFrame, root: Path = REFERENCE_DIR) -> None:
    """Write ``kpis.csv`` and ``manifest.json`` for one canonical experiment."""
    with atomic_directory(root / canonical.name, overwrite=True) as folder:
        table.to_csv(folder / "kpis.csv", index=False, float_format="%.17g")
        (folder / "manifest.json").write_text(json.dumps(_manifest(canonical), indent=2) + "\n")


def _manifest(canonical: Canonical) -> dict[str, Any]:
    return {
        "name": canonical.name,
        "description": canonical.description,
        "environment": environment(),
        "git_commit": git_commit(),
        "rtol": RTOL,
        "atol": ATOL,
        "seed_root": SEED_ROOT,
    }


@dataclass
class Comparison:
    """Outcome of comparing a fresh table with its reference."""

    name: str
    mode: str  # "identical" or "tolerance"
    ok: bool
    rows: int
    differences: list[str]


def compare(name: str, fresh: pd.DataFrame, root: Path = REFERENCE_DIR) -> Comparison:
    """Compare a fresh KPI table with the committed reference, listing what moved."""
    folder = root / name
    if not (folder / "kpis.csv").exists():
        return Comparison(name, "missing", False, 0, [f"no reference at {folder}/kpis.csv"])
    reference = pd.read_csv(folder / "kpis.csv")
    saved_env = json.loads((folder / "manifest.json").read_text())["environment"]
    mode = "identical" if saved_env == environment() else "tolerance"
    problems: list[str] = []
    if list(reference.columns) != list(fresh.columns):
        missing = sorted(set(reference.columns) - set(fresh.columns))
        extra = sorted(set(fresh.columns) - set(reference.columns))
        problems.append(f"columns differ: missing {missing}, new {extra}")
    if len(reference) != len(fresh):
        problems.append(f"{len(fresh)} rows, reference has {len(reference)}")
    if problems:
        return Comparison(name, mode, False, len(fresh), problems)
    for column in reference.columns:
        a, b = fresh[column], reference[column]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
            both_nan = np.isnan(x) & np.isnan(y)
            if mode == "identical":
                bad = ~(both_nan | (x == y))
            else:
                bad = ~(both_nan | np.isclose(x, y, rtol=RTOL, atol=ATOL))
            if bad.any():
                gaps = np.abs(x[bad] - y[bad])
                diff = float(np.nanmax(gaps)) if not np.isnan(gaps).all() else math.nan
                first = int(np.flatnonzero(bad)[0])
                problems.append(
                    f"{column}: {int(bad.sum())} of {len(x)} rows moved (max |diff| {diff:.3g}; "
                    f"row {first}: {x[first]!r} vs reference {y[first]!r})"
                )
        elif not a.equals(b):
            problems.append(f"{column}: values differ")
    return Comparison(name, mode, not problems, len(fresh), problems)


def reproduce(
    names: list[str] | None = None,
    update: bool = False,
    root: Path = REFERENCE_DIR,
    workers: int = 2,
) -> list[Comparison]:
    """Re-run canonical experiments; compare with (or, with ``update``, rewrite) references.

    Raises:
        ValueError: for an unknown name.
        OutputExistsError: with ``update``, a reference folder holding what magshock did not
            write (checked before any run).
    """
    known = {c.name: c for c in CANONICAL}
    chosen = names or list(known)
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise ValueError(f"unknown canonical experiment(s) {unknown}; choose from {list(known)}")
    if update:  # refuse before hours of runs, not after
        for name in chosen:
            check_replaceable(root / name, overwrite=True)
    results = []
    for name in chosen:
        table = compute(known[name], workers=workers)
        if update:
            save_reference(known[name], table, root)
        results.append(compare(name, table, root))
    return results
