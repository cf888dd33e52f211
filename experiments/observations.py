"""The observed series the model is compared with, read from ``experiments/data/observations.toml``.

The numbers are data, not code: each observation names its CALIBRATION.md id, the aggregate
it refers to (quantity, destination, calendar months, statistic), its unit, its role
(calibration, validation or consistency) and the tolerance used to call the model close.
:func:`load_observations` validates the file with pydantic and reports a mistake in one line.
"""

from __future__ import annotations

import tomllib
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from typing import Literal, Self

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DATA_FILE = files("experiments") / "data" / "observations.toml"

Role = Literal["calibration", "validation", "consistency"]
Statistic = Literal["total_t", "share_pct", "yoy_change_pct"]
DESTINATION_PATTERN = r"^(ALL|EU|[A-Z]{2}(\+[A-Z]{2})*)$"
PERIOD_PATTERN = r"^\d{4}(-\d{2}(/\d{4}-\d{2})?)?$"


class ObservationError(ValueError):
    """The observation file is unreadable or invalid (the message is one line)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Observation(_Frozen):
    """One observed number and the aggregate it refers to.

    Attributes:
        key: unique name of the observation.
        id: CALIBRATION.md id of the source fact.
        quantity: what is counted; ``exports_t`` = Chinese magnet exports, tonnes.
        destination: ``ALL``, ``EU``, an ISO country code, or codes joined by ``+``.
        period: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM/YYYY-MM`` (calendar months, inclusive).
        statistic: ``total_t`` (tonnes over the period), ``share_pct`` (the destination's %
            of all destinations' tonnes) or ``yoy_change_pct`` (% change against the same
            months a year earlier).
        value: the data value, in ``unit``.
        unit: unit of ``value``.
        role: ``calibration``, ``validation`` or ``consistency`` (CALIBRATION.md's rule).
        tolerance_pct: within tolerance if the model is within this % of ``value``.
        tolerance_points: within tolerance if the model is within this many points.
        derived: the arithmetic, when ``value`` is DERIVED from sourced figures.
        note: free text.
    """

    key: str = Field(pattern=r"^[a-z0-9_]+$")
    id: str
    quantity: Literal["exports_t"]
    destination: str = Field(pattern=DESTINATION_PATTERN)
    period: str = Field(pattern=PERIOD_PATTERN)
    statistic: Statistic
    value: float
    unit: str
    role: Role
    tolerance_pct: float | None = Field(default=None, gt=0)
    tolerance_points: float | None = Field(default=None, gt=0)
    derived: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_tolerance(self) -> Self:
        if (self.tolerance_pct is None) == (self.tolerance_points is None):
            raise ValueError("give exactly one of tolerance_pct and tolerance_points")
        if self.statistic == "total_t" and self.unit != "t":
            raise ValueError(f"a total_t observation is in t, not {self.unit!r}")
        if self.statistic == "total_t" and self.tolerance_pct is None:
            raise ValueError("a total_t observation needs tolerance_pct (relative)")
        if self.statistic == "share_pct" and self.destination == "ALL":
            raise ValueError("a share_pct observation needs a destination other than ALL")
        if not len(self.months):
            raise ValueError(f"period {self.period!r} ends before it starts")
        return self

    @cached_property
    def months(self) -> pd.PeriodIndex:
        """The calendar months of ``period``, in order."""
        first, _, last = self.period.partition("/")
        if len(first) == 4:
            first, last = f"{first}-01", f"{first}-12"
        return pd.period_range(first, last or first, freq="M")

    @property
    def aggregate_text(self) -> str:
        """The aggregate in short words, e.g. ``all 2025-06 total`` or ``EU 2025-01..06 y/y``."""
        first, last = self.months[0], self.months[-1]
        if first == last:
            months = str(first)
        elif first.year == last.year:
            months = f"{first}..{last.month:02d}"
        else:
            months = f"{first}..{last}"
        what = {"total_t": "total", "share_pct": "share", "yoy_change_pct": "y/y"}
        return (
            f"{self.destination.lower() if self.destination == 'ALL' else self.destination} "
            f"{months} {what[self.statistic]}"
        )

    @property
    def tolerance_text(self) -> str:
        """The tolerance as text, e.g. ``±15%`` or ``±5 pt``."""
        if self.tolerance_pct is not None:
            return f"±{self.tolerance_pct:g}%"
        return f"±{self.tolerance_points:g} pt"

    def within_tolerance(self, model_value: float) -> bool:
        """Whether a model value is within this observation's tolerance of the data value."""
        if self.tolerance_pct is not None:
            return abs(model_value - self.value) <= abs(self.value) * self.tolerance_pct / 100
        return abs(model_value - self.value) <= float(self.tolerance_points or 0)


class Band(_Frozen):
    """A stylised fact's target band (scored by :mod:`experiments.validation`).

    Attributes:
        id: the stylised fact, ``SF-1`` .. ``SF-5``.
        metric: the metric's name in :data:`experiments.validation.FACTS`.
        low: lower bound, in ``unit`` (may be ``-inf``).
        high: upper bound, in ``unit`` (may be ``inf``).
        unit: unit of the bounds.
        role: ``calibration``, ``validation`` or ``consistency``.
        note: free text.
    """

    id: str
    metric: str
    low: float
    high: float
    unit: str
    role: Role
    note: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.low > self.high:
            raise ValueError(f"low {self.low:g} is above high {self.high:g}")
        return self


class Catalogue(_Frozen):
    """A copy of CALIBRATION.md's ids, so the repository does not read that file at run time."""

    source: str
    ids: list[str] = Field(min_length=1)


class Observations(_Frozen):
    """The whole observation file: the id catalogue, the observations and the bands."""

    catalogue: Catalogue
    observation: list[Observation] = Field(min_length=1)
    band: list[Band] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        known = set(self.catalogue.ids)
        keys: set[str] = set()
        for i, obs in enumerate(self.observation):
            if obs.id not in known:
                raise ValueError(f"observation[{i}] ({obs.key}): id {obs.id!r} is not catalogued")
            if obs.key in keys:
                raise ValueError(f"observation[{i}]: key {obs.key!r} is used twice")
            keys.add(obs.key)
        for i, band in enumerate(self.band):
            if band.id not in known:
                raise ValueError(f"band[{i}] ({band.metric}): id {band.id!r} is not catalogued")
        return self

    def band_of(self, fact_id: str, metric: str) -> tuple[float, float]:
        """The (low, high) band of a stylised fact's metric.

        Raises:
            KeyError: if the file has no such band.
        """
        for band in self.band:
            if band.id == fact_id and band.metric == metric:
                return band.low, band.high
        raise KeyError(f"no band for {fact_id} {metric!r} in the observation file")


def _error_line(err: ValidationError, data: dict) -> str:
    """One line for the first error: where (with the observation's key) and what."""
    first = err.errors()[0]
    loc = list(first["loc"])
    where = ".".join(str(p) for p in loc)
    if len(loc) > 1 and loc[0] in ("observation", "band") and isinstance(loc[1], int):
        entries = data.get(loc[0], [])
        entry = entries[loc[1]] if loc[1] < len(entries) else {}
        label = entry.get("key") or entry.get("metric") if isinstance(entry, dict) else None
        where = f"{loc[0]}[{loc[1]}]" + (f" ({label})" if label else "")
        where += "".join(f".{p}" for p in loc[2:])
    message = first["msg"].removeprefix("Value error, ")
    got = f" (got {first['input']!r})" if first["type"] not in ("value_error", "missing") else ""
    more = f" [+{len(err.errors()) - 1} more]" if len(err.errors()) > 1 else ""
    return f"{where + ': ' if where else ''}{message}{got}{more}"


def load_observations(path: str | Path | None = None) -> Observations:
    """Read and validate an observation file (default: the one shipped with the package).

    Args:
        path: a TOML file; None reads ``experiments/data/observations.toml``.

    Returns:
        The validated, frozen observations.

    Raises:
        ObservationError: one line naming the file, the entry and the problem.

    Example:
        >>> obs = load_observations()
        >>> june = next(o for o in obs.observation if o.key == "exports_all_2025_06")
        >>> (june.id, june.value, june.unit, june.role)
        ('C-LIC-5', 3188.0, 't', 'calibration')
    """
    source = Path(str(path)) if path is not None else DATA_FILE
    label = str(path) if path is not None else "experiments/data/observations.toml"
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as err:
        raise ObservationError(f"{label}: cannot read: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ObservationError(f"{label}: not valid TOML: {err}") from None
    try:
        return Observations.model_validate(data)
    except ValidationError as err:
        raise ObservationError(f"{label}: {_error_line(err, data)}") from None
