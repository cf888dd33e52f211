"""Licence-granting policies of the Chinese licensing authority (MOFCOM).

Each policy is one small pydantic class: its fields are the policy's parameters (validated
when a scenario is loaded, with units in their names) and its methods are the behaviour the
:class:`agents.authority.LicensingAuthority` calls each week:

* ``requires_licence(destination, week)`` – must an export to ``destination`` carry a licence?
* ``review_capacity(week)`` – how many applications can be decided this week (``None`` = no limit)
* ``draw_delay_weeks(application, week, rng)`` – weeks from filing until a decision is allowed
* ``decide(application, week, rng) -> Decision`` – approve (fully or partly) or deny

A user adds a policy by subclassing :class:`LicencePolicy` with a new ``kind`` literal; the class
registers itself when its module is imported, and scenario files can then say
``kind = "my_policy"``. For the command line, a package makes its policies known through the
entry-point group ``magshock.policies`` (in its ``pyproject.toml``:
``[project.entry-points."magshock.policies"]`` ``my_policy = "mypackage.policies:MyPolicy"``);
such a class is imported only when a scenario names that registered kind. A scenario file can
never name a module: validating a file runs no code from it.
"""

from __future__ import annotations

import itertools
import math
import typing
from dataclasses import dataclass
from datetime import date, timedelta
from importlib.metadata import entry_points
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

WORKING_DAYS_PER_WEEK = 5
ENTRY_POINT_GROUP = "magshock.policies"


def refuse_bools_for_numbers(cls: type[BaseModel], value: Any, info: ValidationInfo) -> Any:
    """A ``field_validator("*", mode="before")``: refuse true/false for a numeric field.

    Pydantic would read ``weeks = true`` as 1; a boolean where a number is meant is a typo.
    """
    if isinstance(value, bool) and info.field_name is not None:
        annotation = cls.model_fields[info.field_name].annotation
        types_ = set(typing.get_args(annotation)) or {annotation}
        if bool not in types_ and types_ & {int, float}:
            raise ValueError(f"expected a number, not a boolean (got {str(value).lower()})")
    return value


@dataclass(slots=True)
class Application:
    """An export-licence application filed by an exporter on behalf of a foreign buyer.

    Attributes:
        id: sequence number, unique within a run.
        exporter_id: unique_id of the Chinese exporter.
        buyer_id: unique_id of the buying OEM.
        destination: ISO country code of the buyer (e.g. "IN", "JP").
        end_use: declared end use (e.g. "automotive").
        tonnes: magnet tonnes applied for (t).
        filed_week: week the application entered the queue.
        earliest_decision_week: first week a decision may be taken (filed_week + delay).
    """

    id: int
    applicant_id: int
    buyer_id: int
    destination: str
    end_use: str
    tonnes: float
    filed_week: int
    product: str = "magnet"
    order_id: int | None = None
    earliest_decision_week: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """Outcome of reviewing one application.

    Attributes:
        approved_tonnes: tonnes licensed (t); 0 means denied.
        validity_weeks: weeks the licence stays valid from the decision week.
        reason: short text for logs and reports.
    """

    approved_tonnes: float
    validity_weeks: int = 26
    reason: str = ""

    @property
    def approved(self) -> bool:
        """True when any tonnage was licensed."""
        return self.approved_tonnes > 0


@dataclass(slots=True)
class Licence:
    """A licence held by an applicant to ship to one buyer.

    Attributes:
        id: sequence number (the application's id).
        applicant_id: unique_id of the applicant (the exporter).
        buyer_id: unique_id of the buyer the licence names.
        destination: ISO code of the destination.
        product: "magnet" or "heavy_re".
        granted_t: tonnes licensed (t).
        remaining_t: tonnes still allowed (t).
        issued_week: week of the decision.
        expires_week: last week the licence may be used (inclusive).
        order_id: the order it was applied for (per-shipment licensing), if any.
        revoked_week: week it was revoked, if it was.
    """

    id: int
    applicant_id: int
    buyer_id: int
    destination: str
    product: str
    granted_t: float
    remaining_t: float
    issued_week: int
    expires_week: int
    order_id: int | None = None
    revoked_week: int | None = None


def working_days_to_weeks(days: float) -> int:
    """Convert working days to whole weeks (5 working days a week, rounded up)."""
    return math.ceil(days / WORKING_DAYS_PER_WEEK)


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
        """Whether an export to ``destination`` in ``week`` needs a licence."""
        return True

    def extraterritorial(self, week: int) -> bool:
        """Whether non-Chinese makers' controlled grades need a Chinese licence (C-LIC-7)."""
        return False

    def suspends(self, destination: str, week: int) -> bool:
        """Whether licences for ``destination`` are suspended while this policy is in force."""
        return False

    def review_capacity(self, week: int) -> int | None:
        """Applications the authority can decide in ``week``; ``None`` means unlimited."""
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

    def active(self, week: int) -> LicencePolicy:
        """The policy in force in ``week`` (itself, except for a :class:`Timeline`)."""
        return self

    def resolve_dates(self, start: date) -> None:
        """Turn calendar dates into week numbers relative to the simulation start."""


