"""Records the licensing desk hands around, and its clock: weeks from dates and working days.

An :class:`Application` is filed, reviewed into a :class:`Decision`, and an approval becomes a
:class:`Licence` the applicant draws down as it ships. Goods are the :data:`PRODUCTS`; review
times in working days become whole weeks (:func:`working_days_to_weeks`) and calendar dates
become week numbers of a run (:func:`week_of`).
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from datetime import date
from typing import Literal

WORKING_DAYS_PER_WEEK = 5
Product = Literal["magnet", "heavy_re"]
PRODUCTS: tuple[str, ...] = typing.get_args(Product)
"""Goods an application can be for: finished magnets, or Dy/Tb metals and oxides (C-LIC-1)."""


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


def week_of(day: date, start: date) -> int:
    """Week index of ``day`` in a run that starts on ``start`` (week 0); may be negative."""
    return (day - start).days // 7
