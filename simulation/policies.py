"""Licence-granting policies of the Chinese licensing authority (MOFCOM).

Each policy is one small pydantic class: its fields are the policy's parameters (validated
when a scenario is loaded, with units in their names) and its methods are the behaviour the
:class:`agents.authority.LicensingAuthority` calls each week:

* ``requires_licence(destination, week, product)`` – must an export to ``destination`` carry a
  licence?
* ``review_capacity(week)`` – how many applications the one review desk can decide this week,
  all destinations together (``None`` = no limit)
* ``draw_delay_weeks(application, week, rng)`` – weeks from filing until a decision is allowed
* ``holds(application, week)`` – does the desk sit on an application (queued, undecided)?
* ``decide(application, week, rng) -> Decision`` – approve (fully or partly) or deny
* ``suspends(destination, week)`` – are licences for ``destination`` unusable while this policy
  is in force (usable again afterwards, if unexpired)?
* ``revokes(destination)`` – are licences issued earlier for ``destination`` revoked for good
  when this policy comes into force?
* ``extraterritorial(week)`` – do non-Chinese makers' controlled-grade magnets made with
  Chinese-origin heavy rare earths also need a Chinese licence (C-LIC-7)?

The reviewed kinds (``case_by_case``, ``quota``, ``preferential``) share one set of knobs
(:class:`_Reviewed`): per-country terms, licence-free destinations, partial approvals, an
optional tonnage quota on top of the approval draw, revocation, suspension and the
extraterritorial rule. One phase of a :class:`Timeline` can therefore combine a quota with
per-country terms, and a later phase can suspend or revoke what an earlier one granted.

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
Product = Literal["magnet", "heavy_re"]
PRODUCTS: tuple[str, ...] = typing.get_args(Product)
"""Goods an application can be for: finished magnets, or Dy/Tb metals and oxides (C-LIC-1)."""
ALL = "*"
"""Wildcard destination in ``revoke`` and ``suspend`` lists: every destination."""


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


def _check_codes(codes: typing.Iterable[str], wildcard: bool = False) -> None:
    """Raise ValueError unless every code is two capital letters (or ``*`` if allowed)."""
    for code in codes:
        if wildcard and code == ALL:
            continue
        if len(code) != 2 or not code.isalpha() or not code.isupper():
            extra = " or '*'" if wildcard else ""
            raise ValueError(f"country code {code!r} must be two capital letters, e.g. 'IN'{extra}")


@dataclass(slots=True)
class Application:
    """An export-licence application, filed per contract or per shipment (C-LIC-3).

    Attributes:
        id: sequence number, unique within a run; the desk works in this (filing) order.
        applicant_id: unique_id of the filer (a Chinese exporter or a tier-1 supplier).
        buyer_id: unique_id of the buying OEM (several applications may be pending per buyer).
        destination: ISO country code of the buyer (e.g. "IN", "JP").
        end_use: declared end use (e.g. "automotive", "military").
        tonnes: tonnes applied for (t; for ``heavy_re`` the Dy/Tb metal or oxide, also in t).
        filed_week: week the application entered the queue.
        product: ``"magnet"`` (finished magnets) or ``"heavy_re"`` (Dy/Tb metals/oxides).
        order_id: the contract or shipment the application is for, if the filer tracks one.
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
    """A licence issued on one application: tonnes of one product for one buyer.

    The authority keeps the same object the applicant receives, so a revocation
    (``revoked_week`` set, ``remaining_t`` zeroed) is seen by its holder at once.

    Attributes:
        id: sequence number, unique within a run.
        applicant_id: unique_id of the filer who holds it.
        buyer_id: unique_id of the OEM it names.
        destination: ISO country code of the buyer.
        product: ``"magnet"`` or ``"heavy_re"``.
        granted_t: tonnes granted (t).
        remaining_t: tonnes still allowed (t); the holder draws it down as it ships.
        issued_week: week of the decision; first week it may be used.
        expires_week: last week it may be used (inclusive).
        order_id: the contract or shipment of the application, if any.
        revoked_week: week it was revoked for good (None while not revoked).
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


class CountryTerms(BaseModel):
    """Terms the authority applies to one destination country (any reviewed kind)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    _no_bools = field_validator("*", mode="before")(refuse_bools_for_numbers)

    approval_probability: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Chance of approval for this destination; none = the policy's "
        "approval_probability, except under kind = preferential, where a listed country "
        "without one gets 0.0 as in earlier versions (assumption).",
    )
    approved_share: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Share of the applied tonnes licensed on approval for this destination; "
        "none = the policy's approved_share (assumption).",
    )
    hold: bool = Field(
        False,
        description="Queue this country's applications without deciding them (C-LIC-6: >50 "
        "Indian applications pending for months).",
    )
    min_delay_working_days: int | None = Field(
        None,
        ge=0,
        le=260,
        description="Shortest review time for this destination, working days; none = the "
        "policy's (C-LIC-2).",
    )
    max_delay_working_days: int | None = Field(
        None,
        ge=0,
        le=260,
        description="Longest review time for this destination, working days; none = the "
        "policy's (C-LIC-2).",
    )
    denied_end_uses: list[str] | None = Field(
        None,
        description="End uses refused for this destination on top of the policy's "
        "denied_end_uses (C-LIC-9: Japanese military end users from 6 Jan 2026).",
    )
    licence_free: bool = Field(
        False,
        description="Exports to this destination never need a licence and never wait "
        "(assumption: a scenario switch).",
    )