def week_of(day: date, start: date) -> int:
    """Week index of ``day`` in a run that starts on ``start`` (week 0); may be negative."""
    return (day - start).days // 7


def policy_from_config(config: Any) -> LicencePolicy:
    """Build a policy object from a mapping with a ``kind`` key (or pass a policy through)."""
    if isinstance(config, LicencePolicy):
        return config
    if not isinstance(config, dict):
        raise ValueError("a licence policy must be a table with a 'kind' key")
    kind = config.get("kind")
    if not isinstance(kind, str):
        raise ValueError(f"licence policy needs kind = one of {', '.join(policy_kinds())}")
    cls = policy_class(kind)
    # An entry point may name a class by another kind: it validates under its own.
    return cls.model_validate({**config, "kind": cls.model_fields["kind"].default})


def policy_kinds() -> list[str]:
    """Every kind a scenario may name: defined policy classes and registered entry points."""
    registered = (ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return sorted({*LicencePolicy.registry, *registered})


def policy_class(kind: str) -> type[LicencePolicy]:
    """Look up a policy class by kind: a defined class, else a ``magshock.policies`` entry point.

    Nothing else is ever imported, so a scenario file cannot make magshock run code.

    Raises:
        ValueError: one line, for an unknown kind (listing the allowed ones) or an entry point
            that fails to load or is not a :class:`LicencePolicy` subclass.
    """
    if kind in LicencePolicy.registry:
        return LicencePolicy.registry[kind]
    for ep in entry_points(group=ENTRY_POINT_GROUP, name=kind):
        try:
            cls = ep.load()
        except (ImportError, AttributeError) as err:
            raise ValueError(
                f"licence policy kind {kind!r}: cannot load {ep.value}: {err}"
            ) from None
        if isinstance(cls, type) and issubclass(cls, LicencePolicy):
            return cls
        raise ValueError(
            f"licence policy kind {kind!r}: entry point {ep.value} is not a LicencePolicy subclass"
        )
    raise ValueError(f"unknown licence policy kind {kind!r}; allowed: {', '.join(policy_kinds())}")


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


class _Reviewed(LicencePolicy):
    """Shared parameters of policies with a statutory review clock and a review desk."""

    min_delay_working_days: int = Field(
        20, ge=0, le=260, description="Shortest review time, working days (C-LIC-2: 20-45)."
    )
    max_delay_working_days: int = Field(
        45, ge=0, le=260, description="Longest review time, working days (C-LIC-2: 45 quoted)."
    )
    review_capacity_per_week: int | None = Field(
        None,
        ge=0,
        le=100_000,
        description="Applications decided per week; none = unlimited (assumption).",
    )
    validity_weeks: int = Field(
        26, ge=1, le=156, description="Licence validity, weeks (C-LIC-3: <= 1 year; assumption 26)."
    )
    denied_end_uses: list[str] = Field(
        default_factory=lambda: ["military"],
        description="End uses always refused (C-LIC-6: no military use).",
    )

    @model_validator(mode="after")
    def _delays_ordered(self) -> _Reviewed:
        if self.max_delay_working_days < self.min_delay_working_days:
            raise ValueError("max_delay_working_days must be >= min_delay_working_days")
        return self

    def review_capacity(self, week: int) -> int | None:
        """The configured desk capacity."""
        return self.review_capacity_per_week

    def _delay_bounds(self, application: Application) -> tuple[int, int]:
        return self.min_delay_working_days, self.max_delay_working_days

    def draw_delay_weeks(
        self, application: Application, week: int, rng: np.random.Generator
    ) -> int:
        """Uniform integer working days in [min, max], converted to weeks."""
        low, high = self._delay_bounds(application)
        days = int(rng.integers(low, high + 1)) if high > low else low
        return working_days_to_weeks(days)

    def _refuses_end_use(self, application: Application) -> bool:
        return application.end_use in self.denied_end_uses


class CaseByCase(_Reviewed):
    """Each application is reviewed after the statutory delay and approved with a probability."""

    kind: Literal["case_by_case"] = "case_by_case"
    approval_probability: float = Field(
        0.5, ge=0, le=1, description="Chance an application is approved (assumption)."
    )
    approved_share: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Share of the applied tonnes licensed on approval (assumption).",
    )

    def decide(self, application: Application, week: int, rng: np.random.Generator) -> Decision:
        """Refuse listed end uses; otherwise approve with ``approval_probability``."""
        if self._refuses_end_use(application):
            return Decision(0.0, reason="end use refused")
        if rng.random() < self.approval_probability:
            return Decision(
                application.tonnes * self.approved_share, self.validity_weeks, "approved"
            )
        return Decision(0.0, reason="denied")


