"""Firms as the page shows them: one immutable :class:`FirmMark` per OEM agent and its state."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from agents.oem import OEM
from simulation.market import EPS

#: A firm's state this week (:func:`firm_state`) and its mark's colour, in legend order.
FIRM_STATE_COLOURS = {
    "producing": "#59a14f",
    "switching": "#4e79a7",
    "short": "#f28e2b",
    "stopped": "#d62728",
}


def firm_state(stopped: bool, short: bool, technology: str) -> str:
    """A firm's state this week, for its mark: one of :data:`FIRM_STATE_COLOURS`.

    Precedence: ``stopped`` > ``short`` > ``switching`` > ``producing``. A stopped line is
    also short (it built less than the stop threshold of its plan), so a stopped firm is
    shown as stopped; ``switching`` means a technology project is running while the firm
    builds its whole plan; a firm that has finished switching (``switched``) and builds its
    plan is producing.

    Args:
        stopped: the firm built less than the line-stop threshold of its plan this week.
        short: the firm built less than its plan this week.
        technology: :attr:`agents.oem.OEM.technology_state` (original, switching, switched).

    Example:
        >>> firm_state(stopped=False, short=True, technology="switching")
        'short'
    """
    if stopped:
        return "stopped"
    if short:
        return "short"
    if technology == "switching":
        return "switching"
    return "producing"


@dataclass(frozen=True)
class FirmMark:
    """One firm's week as the page shows it: copied from an OEM agent under the lock.

    Attributes:
        firm_id: the agent's ``unique_id``.
        group: the firm's OEM group (scenario name).
        index: the firm's place in its group (0-based, in agent-id order).
        country: ISO code of the firm's country.
        segment: the group's segment (car_ice, e2w, ...).
        plan_share: vehicles built this week over this week's plan (above 1 while the
            firm works off a backlog; 1 if it planned none).
        stopped: built less than the line-stop threshold of its plan this week.
        short: built less than its plan this week.
        technology: original, switching (a project runs) or switched (one finished).
        stock_t: magnet stock by grade after this week's production, t.
        cover_weeks: that stock over the grade's weekly need at full output, weeks (None
            for a grade the firm does not use).
        china_share: share of its orders placed with Chinese makers.
        received_t: magnets that arrived this week, by source, t.
    """

    firm_id: int
    group: str
    index: int
    country: str
    segment: str
    plan_share: float
    stopped: bool
    short: bool
    technology: str
    stock_t: Mapping[str, float]
    cover_weeks: Mapping[str, float | None]
    china_share: float
    received_t: Mapping[str, float]

    @property
    def state(self) -> str:
        """Producing, switching, short or stopped (:func:`firm_state`)."""
        return firm_state(self.stopped, self.short, self.technology)


def firm_marks(oems: Iterable[OEM]) -> tuple[FirmMark, ...]:
    """One :class:`FirmMark` per OEM agent, in agent-id order (call with the model locked).

    Every value is copied (numbers, strings, fresh read-only mappings), so stepping the
    model later does not change the marks.
    """
    marks = []
    in_group: dict[str, int] = {}
    for oem in sorted(oems, key=lambda o: o.unique_id):
        index = in_group[oem.group] = in_group.get(oem.group, -1) + 1
        plan = oem.planned_vehicles_per_week
        cover = {}
        for grade, stock in oem.stock_t.items():
            need = oem.need_t(grade)
            cover[grade] = stock / need if need > EPS else None
        marks.append(
            FirmMark(
                firm_id=oem.unique_id,
                group=oem.group,
                index=index,
                country=oem.country,
                segment=oem.segment,
                plan_share=oem.produced_vehicles / plan if plan > EPS else 1.0,
                stopped=bool(oem.stopped),
                short=bool(oem.short),
                technology=oem.technology_state,
                stock_t=MappingProxyType(dict(oem.stock_t)),
                cover_weeks=MappingProxyType(cover),
                china_share=oem.china_share,
                received_t=MappingProxyType(dict(oem.received_t)),
            )
        )
    return tuple(marks)
