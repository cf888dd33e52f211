"""Experiment files: a base scenario, factors, replications and seeds, expanded into runs.

An experiment is declared as data (like the EMA workbench's uncertainties and levers, or a
NetLogo BehaviorSpace experiment) and expanded into a list of runs, never hand-written loops::

    name = "policy_vs_rampup"
    scenario = "scenarios/baseline_2025.toml"   # next to this file, or a library name
    replications = 20
    seed_root = 2025

    [factors.policy.levels]                     # labelled levels: each a set of overrides
    open = { licensing_policy = "open" }
    ban = { licensing_policy = "ban" }

    [factors.subsidy_usd_per_kg]                # a scenario parameter: a list of values ...
    values = [10, 25, 40]

    [factors.approval_probability]              # ... or a range, sampled (sampling = "lhs")
    range = [0.0, 1.0]

Discrete factors (``levels``, ``values``) are crossed in full; ranged factors are sampled
(Latin hypercube or Sobol, ``scipy.stats.qmc``) and the sample is crossed with the discrete
grid. Each design point runs ``replications`` times. A run's seed comes from
``numpy.random.SeedSequence(seed_root, spawn_key=...)`` and its coordinates, so the numbers
never depend on worker count, order or backend. With ``common_random_numbers = true`` (the
default) replication r uses the same seed at every design point, so policies are compared on
the same draws.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from simulation.errors import ScenarioError, allowed_range, validate_scenario
from simulation.overrides import apply_overrides
from simulation.policies import refuse_bools_for_numbers
from simulation.scenario import NAME_RULE, SafeName, Scenario, default_name
from simulation.scenario_io import parse_toml, read_scenario_file, resolve_scenario_path

EXPERIMENT_DIR = Path(__file__).resolve().parent
MAX_RUNS = 10_000_000  # larger designs are refused outright, never expanded
CONFIRM_RUNS = 100_000  # the CLI asks for --yes before expanding a larger design


class ExperimentError(ValueError):
    """An experiment file is invalid; ``str(err)`` is a one-line message for the user."""


class DesignTooLarge(ExperimentError):
    """The design has more runs than the caller's ``max_runs`` (it was not expanded)."""


class Factor(BaseModel):
    """One experimental factor: labelled ``levels``, a list of ``values`` or a sampled ``range``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    levels: dict[str, dict[str, Any]] | None = Field(
        None, description="Label -> flat scenario overrides applied together."
    )
    values: list[Any] | None = Field(None, min_length=1, description="Values of the parameter.")
    range: tuple[float, float] | None = Field(None, description="[low, high] to sample from.")
    integer: bool = Field(False, description="Round sampled values to integers.")
    role: Literal["uncertainty", "lever"] = Field(
        "uncertainty", description="EMA workbench role: something we do not control, or a lever."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Factor:
        given = [k for k in ("levels", "values", "range") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of levels, values or range")
        if self.levels is not None and not self.levels:
            raise ValueError("levels must not be empty")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError("range must be [low, high] with low < high")
        return self

    @property
    def is_sampled(self) -> bool:
        """Whether the factor is a range to sample."""
        return self.range is not None


class Outputs(BaseModel):
    """What each run keeps besides its KPIs (always kept)."""

    model_config = ConfigDict(extra="forbid")

    steps: bool = Field(True, description="Keep per-step model reporters (steps.parquet).")
    agents: bool = Field(False, description="Keep per-OEM weekly records (memory-heavy).")


class ReportSpec(BaseModel):
    """Which factors span the report's heatmap."""

    model_config = ConfigDict(extra="forbid")

    heatmap_rows: str | None = None
    heatmap_cols: str | None = None


class Experiment(BaseModel):
    """A validated experiment file."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    _no_bools = field_validator("*", mode="before")(refuse_bools_for_numbers)

    name: SafeName = Field(description=f"Used for the results folder ({NAME_RULE}).")
    description: str = ""
    scenario: str = Field(description="Base scenario: a path next to this file or a library name.")
    replications: int = Field(1, ge=1, le=100_000, description="Runs per design point.")
    seed_root: int = Field(0, ge=0, le=2**63 - 1, description="Root of every run's seed.")
    common_random_numbers: bool = Field(
        True, description="Same seeds for replication r at every design point."
    )
    sampling: Literal["grid", "lhs", "sobol", "saltelli", "morris"] = Field(
        "grid",
        description="How ranged factors are sampled: grid needs none; lhs or sobol fill the "
        "space; saltelli (Sobol indices) and morris (elementary effects) are SALib designs for "
        "`magshock analyse`.",
    )
    samples: int = Field(
        16,
        ge=1,
        le=1_000_000,
        description="lhs/sobol: points; saltelli: base sample N (N*(D+2) points).",
    )
    morris_levels: int = Field(4, ge=2, le=100, description="Grid levels of the Morris design.")
    morris_trajectories: int = Field(
        20, ge=2, le=100_000, description="Morris trajectories (r*(D+1) points)."
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Flat scenario overrides applied to every run."
    )
    weeks: int | None = Field(None, ge=1, le=1040, description="Override the scenario horizon.")
    outputs: Outputs = Field(default_factory=Outputs)
    report: ReportSpec = Field(default_factory=ReportSpec)
    factors: dict[str, Factor] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        sampled = [n for n, f in self.factors.items() if f.is_sampled]
        if self.sampling in ("saltelli", "morris"):
            discrete = [n for n, f in self.factors.items() if not f.is_sampled]
            if discrete or not sampled:
                raise ValueError(
                    f"sampling = {self.sampling!r} needs every factor to be a range "
                    f"(not: {', '.join(discrete) or 'no factors given'})"
                )
            if self.samples < 2:
                raise ValueError(f"samples = {self.samples} is too few for {self.sampling}")
        if sampled and self.sampling == "grid":
            raise ValueError(
                f"factor(s) {', '.join(sampled)} give a range: set sampling = 'lhs' or 'sobol'"
            )
        for key in ("heatmap_rows", "heatmap_cols"):
            name = getattr(self.report, key)
            if name is not None and name not in self.factors:
                raise ValueError(f"report.{key} = {name!r} is not a factor")
        return self


@dataclass(frozen=True)
class DesignPoint:
    """One combination of factor settings.

    Attributes:
        index: position in the design (0-based).
        values: factor name -> level label or value (what tables report).
        overrides: flat scenario overrides that realise it.
    """

    index: int
    values: dict[str, Any]
    overrides: dict[str, Any]


@dataclass(frozen=True)
class RunSpec:
    """One run of the design: a point, a replication and its seed."""

    run_id: int
    point: int
    replication: int
    seed: int


@dataclass
class Design:
    """An expanded, validated experiment: points, their scenarios and every run."""

    experiment: Experiment
    path: Path
    text: str
    points: list[DesignPoint]
    scenarios: list[Scenario]
    runs: list[RunSpec]
    base_sources: list[tuple[str, str]] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        """Hash of the experiment file text."""
        return hashlib.sha256(self.text.encode()).hexdigest()

    def table(self) -> list[dict[str, Any]]:
        """One dict per run: run_id, point, replication, seed and the factor values."""
        return [
            {
                "run_id": r.run_id,
                "point": r.point,
                "replication": r.replication,
                "seed": r.seed,
                **self.points[r.point].values,
            }
            for r in self.runs
        ]


def run_seed(seed_root: int, point: int, replication: int, common: bool) -> int:
    """A run's seed: SeedSequence(seed_root, spawn_key=coordinates), 63 bits.

    Example:
        >>> run_seed(2025, 3, 1, common=True) == run_seed(2025, 7, 1, common=True)
        True
        >>> run_seed(2025, 3, 1, common=False) == run_seed(2025, 7, 1, common=False)
        False
    """
    key = (replication,) if common else (point, replication)
    state = np.random.SeedSequence(seed_root, spawn_key=key).generate_state(1, dtype=np.uint64)
    return int(state[0] >> np.uint64(1))


def salib_problem(experiment: Experiment) -> dict[str, Any]:
    """The SALib problem (names and bounds) of the experiment's ranged factors."""
    names = [n for n, f in experiment.factors.items() if f.is_sampled]
    return {
        "num_vars": len(names),
        "names": names,
        "bounds": [list(experiment.factors[n].range) for n in names],
    }


def _sample(experiment: Experiment, names: list[str]) -> np.ndarray:
    """Values of the ranged factors, one row per point (a single empty row without ranges)."""
    if not names:
        return np.zeros((1, 0))
    d, n = len(names), experiment.samples
    bounds = np.array([experiment.factors[name].range for name in names], dtype=float)
    if experiment.sampling in ("saltelli", "morris"):
        try:
            from SALib.sample import morris, sobol
        except ImportError:
            raise ExperimentError(
                "SALib designs need the 'analysis' extra: pip install -e '.[analysis]'"
            ) from None
        problem = salib_problem(experiment)
        if experiment.sampling == "saltelli":
            return sobol.sample(problem, n, calc_second_order=False, seed=experiment.seed_root)
        return morris.sample(
            problem,
            experiment.morris_trajectories,
            num_levels=experiment.morris_levels,
            seed=experiment.seed_root,
        )
    from scipy.stats import qmc  # imported here: spawned sweep workers never need it

    if experiment.sampling == "lhs":
        unit = qmc.LatinHypercube(d=d, seed=experiment.seed_root).random(n)
    else:
        sobol_engine = qmc.Sobol(d=d, scramble=True, seed=experiment.seed_root)
        m = int(math.log2(n))
        unit = sobol_engine.random_base2(m) if 2**m == n else sobol_engine.random(n)
    return bounds[:, 0] + unit * (bounds[:, 1] - bounds[:, 0])


def run_count(experiment: Experiment) -> int:
    """Number of runs the experiment expands to, computed without expanding it."""
    points = 1
    for factor in experiment.factors.values():
        points *= len(factor.levels or factor.values or [None])
    ranged = sum(f.is_sampled for f in experiment.factors.values())
    if ranged:
        points *= {
            "saltelli": experiment.samples * (ranged + 2),
            "morris": experiment.morris_trajectories * (ranged + 1),
        }.get(experiment.sampling, experiment.samples)
    return points * experiment.replications


def expand(experiment: Experiment) -> list[DesignPoint]:
    """Cross the discrete factors and the sampled ranges into design points."""
    discrete: list[list[tuple[Any, dict[str, Any]]]] = []
    discrete_names: list[str] = []
    sampled_names: list[str] = []
    for name, factor in experiment.factors.items():
        if factor.levels is not None:
            discrete_names.append(name)
            discrete.append(list(factor.levels.items()))
        elif factor.values is not None:
            discrete_names.append(name)
            discrete.append([(v, {name: v}) for v in factor.values])
        else:
            sampled_names.append(name)
    sample = _sample(experiment, sampled_names)
    points = []
    for combo in itertools.product(*discrete):
        for row in sample:
            values: dict[str, Any] = {}
            overrides: dict[str, Any] = {}
            for name, (label, over) in zip(discrete_names, combo, strict=True):
                values[name] = label
                overrides.update(over)
            for name, raw in zip(sampled_names, row, strict=True):
                factor = experiment.factors[name]
                value = round(float(raw)) if factor.integer else float(raw)
                values[name] = value
                overrides[name] = value
            points.append(DesignPoint(len(points), values, overrides))
    return points


def _format(err: ValidationError, label: str) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        allowed = sorted(Experiment.model_fields) + sorted(Factor.model_fields)
        guess = difflib.get_close_matches(str(first["loc"][-1]), allowed, n=1)
        message = "unknown key" + (f"; did you mean {guess[0]!r}?" if guess else "")
    elif first["type"] not in ("value_error", "missing"):
        name = str(first["loc"][-1])
        field_info = Experiment.model_fields.get(name) or Factor.model_fields.get(name)
        message = f"{message} (got {first.get('input')!r}){allowed_range(field_info)}"
    return f"{label}: {key + ': ' if key else ''}{message}"


def quick_version(experiment: Experiment) -> Experiment:
    """The reduced design of ``--quick``: <= 3 replications, <= 8 samples, <= 4 Morris paths."""
    return experiment.model_copy(
        update={
            "replications": min(3, experiment.replications),
            "samples": min(8, experiment.samples),
            "morris_trajectories": min(4, experiment.morris_trajectories),
        }
    )


def with_sampling(experiment: Experiment, sampling: str | None) -> Experiment:
    """The experiment with another sampling design (e.g. Morris for a Saltelli file)."""
    if sampling is None or sampling == experiment.sampling:
        return experiment
    return Experiment.model_validate({**experiment.model_dump(), "sampling": sampling})


def load_experiment(
    path: str | Path,
    quick: bool = False,
    sampling: str | None = None,
    max_runs: int = MAX_RUNS,
) -> Design:
    """Read, validate and expand an experiment file into a :class:`Design`.

    Args:
        path: the experiment TOML file.
        quick: use the reduced design of :func:`quick_version` (a fast look, CI).
        sampling: run another sampling design than the file's (``magshock analyse morris``
            on a Saltelli file).
        max_runs: refuse (with :class:`DesignTooLarge`) a design of more runs than this,
            before expanding it; never more than ``MAX_RUNS``.

    Raises:
        ExperimentError: one line naming the file, the key and the problem; a factor value
            that makes an invalid scenario names the factor and level too.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        raw = parse_toml(text)
    except FileNotFoundError:
        raise ExperimentError(f"{path}: experiment file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ExperimentError(f"{path}: cannot read file: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ExperimentError(f"{path}: not valid TOML: {err}") from None
    except ScenarioError as err:
        raise ExperimentError(f"{path}: {err}") from None
    try:
        experiment = with_sampling(Experiment.model_validate(raw), sampling)
    except ValidationError as err:
        raise ExperimentError(_format(err, str(path))) from None
    if quick:
        experiment = quick_version(experiment)
    n_runs = run_count(experiment)
    if n_runs > MAX_RUNS:
        raise ExperimentError(
            f"{path}: design has {n_runs:,} runs; allowed at most {MAX_RUNS:,} "
            "(fewer replications, samples or factor values)"
        )
    if n_runs > max_runs:
        raise DesignTooLarge(f"{path}: design has {n_runs:,} runs (more than {max_runs:,})")
    try:
        scenario_path = resolve_scenario_path(experiment.scenario, relative_to=path.parent)
    except ScenarioError:
        raise ExperimentError(f"{path}: scenario: file {experiment.scenario!r} not found") from None
    try:
        base_raw, sources = read_scenario_file(scenario_path, ())
    except ScenarioError as err:
        raise ExperimentError(f"{path}: scenario: {err}") from None
    base_raw.setdefault("name", default_name(scenario_path.stem))
    points = expand(experiment)
    scenarios = []
    for point in points:
        overrides = {**experiment.overrides, **point.overrides}
        if experiment.weeks is not None:
            overrides.setdefault("weeks", experiment.weeks)
        where = ", ".join(f"{k}={v!r}" for k, v in point.values.items())
        try:
            scenario = validate_scenario(apply_overrides(base_raw, overrides), str(scenario_path))
        except ScenarioError as err:
            raise ExperimentError(f"{path}: factors ({where}): {err}") from None
        scenario._sources = sources
        scenarios.append(scenario)
    runs = [
        RunSpec(
            run_id=p.index * experiment.replications + r,
            point=p.index,
            replication=r,
            seed=run_seed(experiment.seed_root, p.index, r, experiment.common_random_numbers),
        )
        for p in points
        for r in range(experiment.replications)
    ]
    return Design(experiment, path, text, points, scenarios, runs, sources)