class Quota(_Reviewed):
    """Licences up to a tonnage quota per period, first come first served or pro rata."""

    kind: Literal["quota"] = "quota"
    quota_t_per_period: float = Field(
        100.0,
        ge=0,
        le=1_000_000,
        description="Tonnes of magnet licensable per period, t (assumption).",
    )
    period_weeks: int = Field(13, ge=1, le=156, description="Quota period, weeks (assumption).")
    allocation: Literal["first_come", "pro_rata"] = Field(
        "first_come", description="How a short quota is shared among a week's applications."
    )
    _used_t: dict[int, float] = PrivateAttr(default_factory=dict)
    _scale: float = PrivateAttr(default=1.0)

    def remaining_t(self, week: int) -> float:
        """Quota tonnes left in the period containing ``week`` (t)."""
        period = week // self.period_weeks
        return max(0.0, self.quota_t_per_period - self._used_t.get(period, 0.0))

    def begin_review(self, batch: list[Application], week: int) -> None:
        """For pro-rata allocation, scale the batch down to what is left of the quota."""
        requested = sum(a.tonnes for a in batch)
        left = self.remaining_t(week)
        self._scale = 1.0 if requested <= left or requested == 0 else left / requested

    def decide(self, application: Application, week: int, rng: np.random.Generator) -> Decision:
        """Grant from the period's remaining quota; deny when it is used up."""
        if self._refuses_end_use(application):
            return Decision(0.0, reason="end use refused")
        wanted = application.tonnes * (self._scale if self.allocation == "pro_rata" else 1.0)
        granted = min(wanted, self.remaining_t(week))
        if granted <= 1e-12:
            return Decision(0.0, reason="quota exhausted")
        period = week // self.period_weeks
        self._used_t[period] = self._used_t.get(period, 0.0) + granted
        return Decision(granted, self.validity_weeks, "within quota")


class CountryTerms(BaseModel):
    """Terms the authority applies to one destination country."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    _no_bools = field_validator("*", mode="before")(refuse_bools_for_numbers)

    approval_probability: float = Field(
        0.0, ge=0, le=1, description="Chance of approval (default 0.0, assumption)."
    )
    hold: bool = Field(
        False,
        description="Queue this country's applications without deciding them (C-LIC-6: >50 "
        "Indian applications pending for months).",
    )
    min_delay_working_days: int | None = Field(None, ge=0, le=260, description="Working days.")
    max_delay_working_days: int | None = Field(None, ge=0, le=260, description="Working days.")


class Preferential(_Reviewed):
    """Approval probability and review delay differ by destination country."""

    kind: Literal["preferential"] = "preferential"
    approval_probability: float = Field(
        0.5, ge=0, le=1, description="Chance of approval for countries not listed (assumption)."
    )
    countries: dict[str, CountryTerms] = Field(
        default_factory=dict, description="Per-destination terms, keyed by ISO code (e.g. IN, JP)."
    )

    @field_validator("countries")
    @classmethod
    def _codes_upper(cls, value: dict[str, CountryTerms]) -> dict[str, CountryTerms]:
        for code in value:
            if len(code) != 2 or not code.isupper():
                raise ValueError(f"country code {code!r} must be two capital letters, e.g. 'IN'")
        return value

    def holds(self, application: Application, week: int) -> bool:
        """Applications from a country on hold wait in the queue, undecided."""
        terms = self.countries.get(application.destination)
        return terms is not None and terms.hold

    def _delay_bounds(self, application: Application) -> tuple[int, int]:
        terms = self.countries.get(application.destination)
        low, high = self.min_delay_working_days, self.max_delay_working_days
        if terms is not None:
            low = terms.min_delay_working_days if terms.min_delay_working_days is not None else low
            high = (
                terms.max_delay_working_days if terms.max_delay_working_days is not None else high
            )
        return low, max(low, high)

    def decide(self, application: Application, week: int, rng: np.random.Generator) -> Decision:
        """Approve with the destination's probability (or the default one)."""
        if self._refuses_end_use(application):
            return Decision(0.0, reason="end use refused")
        terms = self.countries.get(application.destination)
        p = terms.approval_probability if terms is not None else self.approval_probability
        if rng.random() < p:
            return Decision(application.tonnes, self.validity_weeks, "approved")
        return Decision(0.0, reason=f"denied for {application.destination}")


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

    @field_validator("policy", mode="before")
    @classmethod
    def _build_policy(cls, value: Any) -> LicencePolicy:
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
    start all map to week 0 and the latest of them is in force from week 0.
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
        """Fix each phase's start week for a run beginning on ``start`` (dates are kept)."""
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

    def requires_licence(self, destination: str, week: int, product: str = "magnet") -> bool:
        """Delegate to the phase in force."""
        return self.active(week).requires_licence(destination, week, product)

    def extraterritorial(self, week: int) -> bool:
        """Delegate to the phase in force."""
        return self.active(week).extraterritorial(week)

    def suspends(self, destination: str, week: int) -> bool:
        """Delegate to the phase in force."""
        return self.active(week).suspends(destination, week)

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

    def decide(self, application: Application, week: int, rng: np.random.Generator) -> Decision:
        """Delegate to the phase in force."""
        return self.active(week).decide(application, week, rng)


_PRE_CONTROL = Open()
