"""Market arithmetic as pure functions: allocation of scarce supply, prices, ramp, learning.

Agents call these; tests exercise them alone. All quantities are plain floats in the units
named by the arguments (tonnes of magnet per week unless stated otherwise).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

EPS = 1e-12

#: China's country code: its home market buys from Chinese makers without export licences.
HOME = "CN"


GRADES = ("controlled", "free")
"""Magnet grades: ``controlled`` carries Dy/Tb (licensed under C-LIC-1); ``free`` is a
low/no-heavy-RE grade (Dy+Tb <= 0.1%, C-LIC-4) that needs no licence but shares the customs
code and is held for identification while the controls are in force (C-LIC-10)."""


@dataclass(slots=True)
class Shipment:
    """Magnets in transit to a buyer.

    Attributes:
        source: "china", "row", "domestic", "motor" (inside assembled motors) or "transit"
            (via a third-country trader).
        supplier_id: unique_id of the shipping agent.
        tonnes: magnet tonnes (t).
        arrival_week: week in which the buyer receives it.
        grade: "controlled" or "free" (:data:`GRADES`).
    """

    source: str
    supplier_id: int
    tonnes: float
    arrival_week: int
    grade: str = "controlled"


@dataclass(slots=True, eq=False)
class Order:
    """A buyer's order with one seller for one grade, open until filled, cancelled or expired.

    Attributes:
        id: sequence number, unique within a run.
        buyer: the buying agent (an OEM or an aggregate buyer).
        seller: the selling agent.
        grade: "controlled" or "free".
        tonnes: tonnes ordered (t).
        open_t: tonnes still to ship (t); 0 once filled, cancelled or expired.
        placed_week: week the order was placed.
        expires_week: last week it may ship unless it waits for a licence decision.
        licence: "none" (no licence needed when placed), "pending", "licensed" or "denied".
        application_id: id of its licence application (per-shipment licensing), if any.
        licence_ref: the licence it ships against (per-shipment licensing), if any.
    """

    id: int
    buyer: Any
    seller: Any
    grade: str
    tonnes: float
    open_t: float
    placed_week: int
    expires_week: int
    licence: str = "none"
    application_id: int | None = None
    licence_ref: Any = None


def zeros(keys: tuple[str, ...]) -> dict[str, float]:
    """A fresh tally of 0.0 per key (``dict.fromkeys(keys, 0.0)``, faster on hot paths).

    Example:
        >>> zeros(GRADES)
        {'controlled': 0.0, 'free': 0.0}
    """
    return {key: 0.0 for key in keys}


def allocate_pro_rata(supply: float, requests: Mapping[int, float]) -> dict[int, float]:
    """Share ``supply`` among ``requests`` in proportion to their size, never exceeding a request.

    Args:
        supply: tonnes available (t), >= 0.
        requests: tonnes wanted per buyer id (t), each >= 0.

    Returns:
        Tonnes allocated per buyer; the sum is min(supply, total requested).

    Example:
        >>> allocate_pro_rata(6.0, {1: 4.0, 2: 8.0})
        {1: 2.0, 2: 4.0}
    """
    total = sum(requests.values())
    if total <= EPS or supply <= EPS:
        return {k: 0.0 for k in requests}
    if supply >= total:
        return dict(requests)
    share = supply / total
    return {k: v * share for k, v in requests.items()}


def s_curve(progress: float, steepness: float = 10.0) -> float:
    """Logistic ramp from 0 to 1 as ``progress`` goes from 0 to 1 (rescaled to hit 0 and 1 exactly).

    Example:
        >>> round(s_curve(0.5), 3), s_curve(0.0), s_curve(1.0)
        (0.5, 0.0, 1.0)
    """
    if progress <= 0.0:
        return 0.0
    if progress >= 1.0:
        return 1.0

    def raw(x: float) -> float:
        return 1.0 / (1.0 + math.exp(-steepness * (x - 0.5)))

    low, high = raw(0.0), raw(1.0)
    return (raw(progress) - low) / (high - low)


def ramp_share(week: int, start_week: int, ramp_weeks: int) -> float:
    """Share of its full size a ramp starting in ``start_week`` reaches in ``week`` (0-1).

    0 before the start; then :func:`s_curve` over ``ramp_weeks`` (1 in its last week); 1 at
    once when there is no ramp.

    Example:
        >>> ramp_share(9, 10, 4), ramp_share(13, 10, 4), ramp_share(10, 10, 0)
        (0.0, 1.0, 1.0)
    """
    if week < start_week:
        return 0.0
    if ramp_weeks <= 0:
        return 1.0
    return s_curve((week - start_week + 1) / ramp_weeks)


def learning_curve_cost(
    initial_cost: float, cumulative_output_t: float, reference_output_t: float, learning_rate: float
) -> float:
    """Unit cost after learning: falls by ``learning_rate`` with each doubling of cumulative output.

    Args:
        initial_cost: unit cost until ``reference_output_t`` has been produced (USD/kg).
        cumulative_output_t: cumulative good output so far (t).
        reference_output_t: output at which learning starts (t), > 0.
        learning_rate: fractional cost fall per doubling, in [0, 1).

    Example:
        >>> learning_curve_cost(100.0, 40.0, 10.0, 0.2)  # two doublings: 100 * 0.8**2
        64.00000000000001
    """
    if cumulative_output_t <= reference_output_t or learning_rate <= 0.0:
        return initial_cost
    doublings = math.log2(cumulative_output_t / reference_output_t)
    return initial_cost * (1.0 - learning_rate) ** doublings
