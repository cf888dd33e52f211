"""A calibration's posterior in use: its summary, weighted draws and the scenarios they make.

Reads the output folder of ``magshock calibrate`` (:func:`experiments.abc.run_calibration`):
``posterior.parquet`` (the last generation's particles and weights) and ``manifest.json``
(the calibration file verbatim).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.abc import CalibrationFile


def posterior_summary(posterior: pd.DataFrame) -> pd.DataFrame:
    """Weighted median and 5-95% interval of every parameter of a posterior sample."""
    rows = {}
    weights = posterior["weight"].to_numpy()
    for name in posterior.columns.drop("weight"):
        values = posterior[name].to_numpy()
        order = np.argsort(values)
        cum = np.cumsum(weights[order]) / weights.sum()
        rows[name] = {
            q: float(values[order][np.searchsorted(cum, p)])
            for q, p in (("q05", 0.05), ("median", 0.5), ("q95", 0.95))
        }
    return pd.DataFrame(rows).T


def posterior_draws(folder: str | Path, draws: int, seed_root: int = 2025) -> list[dict]:
    """``draws`` parameter sets resampled by weight from a calibration's posterior.

    The resampling generator comes from ``SeedSequence(seed_root)``, so the draws reproduce.
    """
    posterior = pd.read_parquet(Path(folder) / "posterior.parquet")
    weights = posterior["weight"].to_numpy(dtype=float)
    rng = np.random.default_rng(np.random.SeedSequence(seed_root))
    rows = rng.choice(len(posterior), size=draws, replace=True, p=weights / weights.sum())
    params = posterior.drop(columns="weight")
    return [{k: float(v) for k, v in params.iloc[int(i)].items()} for i in rows]


def calibration_of(folder: str | Path) -> CalibrationFile:
    """The calibration file a run used (kept verbatim in its manifest)."""
    manifest = json.loads((Path(folder) / "manifest.json").read_text())
    return CalibrationFile(**tomllib.loads(manifest["file"]))


def posterior_scenarios(folder: str | Path, draws: int, seed_root: int = 2025) -> list:
    """One full history scenario per posterior draw (the calibration's scenario, its dates)."""
    from experiments.calibrate_history import apply
    from simulation.errors import validate_scenario
    from simulation.scenario_io import load_scenario

    spec = calibration_of(folder)
    raw = load_scenario(spec.scenario).model_dump(mode="python", serialize_as_any=True)
    return [
        validate_scenario(apply(raw, x), f"{spec.scenario}")
        for x in posterior_draws(folder, draws, seed_root)
    ]
