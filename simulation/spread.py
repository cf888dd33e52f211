"""Firm attributes that differ within a group: a number, or a distribution each firm draws from.

An OEM group (``[[oems]]``) may give some attributes as a distribution instead of one value::

    initial_inventory_weeks = { dist = "uniform", low = 2, high = 6 }   # C-IN-7
    size_weight = { dist = "triangular", low = 0.3, mode = 1, high = 3 } # plan shares differ

Each firm then draws its own value when the model is built, from the run's firm stream (a
child of the run's ``numpy.random.SeedSequence``, so the draws are reproducible and do not
shift the licence lottery). A single number still works, and a distribution of width zero
(``low == high``) draws nothing: both give the identical firms of the clone model.
"""

from __future__ import annotations

import typing
from numbers import Real
from typing import Annotated, Any, Literal

import annotated_types
import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator


class Spread(BaseModel):
    """A distribution of one firm attribute over the firms of a group (units: the attribute's)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    dist: Literal["uniform", "triangular"] = Field(
        description="Shape: uniform on [low, high], or triangular with its peak at mode."
    )
    low: float = Field(description="Lowest value a firm can draw (the attribute's unit).")
    high: float = Field(description="Highest value a firm can draw (the attribute's unit).")
    mode: float | None = Field(
        None, description="Most likely value (triangular only; default: the midpoint)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Spread:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        if self.mode is not None:
            if self.dist != "triangular":
                raise ValueError("mode is for dist = 'triangular' only")
            if not self.low <= self.mode <= self.high:
                raise ValueError(f"mode ({self.mode}) must lie in [low, high]")
        return self

    @property
    def peak(self) -> float:
        """The triangular peak (the midpoint when none is given)."""
        return (self.low + self.high) / 2 if self.mode is None else self.mode

    @property
    def mean(self) -> float:
        """Expected value of a draw."""
        if self.dist == "uniform":
            return (self.low + self.high) / 2
        return (self.low + self.peak + self.high) / 3

    def draw(self, rng: np.random.Generator) -> float:
        """One firm's value; ``low`` without using ``rng`` when the width is zero."""
        if self.high == self.low:
            return float(self.low)
        if self.dist == "uniform":
            return float(rng.uniform(self.low, self.high))
        return float(rng.triangular(self.low, self.peak, self.high))


def _as_spread(value: Any) -> Any:
    """A table becomes a :class:`Spread` (or one clear error); numbers pass."""
    if not isinstance(value, dict):
        if isinstance(value, Real) and not isinstance(value, bool | Spread):
            return float(value)  # numpy numbers from samplers too
        if not isinstance(value, Spread):
            raise ValueError(
                f"expected a number or a spread table {{ dist, low, high }} (got {value!r})"
            )
        return value
    try:
        return Spread.model_validate(value)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise ValueError(f"spread{' ' + where if where else ''}: {message}") from None


def drawn(**bounds: float) -> Any:
    """Annotation of a drawable attribute: a bounded number, or a :class:`Spread`.

    ``bounds`` are pydantic's ``ge``/``gt``/``le``/``lt``; a number is checked by pydantic, a
    spread by :func:`check_spread` (both ends must lie in the same range).
    """
    return Annotated[Annotated[float, Field(**bounds)] | Spread, BeforeValidator(_as_spread)]


def number_metadata(field: Any) -> list[Any]:
    """Bound markers of a field, including those of the number inside ``drawn(...)``."""
    metadata = list(field.metadata)
    for arg in typing.get_args(field.annotation):
        if typing.get_origin(arg) is Annotated:
            for extra in typing.get_args(arg)[1:]:
                metadata.extend(getattr(extra, "metadata", [extra]))
    return metadata


def check_spread(value: Any, field: Any) -> Any:
    """Raise ValueError if a :class:`Spread` reaches outside the field's bounds."""
    if not isinstance(value, Spread):
        return value
    for meta in number_metadata(field):
        for end in (value.low, value.high):
            if (
                (isinstance(meta, annotated_types.Ge) and end < meta.ge)
                or (isinstance(meta, annotated_types.Gt) and end <= meta.gt)
                or (isinstance(meta, annotated_types.Le) and end > meta.le)
                or (isinstance(meta, annotated_types.Lt) and end >= meta.lt)
            ):
                raise ValueError(
                    f"{value.dist} spread [{value.low}, {value.high}] leaves the range"
                )
    return value


def central(value: float | Spread) -> float:
    """The value itself, or a spread's mean (for levers and tables that show one number)."""
    return value.mean if isinstance(value, Spread) else float(value)


def draw(value: float | Spread, rng: np.random.Generator) -> float:
    """One firm's value of an attribute given as a number or a spread."""
    return value.draw(rng) if isinstance(value, Spread) else float(value)
