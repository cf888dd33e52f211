"""Writing run results: tables as Parquet, a manifest for citation and re-runs, atomically."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.atomic import atomic_directory
from simulation.run import RunResult
from simulation.scenario import Scenario

PACKAGES = ("magshock", "mesa", "numpy", "pandas", "pyarrow", "pydantic")
REPO_ROOT = Path(__file__).resolve().parent.parent


def git_commit() -> str | None:
    """The repository's HEAD commit (with ``-dirty`` if there are local changes), or None."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=5
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that determine the numbers."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def build_manifest(
    scenario: Scenario, seed: int | None, wall_time_s: float, **extra: Any
) -> dict[str, Any]:
    """Everything needed to cite and re-run a result: inputs verbatim and hashed, versions, seed."""
    return {
        "magshock_version": package_versions()["magshock"],
        "git_commit": git_commit(),
        "scenario_name": scenario.name,
        "scenario_sha256": scenario.sha256(),
        "scenario_files": [
            {"path": path, "sha256": hashlib.sha256(text.encode()).hexdigest(), "text": text}
            for path, text in scenario.sources
        ],
        "scenario_resolved": json.loads(scenario.model_dump_json(serialize_as_any=True)),
        "seed": seed,
        "wall_time_s": round(wall_time_s, 3),
        "versions": package_versions(),
        "platform": platform.platform(),
        "command": sys.argv,
        **extra,
    }


def run_row(scenario: Scenario, result: RunResult, status: str = "ok") -> pd.DataFrame:
    """One-row table for ``runs.parquet``: scenario, seed, weeks, status and every KPI."""
    row = {
        "scenario": scenario.name,
        "seed": result.seed,
        "weeks": len(result.steps),
        "status": status,
        **result.kpis,
    }
    return pd.DataFrame([row])


def write_run(
    out: Path,
    scenario: Scenario,
    result: RunResult,
    wall_time_s: float,
    overwrite: bool = False,
    **manifest_extra: Any,
) -> Path:
    """Write ``steps.parquet``, ``runs.parquet``, ``manifest.json`` (and ``agents.parquet``)."""
    with atomic_directory(out, overwrite=overwrite) as tmp:
        steps = result.steps.copy()
        steps.insert(0, "seed", result.seed)
        steps.insert(0, "scenario", scenario.name)
        steps.to_parquet(tmp / "steps.parquet", index=False)
        run_row(scenario, result).to_parquet(tmp / "runs.parquet", index=False)
        if result.agents is not None:
            result.agents.to_parquet(tmp / "agents.parquet", index=False)
        manifest = build_manifest(scenario, result.seed, wall_time_s, **manifest_extra)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return out
