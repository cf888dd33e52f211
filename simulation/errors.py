"""Scenario errors: validating a raw mapping and the one-line message for each mistake.

Any mistake in a scenario raises :class:`ScenarioError` with one line naming the file, the
key, the problem and the allowed range (:func:`allowed_range`); :func:`validate_scenario`
turns pydantic's errors into that line.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

import annotated_types
from pydantic import BaseModel, ValidationError

from simulation.policies import LicencePolicy, policy_class
from simulation.scenario import Scenario
from simulation.spread import number_metadata


class ScenarioError(ValueError):
    """A scenario (or override) is invalid; ``str(err)`` is a one-line message for the user."""


def validate_scenario(data: dict[str, Any], label: str = "<scenario>") -> Scenario:
    """Validate a raw mapping into a :class:`Scenario`, resolving dates to weeks.

    Raises:
        ScenarioError: naming ``label`` (usually the file), the key and the allowed range.
    """
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_format_error(err, data, label)) from None


def _loc_text(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _unwrap(annotation: Any) -> Any:
    """The model class inside list[X], dict[str, X], X | None; else the annotation itself."""
    origin = typing.get_origin(annotation)
    if origin in (list, dict):
        return _unwrap(typing.get_args(annotation)[-1])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else annotation
    return annotation


def _walk(loc: tuple[Any, ...], data: Any) -> tuple[type[BaseModel] | None, Any]:
    """Follow ``loc`` through the schema; return (model owning the last key, its FieldInfo)."""
    cls: Any = Scenario
    i = 0
    while i < len(loc):
        part = loc[i]
        i += 1
        if isinstance(part, int):
            data = data[part] if isinstance(data, list) and part < len(data) else None
            continue
        if isinstance(cls, type) and issubclass(cls, LicencePolicy) and isinstance(data, dict):
            try:
                cls = policy_class(str(data.get("kind")))
            except ValueError:
                return None, None
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            return None, None
        info = cls.model_fields.get(part)
        if i == len(loc) or info is None:
            return cls, info
        data = data.get(part) if isinstance(data, dict) else None
        if typing.get_origin(info.annotation) is dict and i < len(loc):
            data = data.get(loc[i]) if isinstance(data, dict) else None
            i += 1
        cls = _unwrap(info.annotation)
    return None, None


def allowed_range(field_info: Any) -> str:
    """``'; allowed range [low, high]'`` from a field's bounds, or ``''`` if it has none."""
    if field_info is None:
        return ""
    low = high = None
    low_open = high_open = False
    for meta in number_metadata(field_info):
        if isinstance(meta, annotated_types.Ge):
            low = meta.ge
        elif isinstance(meta, annotated_types.Gt):
            low, low_open = meta.gt, True
        elif isinstance(meta, annotated_types.Le):
            high = meta.le
        elif isinstance(meta, annotated_types.Lt):
            high, high_open = meta.lt, True
    if low is None and high is None:
        return ""
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    low_text = "-inf" if low is None else low
    high_text = "inf" if high is None else high
    return f"; allowed range {left}{low_text}, {high_text}{right}"


def _format_error(err: ValidationError, data: dict[str, Any], label: str) -> str:
    """One line for the first error (and a count of the others)."""
    errors = err.errors()
    first = errors[0]
    loc = tuple(first["loc"])
    key = _loc_text(loc)
    owner, field_info = _walk(loc, data)
    if first["type"] == "extra_forbidden":
        allowed = sorted(owner.model_fields) if owner is not None else []
        guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"; did you mean {guess[0]!r}?" if guess else ""
        message = f"unknown key{hint}"
        if not guess and allowed:
            message += f" (allowed: {', '.join(allowed)})"
    elif first["type"] == "missing":
        message = "required key is missing"
    elif first["type"] == "value_error":  # our own checks: the message says it all
        message = first["msg"].removeprefix("Value error, ") + allowed_range(field_info)
    else:
        message = f"{first['msg']} (got {first.get('input')!r}){allowed_range(field_info)}"
    more = f" [+{len(errors) - 1} more problem(s)]" if len(errors) > 1 else ""
    return f"{label}: {key + ': ' if key else ''}{message}{more}"
