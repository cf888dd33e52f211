"""Terms one destination country gets under a reviewed policy, and the check of country codes.

:class:`CountryTerms` overrides a reviewed policy's approval chance, share, review time and
refused end uses for one destination, or holds or frees it; ``_check_codes`` checks the ISO
codes (or the wildcard :data:`ALL`) that key such terms and fill the destination lists.
"""

from __future__ import annotations

import typing

from pydantic import BaseModel, ConfigDict, Field, field_validator

from simulation.policies.base import refuse_bools_for_numbers

ALL = "*"
"""Wildcard destination in ``revoke`` and ``suspend`` lists: every destination."""


def _check_codes(codes: typing.Iterable[str], wildcard: bool = False) -> None:
    """Raise ValueError unless every code is two capital letters (or ``*`` if allowed)."""
    for code in codes:
        if wildcard and code == ALL:
            continue
        if len(code) != 2 or not code.isalpha() or not code.isupper():
            extra = " or '*'" if wildcard else ""
            raise ValueError(f"country code {code!r} must be two capital letters, e.g. 'IN'{extra}")


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
