"""Reviewed policy kinds: one review desk on a statutory clock (case_by_case, quota, preferential).

:class:`_Reviewed` holds the knobs the three kinds share (per-country terms, licence-free
destinations, partial approvals, an optional tonnage quota, revocation, suspension and the
extraterritorial rule) and the behaviour; :class:`CaseByCase`, :class:`Quota` and
:class:`Preferential` differ only in defaults.
"""

from __future__ import annotations

import math
from datetime import date
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field, PrivateAttr, field_validator, model_validator

from simulation.policies.base import LicencePolicy
from simulation.policies.records import Application, Decision, week_of, working_days_to_weeks
from simulation.policies.terms import ALL, CountryTerms, _check_codes


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
