"""The licence desk table by destination (rows and HTML) for one :class:`Frame`."""

from __future__ import annotations

import html
from collections.abc import Callable

from simulation.page.display import destination_name
from simulation.page.session import Frame

#: The licence desk table: (column title, reporter prefix, "week" = this week's value or
#: "to date" = summed over the weeks so far). Pending is a stock, the others weekly counts.
DESK_COLUMNS = (
    ("pending", "applications_pending", "week"),
    ("filed this week", "applications_filed", "week"),
    ("decided this week", "applications_decided", "week"),
    ("approved this week", "licences_approved", "week"),
    ("decided to date", "applications_decided", "to date"),
    ("approved to date", "licences_approved", "to date"),
)


def desk_rows(frame: Frame) -> list[list[str]]:
    """The licence desk by destination at the frame's week (empty before the first week).

    One row per destination, then the totals (the EU) and the whole desk (``all``); columns
    as in :data:`DESK_COLUMNS`.
    """
    if frame.week < 0 or not frame.column("week"):
        return []

    def row(label: str, values: Callable[[str, str], float]) -> list[str]:
        return [label, *(f"{values(prefix, when):.0f}" for _, prefix, when in DESK_COLUMNS)]

    def recorded(code: str) -> Callable[[str, str], float]:
        def value(prefix: str, when: str) -> float:
            values = frame.column(f"{prefix}__{code}")
            return sum(values) if when == "to date" else values[-1]

        return value

    def whole_desk(prefix: str, when: str) -> float:
        return sum(recorded(d)(prefix, when) for d in frame.destinations)

    rows = [row(destination_name(d), recorded(d)) for d in frame.destinations]
    rows += [row(f"{destination_name(d)} (total)", recorded(d)) for d in frame.destination_totals]
    rows.append(row("all", whole_desk))
    return rows


def desk_table_html(frame: Frame) -> str:
    """The licence desk table (HTML), or a note before the first week."""
    rows = desk_rows(frame)
    if not rows:
        return "<p>The licence desk by destination appears after the first week.</p>"
    esc = html.escape
    head = "".join(f"<th>{esc(t)}</th>" for t in ("destination", *(c for c, _, _ in DESK_COLUMNS)))
    body = "".join("<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in r) + "</tr>" for r in rows)
    return (
        f"<b>Licence desk by destination, week {frame.week}</b>"
        f'<table class="desk-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )
