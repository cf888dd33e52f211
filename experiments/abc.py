"""Bayesian calibration of the history replay: ABC-SMC with pyabc, from a declared file.

A calibration file (``experiments/calibration/*.toml``) declares

* ``scenario`` and the simulated window (``start_date`` .. ``end_date``: only the weeks the
  targets need are run);
* ``[parameters.<name>]``: the free parameters, each with a uniform prior ``low``..``high``
  inside the range :data:`experiments.calibrate_history.SPACE` allows (names there; each is
  a value marked "assumption" or a range of CALIBRATION.md);
* ``targets``: observation keys of ``experiments/data/observations.toml`` and stylised-fact
  bands (``"SF-3: week of first JP line stop"``). Every target must have role
  ``calibration``: a validation or consistency target is refused (the rule at the end of
  CALIBRATION.md);
* ``[abc]``: ``population_size``, ``max_populations``, ``min_epsilon``,
  ``max_simulations`` and ``seed_root``;
* ``[report]``: the posterior predictive draws of the report
  (:mod:`experiments.calibration_report`).

The distance (:class:`Distance`, declared in ``[distance]``) is the sum over targets of the
squared scaled error: an observation's error over its tolerance (percent of the value or
points), a band's distance outside the band over ``band_scale`` units of its metric (1: a
point or a week outside a stylised fact's band costs as much as one tolerance outside a
C-LIC-5 month), and ``missing_cost`` for a target a run cannot compute.

**Reproducible by construction.** pyabc draws proposals from numpy's global generator. The
:class:`SeededSampler` runs one task per particle of a generation; task ``i`` of generation
``t`` first seeds that generator from ``SeedSequence([seed_root, t + 1, i])`` and draws the
simulation's seed from it, and the results are kept in task order. The posterior is
therefore the same on one worker, two, or a Dask cluster (test). This replaces pyabc's own
multicore and Dask samplers, whose generations depend on which worker finishes first.
"""

from __future__ import annotations

import functools
import math
import tomllib
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from experiments.observations import load_observations

CALIBRATION_DIR = Path(__file__).resolve().parent / "calibration"


class CalibrationError(ValueError):
    """A calibration file that cannot be used (one line naming the file and key)."""


class Prior(BaseModel):
    """A uniform prior on ``low``..``high`` (the parameter's unit)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Prior:
        if not self.low < self.high:
            raise ValueError(f"low {self.low:g} must be below high {self.high:g}")
        return self


class AbcSettings(BaseModel):
    """Population size, stopping rule and seed of the ABC-SMC run."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    population_size: int = Field(100, ge=4, le=100_000)
    max_populations: int = Field(8, ge=1, le=100)
    min_epsilon: float = Field(0.0, ge=0)
    max_simulations: int = Field(5_000, ge=1, le=10_000_000)
    seed_root: int = Field(2025, ge=0)


class DistanceSettings(BaseModel):
    """The declared distance: sum of squared scaled errors (module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    band_scale: float = Field(1.0, gt=0, le=1000)
    missing_cost: float = Field(25.0, ge=0, le=1e6)


class ReportSettings(BaseModel):
    """The report's posterior predictive draws (0: no report)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    draws: int = Field(40, ge=0, le=10_000)


