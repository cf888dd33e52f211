"""The licence-policy interface: :class:`LicencePolicy`, its kind registry, Open and Ban.

:class:`LicencePolicy` defines every method the authority calls each week, with the open
regime's answers as defaults, and registers each subclass under its ``kind`` when the class is
defined. :class:`Open` (no licence needed) and :class:`Ban` (none ever issued) are the two
fixed regimes. :func:`refuse_bools_for_numbers` is the field check every policy model (and the
scenario schema) shares.
"""

from __future__ import annotations

import typing
from datetime import date
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from simulation.policies.records import Application, Decision


def refuse_bools_for_numbers(cls: type[BaseModel], value: Any, info: ValidationInfo) -> Any:
    """A ``field_validator("*", mode="before")``: refuse true/false for a numeric field.

    Pydantic would read ``weeks = true`` as 1; a boolean where a number is meant is a typo.
    """
    if isinstance(value, bool) and info.field_name is not None:
        annotation = cls.model_fields[info.field_name].annotation
        types_ = {
            typing.get_args(a)[0] if typing.get_origin(a) is typing.Annotated else a
            for a in (typing.get_args(annotation) or (annotation,))
        }
        if bool not in types_ and types_ & {int, float}:
            raise ValueError(f"expected a number, not a boolean (got {str(value).lower()})")
    return value


class LicencePolicy(BaseModel):
    """Base class of all licence policies (the default behaviour is an open regime).

    A policy's fields are frozen configuration (part of the scenario's identity); state a
    policy keeps during a run (quota used, resolved phase weeks) lives in ``PrivateAttr``s of
    the model's own copy.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    registry: ClassVar[dict[str, type[LicencePolicy]]] = {}
    kind: str
    _no_bools = field_validator("*", mode="before")(refuse_bools_for_numbers)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Register each concrete policy under the default value of its ``kind`` field.

        Raises:
            TypeError: if a different class already holds that kind (a subclass that forgot
                to declare its own ``kind`` would otherwise replace a built-in policy).
        """
        super().__pydantic_init_subclass__(**kwargs)
        default = cls.model_fields["kind"].default
        if not isinstance(default, str):
            return
        held = LicencePolicy.registry.get(default)
        same = held is not None and (held.__module__, held.__qualname__) == (
            cls.__module__,
            cls.__qualname__,
        )
        if held is not None and not same:
            raise TypeError(
                f"{cls.__qualname__}: licence policy kind {default!r} is taken by "
                f"{held.__module__}.{held.__qualname__}; declare kind: Literal['your_name']"
            )
        LicencePolicy.registry[default] = cls

    def requires_licence(self, destination: str, week: int, product: str = "magnet") -> bool:
        """Whether an export of ``product`` to ``destination`` in ``week`` needs a licence.

        A query, not a decision: the answer may depend only on the policy's fields and the
        arguments (the authority asks once per destination, product and week).
        """
        return True

    def review_capacity(self, week: int) -> int | None:
        """Applications the desk can decide in ``week``, all destinations together.

        ``None`` means unlimited.
        """
        return None

    def draw_delay_weeks(
        self, application: Application, week: int, rng: np.random.Generator
    ) -> int:
        """Weeks between filing and the earliest decision (drawn once, at filing)."""
        return 0

    def decide(self, application: Application, week: int, rng: np.random.Generator) -> Decision:
        """Decide one application (called only once its delay has passed)."""
        raise NotImplementedError

    def begin_review(self, batch: list[Application], week: int) -> None:
        """Hook called with the week's review batch before ``decide`` (used by pro-rata quotas)."""

    def holds(self, application: Application, week: int) -> bool:
        """Whether the authority sits on ``application`` this week (queued, not decided)."""
        return False

    def holds_destination(self, destination: str, week: int) -> bool | None:
        """:meth:`holds` for every application to ``destination`` at once, if it is that simple.

        True: all of them are held this week; False: none is; None: ask :meth:`holds` one
        application at a time. The authority uses this to skip a held destination's whole
        queue without looking at each application. The default answers False when
        :meth:`holds` is not overridden, else None; override both together.
        """
        return False if type(self).holds is LicencePolicy.holds else None

    def suspends(self, destination: str, week: int) -> bool:
        """Whether licences for ``destination`` are unusable in ``week`` (not revoked)."""
        return False

    def revokes(self, destination: str, week: int | None = None) -> bool:
        """Whether licences issued before this policy came into force are revoked for good.

        ``week`` is ignored except by a :class:`Timeline`, which needs it to find its phase.
        """
        return False

    def extraterritorial(self, week: int) -> bool:
        """Whether non-Chinese makers' controlled-grade magnets need a Chinese licence.

        The C-LIC-7 rule: foreign goods with >= 0.1% Chinese-origin rare earth by value.
        """
        return False

    def active(self, week: int) -> LicencePolicy:
        """The policy in force in ``week`` (itself, except for a :class:`Timeline`)."""
        return self

    def control_announced(self, destination: str, week: int) -> bool:
        """Whether a licence requirement for ``destination`` is announced but not yet in force.

        Only a :class:`Timeline` phase with ``announced_weeks_ahead`` can announce one.
        """
        return False

    def resolve_dates(self, start: date) -> None:
        """Turn calendar dates into week numbers relative to the simulation start."""


class Open(LicencePolicy):
    """No licence needed: the pre-April-2025 regime; exporters ship freely."""

    kind: Literal["open"] = "open"

    def requires_licence(self, destination: str, week: int, product: str = "magnet") -> bool:
        """Never."""
        return False

    def decide(self, application: Application, week: int, rng: np.random.Generator) -> Decision:
        """Approve in full (applications are not needed, but any filed are granted)."""
        return Decision(application.tonnes, validity_weeks=52, reason="open regime")


class Ban(LicencePolicy):
    """Exports need a licence and none is ever issued."""

    kind: Literal["ban"] = "ban"

    def decide(self, application: Application, week: int, rng: np.random.Generator) -> Decision:
        """Deny."""
        return Decision(0.0, reason="ban")
