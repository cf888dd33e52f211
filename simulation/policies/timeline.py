"""Dated sequences of policies: a :class:`Timeline` of :class:`Phase` s, Open before the first.

A phase names its start (week or date), the policy in force from then, and how far ahead it
is announced; the timeline delegates every question to the phase in force in the week asked.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from simulation.policies.base import LicencePolicy, Open, refuse_bools_for_numbers
from simulation.policies.records import Application, Decision, week_of


class Phase(BaseModel):
    """One dated phase of a :class:`Timeline` (give ``start_week`` or ``start_date``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    _no_bools = field_validator("*", mode="before")(refuse_bools_for_numbers)

    start_week: int | None = Field(
        None, ge=0, le=1040, description="First week of the phase (week 0 = start)."
    )
    start_date: date | None = Field(
        None, description="First day of the phase (alternative to week)."
    )
    policy: LicencePolicy = Field(description="The policy in force during the phase.")
    announced_weeks_ahead: int = Field(
        0,
        ge=0,
        le=104,
        description="Weeks before its start that the phase is announced or expected, weeks "
        "(0: effective on announcement, as the April 2025 controls were, C-LIC-1).",
    )

    @field_validator("policy", mode="before")
    @classmethod
    def _build_policy(cls, value: Any) -> LicencePolicy:
        # The kind lookup lives in the package, which imports this module: import it late.
        from simulation.policies import policy_from_config

        policy = policy_from_config(value)
        if isinstance(policy, Timeline):
            raise ValueError("a timeline phase cannot itself be a timeline")
        return policy

    @model_validator(mode="after")
    def _one_start(self) -> Phase:
        if (self.start_week is None) == (self.start_date is None):
            raise ValueError("give exactly one of start_week or start_date")
        return self


class Timeline(LicencePolicy):
    """A dated sequence of policies; the latest phase that has started is in force.

    Before the first phase starts the pre-April-2025 regime applies (:class:`Open`), so a run
    that begins before the controls shows the pre-shock level. Phases dated before the run's
    start all map to week 0 and the latest of them is in force from week 0; likewise a phase
    followed by another starting in the same week never comes into force (nor revokes).
    """

    kind: Literal["timeline"] = "timeline"
    phases: list[Phase] = Field(min_length=1, description="Phases in increasing start order.")
    _start_weeks: list[int] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _ordered(self) -> Timeline:
        for kind in ("start_week", "start_date"):
            starts = [(i, getattr(p, kind)) for i, p in enumerate(self.phases)]
            starts = [(i, v) for i, v in starts if v is not None]
            for (i, a), (j, b) in itertools.pairwise(starts):
                if b <= a:
                    raise ValueError(
                        f"phases[{j}] starts at {b}, not after phases[{i}] ({a}): "
                        "phases must be in strictly increasing order"
                    )
        return self

    def resolve_dates(self, start: date) -> None:
        """Fix each phase's start week (and its policy's dates) for a run beginning on ``start``."""
        starts = [
            p.start_date if p.start_date is not None else start + timedelta(weeks=p.start_week)
            for p in self.phases
        ]
        for i in range(1, len(starts)):
            if starts[i] <= starts[i - 1]:
                raise ValueError(
                    f"phases[{i}] starts on {starts[i]}, not after phases[{i - 1}] "
                    f"({starts[i - 1]}): phases must be in strictly increasing order"
                )
        self._start_weeks = [max(0, week_of(day, start)) for day in starts]
        for phase in self.phases:
            phase.policy.resolve_dates(start)

    def start_weeks(self) -> list[int]:
        """Resolved start week of each phase.

        Raises:
            ValueError: if a phase is dated and :meth:`resolve_dates` has not been called.
        """
        if self._start_weeks is not None:
            return self._start_weeks
        if any(p.start_week is None for p in self.phases):
            raise ValueError("timeline has dated phases: call resolve_dates(start_date) first")
        return [p.start_week for p in self.phases]

    def active(self, week: int) -> LicencePolicy:
        """The policy of the latest phase that has started (Open before the first)."""
        current: LicencePolicy = _PRE_CONTROL
        for phase, start in zip(self.phases, self.start_weeks(), strict=True):
            if start <= week:
                current = phase.policy
        return current

    def control_announced(self, destination: str, week: int) -> bool:
        """Whether an announced coming phase will require a licence ``destination`` lacks now.

        The signal firms buy ahead on (ODD §7.7).
        """
        if self.active(week).requires_licence(destination, week):
            return False
        for phase, start in zip(self.phases, self.start_weeks(), strict=True):
            if (
                start - phase.announced_weeks_ahead <= week < start
                and phase.policy.requires_licence(destination, start)
            ):
                return True
        return False

    def requires_licence(self, destination: str, week: int, product: str = "magnet") -> bool:
        """Delegate to the phase in force."""
        return self.active(week).requires_licence(destination, week, product)

    def review_capacity(self, week: int) -> int | None:
        """Delegate to the phase in force."""
        return self.active(week).review_capacity(week)

    def draw_delay_weeks(
        self, application: Application, week: int, rng: np.random.Generator
    ) -> int:
        """Delegate to the phase in force."""
        return self.active(week).draw_delay_weeks(application, week, rng)

    def begin_review(self, batch: list[Application], week: int) -> None:
        """Delegate to the phase in force."""
        self.active(week).begin_review(batch, week)

    def holds(self, application: Application, week: int) -> bool:
        """Delegate to the phase in force."""
        return self.active(week).holds(application, week)

    def holds_destination(self, destination: str, week: int) -> bool | None:
        """Delegate to the phase in force."""
        return self.active(week).holds_destination(destination, week)

    def decide(self, application: Application, week: int, rng: np.random.Generator) -> Decision:
        """Delegate to the phase in force."""
        return self.active(week).decide(application, week, rng)

    def suspends(self, destination: str, week: int) -> bool:
        """Delegate to the phase in force."""
        return self.active(week).suspends(destination, week)

    def revokes(self, destination: str, week: int | None = None) -> bool:
        """Whether the phase in force in ``week`` revokes earlier licences for ``destination``.

        Raises:
            ValueError: without ``week`` (a timeline's answer depends on the phase).
        """
        if week is None:
            raise ValueError("a timeline revokes per phase: pass the week")
        return self.active(week).revokes(destination, week)

    def extraterritorial(self, week: int) -> bool:
        """Delegate to the phase in force (its own from-date applies within it)."""
        return self.active(week).extraterritorial(week)


_PRE_CONTROL = Open()