class CalibrationFile(BaseModel):
    """A declared calibration (module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    description: str = ""
    scenario: str = "history_2025"
    start_date: date | None = None
    end_date: date
    parameters: dict[str, Prior] = Field(min_length=1)
    targets: list[str] = Field(min_length=1)
    abc: AbcSettings = AbcSettings()
    distance: DistanceSettings = DistanceSettings()
    report: ReportSettings = ReportSettings()


@functools.cache
def shipped_observations():
    """The shipped observations, read once per process (every simulation scores against them)."""
    return load_observations()


def target_roles() -> dict[str, str]:
    """Role of every target name: observation keys and ``"SF-n: metric"`` bands."""
    obs = shipped_observations()
    roles = {o.key: o.role for o in obs.observation}
    roles.update({f"{b.id}: {b.metric}": b.role for b in obs.band})
    return roles


def calibration_text(path: str | Path) -> str:
    """The TOML text of a calibration file, or of the file a run's ``manifest.json`` kept.

    A bare name is looked up in ``experiments/calibration/``. Passing a manifest re-runs a
    calibration exactly as it was declared (same file, same seed root).

    Raises:
        CalibrationError: no such file, or a manifest without the file.
    """
    import json

    path = Path(path)
    if not path.is_file() and (CALIBRATION_DIR / path).is_file():
        path = CALIBRATION_DIR / path
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise CalibrationError(f"{path}: no such calibration file") from None
    if path.suffix == ".json":
        try:
            return json.loads(text)["file"]
        except (ValueError, KeyError, TypeError):
            raise CalibrationError(
                f"{path}: file: not a calibration manifest (no verbatim 'file')"
            ) from None
    return text


def load_calibration(path: str | Path) -> CalibrationFile:
    """Read and check a calibration file (or a run's manifest, :func:`calibration_text`).

    Raises:
        CalibrationError: one line naming the file, the key and what is allowed.
    """
    from experiments.calibrate_history import SPACE

    path = Path(path)
    try:
        data = tomllib.loads(calibration_text(path))
    except tomllib.TOMLDecodeError as err:
        raise CalibrationError(f"{path}: not valid TOML ({err})") from None
    try:
        spec = CalibrationFile(**data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CalibrationError(f"{path}: {where}: {first['msg']}") from None
    for name, prior in spec.parameters.items():
        if name not in SPACE:
            allowed = ", ".join(sorted(SPACE))
            raise CalibrationError(f"{path}: parameters.{name}: unknown (allowed: {allowed})")
        low, high = SPACE[name]
        if prior.low < low or prior.high > high:
            raise CalibrationError(
                f"{path}: parameters.{name}: prior {prior.low:g}..{prior.high:g} outside "
                f"the allowed range {low:g}..{high:g}"
            )
    roles = target_roles()
    for target in spec.targets:
        role = roles.get(target)
        if role is None:
            raise CalibrationError(f"{path}: targets: {target!r} is no observation or band")
        if role != "calibration":
            raise CalibrationError(
                f"{path}: targets: {target!r} has role {role!r}; only calibration targets "
                "may be fitted (CALIBRATION.md, 'Calibration and validation')"
            )
    return spec


# --------------------------------------------------------------------------- distance


def target_scales(band_scale: float = 1.0) -> dict[str, tuple[float, float, float]]:
    """For every target: (data value or band low, band high, scale) for :func:`distance`."""
    obs = shipped_observations()
    out: dict[str, tuple[float, float, float]] = {}
    for o in obs.observation:
        tol = o.tolerance_pct * abs(o.value) / 100 if o.tolerance_pct else o.tolerance_points
        out[o.key] = (o.value, o.value, float(tol))
    for b in obs.band:
        out[f"{b.id}: {b.metric}"] = (b.low, b.high, band_scale)
    return out


class Distance:
    """The declared distance between a run's targets and the data (module docstring).

    Picklable and cheap to call: the scales are read once.
    """

    def __init__(self, settings: DistanceSettings | None = None) -> None:
        settings = settings or DistanceSettings()
        self.scales = target_scales(settings.band_scale)
        self.missing_cost = settings.missing_cost

    def terms(self, simulated: dict[str, float], observed: Iterable[str]) -> dict[str, float]:
        """Each target's squared scaled error (``missing_cost`` when it is NaN)."""
        out = {}
        for key in observed:
            low, high, scale = self.scales[key]
            value = simulated.get(key, math.nan)
            if value is None or math.isnan(value):
                out[key] = self.missing_cost
                continue
            outside = max(0.0, low - value, value - high)
            out[key] = (outside / scale) ** 2
        return out

    def __call__(self, simulated: dict[str, float], observed: dict[str, float]) -> float:
        """Sum of :meth:`terms` over the observed targets."""
        return float(sum(self.terms(simulated, observed).values()))


# --------------------------------------------------------------------------- sampler


def _seeded_task(simulate_one: bytes, seed_root: int, t: int, cap: float, task: int):
    """Seed numpy's global generator for one particle, then sample until one is accepted.

    At most ``cap`` simulations; the task then returns its rejected ones. ``simulate_one``
    comes cloudpickled (pyabc's closure does not pickle otherwise).
    """
    import cloudpickle

    simulate_one = cloudpickle.loads(simulate_one)
    state = np.random.SeedSequence([seed_root, t + 1, task]).generate_state(4)
    np.random.seed(state)
    sims = []
    while len(sims) < cap:
        particle = simulate_one()
        sims.append(particle)
        if particle.accepted:
            break
    return sims


BATCH = 25
"""Tasks per budget check: a generation runs in batches of this many particles, in order."""


def make_sampler(
    seed_root: int,
    map_: Callable[[Callable, Iterable], Iterable] = map,
    max_simulations: float = math.inf,
):
    """A pyabc sampler whose generations depend on ``seed_root`` only, not on the workers.

    Args:
        seed_root: root of the per-task seed sequence.
        map_: an order-preserving map (``map``, an executor's ``map``).
        max_simulations: the run's budget, checked after every :data:`BATCH` tasks (a
            fixed number, so the cut is the same on any number of workers); each of a
            batch's ``k`` tasks may use ``ceil(left / k)`` simulations. A generation that
            runs out is incomplete and the run ends with the generation before it (pyabc's
            ``sample.ok``). pyabc's own ``max_total_nr_simulations`` is checked only between
            generations.
    """
    from pyabc.sampler import Sampler

    class SeededSampler(Sampler):
        """One task per particle, seeded from ``SeedSequence([root, t + 1, task])``."""

        used = 0

        def sample_until_n_accepted(self, n, simulate_one, t, **kwargs):
            import cloudpickle

            packed = cloudpickle.dumps(simulate_one)
            sample = self._create_empty_sample()
            self.nr_evaluations_ = 0
            for first in range(0, n, BATCH):
                left = max_simulations - self.used
                if left <= 0:
                    break
                tasks = range(first, min(n, first + BATCH))
                cap = math.ceil(left / len(tasks)) if math.isfinite(left) else math.inf
                task = functools.partial(_seeded_task, packed, seed_root, t, cap)
                for particles in map_(task, tasks):
                    self.nr_evaluations_ += len(particles)
                    self.used += len(particles)
                    for particle in particles:
                        sample.append(particle)
                if sample.n_accepted < min(n, first + BATCH):
                    break
            if sample.n_accepted < n:
                sample.ok = False
            return sample

    return SeededSampler()


# --------------------------------------------------------------------------- the model


class HistoryModel:
    """pyabc's model: a parameter set -> every target's value in one seeded history run.

    The run's seed is drawn from numpy's global generator, which :class:`SeededSampler`
    seeds per task. Picklable: it holds the raw scenario mapping, not a model.
    """

    def __init__(self, spec: CalibrationFile) -> None:
        from simulation.scenario_io import load_scenario

        self.spec = spec
        self.raw = load_scenario(spec.scenario).model_dump(mode="python", serialize_as_any=True)

    def __call__(self, parameters: dict[str, float]) -> dict[str, float]:
        """Summary statistics (target name -> value) of one run at ``parameters``."""
        seed = int(np.random.randint(0, 2**31 - 1))
        return target_values(self.spec, self.raw, dict(parameters), seed)


def target_values(
    spec: CalibrationFile, raw: dict[str, Any], x: dict[str, float], seed: int
) -> dict[str, float]:
    """Every target of ``spec`` for one run of ``raw`` with the parameters ``x`` set."""
    from experiments.calibrate_history import apply
    from experiments.validation import FACTS, Context, counterfactual_of
    from simulation.errors import validate_scenario
    from simulation.run import simulate

    data = apply(raw, x)
    if spec.start_date is not None:
        data["simulation"] = {**data["simulation"], "start_date": spec.start_date}
    scenario = validate_scenario(data, spec.name)
    weeks = scenario.week_of(spec.end_date)
    steps = simulate(scenario, rng=seed, weeks=weeks).steps
    facts = {f"{f.id}: {f.metric}": f for f in FACTS}
    counterfactual = steps
    if any(t in facts and facts[t].id == "SF-4" for t in spec.targets):
        counterfactual = simulate(counterfactual_of(scenario), rng=seed, weeks=weeks).steps
    return measure(spec, Context(steps, counterfactual, scenario))


def measure(spec: CalibrationFile, ctx) -> dict[str, float]:
    """Every target of ``spec`` in one run (an :class:`experiments.validation.Context`)."""
    from experiments.months import monthly_totals
    from experiments.targets import _needed_columns, model_value
    from experiments.validation import FACTS

    facts = {f"{f.id}: {f.metric}": f for f in FACTS}
    observations = {o.key: o for o in shipped_observations().observation}
    wanted = [observations[t] for t in spec.targets if t in observations]
    columns = sorted({c for o in wanted for c in _needed_columns(o)})
    monthly = monthly_totals(ctx.steps, columns) if columns else None
    out: dict[str, float] = {}
    for target in spec.targets:
        if target in facts:
            out[target] = float(facts[target].compute(ctx))
        else:
            out[target] = float(model_value(observations[target], monthly))
    return out


def observed_values(spec: CalibrationFile) -> dict[str, float]:
    """The data side of every target (bands: their lower bound; the distance reads both)."""
    scales = target_scales()
    return {t: scales[t][0] for t in spec.targets}


# --------------------------------------------------------------------------- the run


def run_calibration(
    path: str | Path,
    out: Path,
    workers: int = 1,
    scheduler: str | None = None,
    model: Callable[[dict[str, float]], dict[str, float]] | None = None,
    report: bool = True,
) -> Path:
    """Run the declared ABC-SMC and write it to ``out`` (atomically).

    Writes ``history.db`` (pyabc's SQLite history), ``posterior.parquet`` (the last
    generation: one row per particle, its parameters and weight), ``generations.csv``
    (epsilon, particles and simulations per generation) and ``manifest.json`` (the file
    verbatim and hashed, versions, seed root, workers, wall time, simulations).

    Args:
        path: the calibration file.
        out: the output folder (must not exist).
        workers: local processes, or the workers of a Dask ``LocalCluster`` with
            ``scheduler="local"``.
        scheduler: a Dask scheduler address (``tcp://host:8786``) or ``"local"``.
        model: replaces :class:`HistoryModel` (tests: a toy model with a known answer).
        report: write the report (:mod:`experiments.calibration_report`) with the file's
            ``[report] draws``; never with a toy ``model``.
    """
    import hashlib
    import json
    import time

    import pyabc

    from experiments.atomic import atomic_directory
    from experiments.results import git_commit, package_versions
    from experiments.runner import open_executor

    spec = load_calibration(path)
    text = calibration_text(path)
    prior = pyabc.Distribution(
        **{n: pyabc.RV("uniform", p.low, p.high - p.low) for n, p in spec.parameters.items()}
    )
    started = time.perf_counter()
    with open_executor(workers, scheduler) as executor:
        map_ = executor.map if executor is not None else map
        with atomic_directory(Path(out)) as tmp:
            sampler = make_sampler(spec.abc.seed_root, map_, spec.abc.max_simulations)
            abc = pyabc.ABCSMC(
                model or HistoryModel(spec),
                prior,
                Distance(spec.distance),
                population_size=spec.abc.population_size,
                sampler=sampler,
            )
            abc.new(f"sqlite:///{tmp / 'history.db'}", observed_values(spec))
            history = abc.run(
                minimum_epsilon=spec.abc.min_epsilon,
                max_nr_populations=spec.abc.max_populations,
                max_total_nr_simulations=spec.abc.max_simulations,
            )
            frame, weights = history.get_distribution()
            posterior = frame.reset_index(drop=True)
            posterior["weight"] = weights
            posterior.to_parquet(tmp / "posterior.parquet")
            generations = history.get_all_populations()
            generations.to_csv(tmp / "generations.csv", index=False)
            manifest = {
                "calibration": spec.name,
                "file": text,
                "file_sha256": hashlib.sha256(text.encode()).hexdigest(),
                "seed_root": spec.abc.seed_root,
                "workers": workers if not scheduler else f"dask {scheduler}",
                "simulations": int(sampler.used),
                "simulations_in_history": int(history.total_nr_simulations),
                "generations": int(history.max_t + 1),
                "wall_time_s": round(time.perf_counter() - started, 1),
                "git_commit": git_commit(),
                "versions": {**package_versions(), "pyabc": pyabc.__version__},
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
            if report and model is None and spec.report.draws:
                from experiments.calibration_report import write_report

                write_report(tmp, spec.report.draws, spec.abc.seed_root)
    return Path(out)