class _Reviewed(LicencePolicy):
    """Shared parameters of policies with a statutory review clock and one review desk.

    A decision runs: refused end use (the policy's or the destination's) -> deny; approval
    draw with the destination's probability -> deny; grant ``approved_share`` of the applied
    tonnes (partial approval), capped by what is left of the period's quota if there is one.
    Kinds differ only in defaults (``quota`` has a quota; ``preferential`` gives a listed
    country without its own probability 0.0).
    """

    listed_country_probability: ClassVar[float | None] = None
    """Approval chance of a listed country without its own (None = the policy's default)."""

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
        description="Applications decided per week by the one desk, all destinations "
        "together; none = unlimited (assumption).",
    )
    validity_weeks: int = Field(
        26, ge=1, le=156, description="Licence validity, weeks (C-LIC-3: <= 1 year; assumption 26)."
    )
    approval_probability: float = Field(
        1.0, ge=0, le=1, description="Chance an application is approved (assumption)."
    )
    approved_share: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Share of the applied tonnes licensed on approval: partial approvals "
        "(assumption).",
    )
    countries: dict[str, CountryTerms] = Field(
        default_factory=dict, description="Per-destination terms, keyed by ISO code (e.g. IN, JP)."
    )
    licence_free: list[str] = Field(
        default_factory=list,
        description="Destinations (ISO codes) that never need a licence (assumption: a "
        "scenario switch).",
    )
    quota_t_per_period: float | None = Field(
        None,
        ge=0,
        le=1_000_000,
        description="Tonnes licensable per period on top of the approval draw and country "
        "terms, t; none = no quota (assumption).",
    )
    period_weeks: int = Field(13, ge=1, le=156, description="Quota period, weeks (assumption).")
    allocation: Literal["first_come", "pro_rata"] = Field(
        "first_come",
        description="How a short quota is shared among a week's applications (assumption).",
    )
    denied_end_uses: list[str] = Field(
        default_factory=lambda: ["military"],
        description="End uses always refused (C-LIC-6: no military use).",
    )
    revoke: list[str] = Field(
        default_factory=list,
        description="Destinations (ISO codes, or '*' for all) whose licences issued before "
        "this phase are revoked for good when it comes into force (assumption: a scenario "
        "switch).",
    )
    suspend: list[str] = Field(
        default_factory=list,
        description="Destinations (ISO codes, or '*' for all) whose licences cannot be used "
        "while this phase is in force; usable again afterwards if unexpired (assumption: a "
        "scenario switch; cf. C-LIC-8).",
    )
    extraterritorial_from_date: date | None = Field(
        None,
        description="From this day, while this policy is in force, non-Chinese makers' "
        "controlled-grade magnets made with Chinese-origin heavy rare earths also need a "
        "Chinese licence (C-LIC-7: 1 Dec 2025; >= 0.1% by value); none = never.",
    )
    extraterritorial_from_week: int | None = Field(
        None,
        ge=0,
        le=1040,
        description="Alternative to extraterritorial_from_date: first week of the rule "
        "(week 0 = run start, C-LIC-7).",
    )
    _used_t: dict[int, float] = PrivateAttr(default_factory=dict)
    _scale: tuple[int, float] = PrivateAttr(default=(-1, 1.0))
    _extraterritorial_week: int | None = PrivateAttr(default=None)

    @field_validator("countries")
    @classmethod
    def _codes_upper(cls, value: dict[str, CountryTerms]) -> dict[str, CountryTerms]:
        _check_codes(value)
        return value

    @field_validator("licence_free")
    @classmethod
    def _free_codes(cls, value: list[str]) -> list[str]:
        _check_codes(value)
        return value

    @field_validator("revoke", "suspend")
    @classmethod
    def _codes_or_all(cls, value: list[str]) -> list[str]:
        _check_codes(value, wildcard=True)
        return value

    @model_validator(mode="after")
    def _delays_ordered(self) -> _Reviewed:
        if self.max_delay_working_days < self.min_delay_working_days:
            raise ValueError("max_delay_working_days must be >= min_delay_working_days")
        return self

    @model_validator(mode="after")
    def _one_extraterritorial_start(self) -> _Reviewed:
        if self.extraterritorial_from_date is not None and (
            self.extraterritorial_from_week is not None
        ):
            raise ValueError(
                "give at most one of extraterritorial_from_date or extraterritorial_from_week"
            )
        return self

    def resolve_dates(self, start: date) -> None:
        """Fix the week the extraterritorial rule starts for a run beginning on ``start``."""
        if self.extraterritorial_from_date is not None:
            self._extraterritorial_week = week_of(self.extraterritorial_from_date, start)

    # ------------------------------------------------------------------ who needs a licence

    def requires_licence(self, destination: str, week: int, product: str = "magnet") -> bool:
        """Every product needs one, except to licence-free destinations."""
        if destination in self.licence_free:
            return False
        terms = self.countries.get(destination)
        return terms is None or not terms.licence_free

    def suspends(self, destination: str, week: int) -> bool:
        """Whether ``destination`` (or ``*``) is in ``suspend``."""
        return ALL in self.suspend or destination in self.suspend

    def revokes(self, destination: str, week: int | None = None) -> bool:
        """Whether ``destination`` (or ``*``) is in ``revoke``."""
        return ALL in self.revoke or destination in self.revoke

    def extraterritorial(self, week: int) -> bool:
        """True from the configured week or date on (never if neither is given).

        Raises:
            ValueError: if the start is a date and :meth:`resolve_dates` has not been called.
        """
        start = self.extraterritorial_from_week
        if self.extraterritorial_from_date is not None:
            start = self._extraterritorial_week
            if start is None:
                raise ValueError(
                    "extraterritorial_from_date is set: call resolve_dates(start_date) first"
                )
        return start is not None and week >= start

    # ------------------------------------------------------------------ the desk

    def review_capacity(self, week: int) -> int | None:
        """The configured desk capacity."""
        return self.review_capacity_per_week

    def holds(self, application: Application, week: int) -> bool:
        """Applications to a country on hold wait in the queue, undecided."""
        terms = self.countries.get(application.destination)
        return terms is not None and terms.hold

    def holds_destination(self, destination: str, week: int) -> bool | None:
        """Holds are per destination here (None if a subclass overrides :meth:`holds`)."""
        if type(self).holds is not _Reviewed.holds:
            return None
        terms = self.countries.get(destination)
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

    def draw_delay_weeks(
        self, application: Application, week: int, rng: np.random.Generator
    ) -> int:
        """Uniform integer working days in [min, max] (the destination's if it has its own)."""
        low, high = self._delay_bounds(application)
        days = int(rng.integers(low, high + 1)) if high > low else low
        return working_days_to_weeks(days)

    # ------------------------------------------------------------------ decisions

    def _refuses_end_use(self, application: Application) -> bool:
        if application.end_use in self.denied_end_uses:
            return True
        terms = self.countries.get(application.destination)
        extra = terms.denied_end_uses if terms is not None else None
        return bool(extra) and application.end_use in extra

    def _probability(self, terms: CountryTerms | None) -> float:
        if terms is not None:
            if terms.approval_probability is not None:
                return terms.approval_probability
            if self.listed_country_probability is not None:
                return self.listed_country_probability
        return self.approval_probability

    def _wanted_t(self, application: Application, terms: CountryTerms | None) -> float:
        share = self.approved_share
        if terms is not None and terms.approved_share is not None:
            share = terms.approved_share
        return application.tonnes * share

    def remaining_t(self, week: int) -> float:
        """Quota tonnes left in the period containing ``week`` (t; infinite without a quota)."""
        if self.quota_t_per_period is None:
            return math.inf
        period = week // self.period_weeks
        return max(0.0, self.quota_t_per_period - self._used_t.get(period, 0.0))

    def begin_review(self, batch: list[Application], week: int) -> None:
        """For a pro-rata quota, scale the week's batch down to what is left of the quota.

        The scale is set before the approval draws, over the applications that can be
        approved at all (end use allowed, approval chance above 0); tonnes of applications
        then denied stay in the quota for later weeks of the period.
        """
        if self.quota_t_per_period is None or self.allocation != "pro_rata":
            return
        requested = 0.0
        for app in batch:
            terms = self.countries.get(app.destination)
            if not self._refuses_end_use(app) and self._probability(terms) > 0:
                requested += self._wanted_t(app, terms)
        left = self.remaining_t(week)
        self._scale = (week, 1.0 if requested <= left or requested == 0 else left / requested)

    def decide(self, application: Application, week: int, rng: np.random.Generator) -> Decision:
        """Refuse listed end uses; approve with the destination's chance; cap by the quota.

        A uniform number is drawn only when the approval chance is strictly between 0 and 1.
        """
        if self._refuses_end_use(application):
            return Decision(0.0, reason="end use refused")
        terms = self.countries.get(application.destination)
        p = self._probability(terms)
        if p <= 0.0 or (p < 1.0 and rng.random() >= p):
            return Decision(
                0.0, reason=f"denied for {application.destination}" if terms else "denied"
            )
        wanted = self._wanted_t(application, terms)
        if self.quota_t_per_period is None:
            return Decision(wanted, self.validity_weeks, "approved")
        if self.allocation == "pro_rata" and self._scale[0] == week:
            wanted *= self._scale[1]
        granted = min(wanted, self.remaining_t(week))
        if granted <= 1e-12:
            return Decision(0.0, reason="quota exhausted")
        period = week // self.period_weeks
        self._used_t[period] = self._used_t.get(period, 0.0) + granted
        return Decision(granted, self.validity_weeks, "within quota")


class CaseByCase(_Reviewed):
    """Each application is reviewed after the statutory delay and approved with a probability."""

    kind: Literal["case_by_case"] = "case_by_case"
    approval_probability: float = Field(
        0.5, ge=0, le=1, description="Chance an application is approved (assumption)."
    )


class Quota(_Reviewed):
    """Licences up to a tonnage quota per period, first come first served or pro rata."""

    kind: Literal["quota"] = "quota"
    approval_probability: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Chance an application is approved before the quota is applied "
        "(assumption; 1.0 = every application shares in the quota while it lasts).",
    )
    quota_t_per_period: float = Field(  # type: ignore[assignment]
        100.0,
        ge=0,
        le=1_000_000,
        description="Tonnes of magnet licensable per period, t (assumption).",
    )


class Preferential(_Reviewed):
    """Approval probability and review delay differ by destination country.

    A country listed under ``countries`` without its own ``approval_probability`` is never
    approved (0.0), as in earlier versions; under the other kinds it gets the policy's.
    """

    kind: Literal["preferential"] = "preferential"
    listed_country_probability: ClassVar[float | None] = 0.0
    approval_probability: float = Field(
        0.5, ge=0, le=1, description="Chance of approval for countries not listed (assumption)."
    )


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
