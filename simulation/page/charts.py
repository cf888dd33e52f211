"""The page's charts: ECharts options (light, canvas) drawn from one :class:`Frame`.

Time series by country, OEM group and destination with lever-change marks, and the firms
chart (one mark per firm, coloured by its state).
"""

from __future__ import annotations

import math
from typing import Any

from simulation.page.display import (
    COUNTRY_NAMES,
    DESTINATION_PALETTE,
    SOURCE_COLOURS,
    destination_name,
)
from simulation.page.firms import FIRM_STATE_COLOURS, FirmMark
from simulation.page.session import Frame


def _chart(title: str, y_name: str, dates: list[str], series: list[dict], marks) -> dict:
    """An ECharts option: a time series chart with lever-change marks."""
    if series and marks:
        series[0] = {
            **series[0],
            "markLine": {
                "symbol": "none",
                "label": {"formatter": "{b}", "fontSize": 9},
                "lineStyle": {"type": "dashed", "color": "#555"},
                "data": [
                    {"name": text, "xAxis": dates[week]}
                    for week, text in marks
                    if week < len(dates)
                ],
            },
        }
    return {
        "title": {"text": title, "textStyle": {"fontSize": 13}},
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 22, "type": "scroll"},
        "grid": {"left": 56, "right": 16, "top": 56, "bottom": 40},
        "xAxis": {
            "type": "category",
            "data": dates,
            "name": "week (date)",
            "nameGap": 24,
            "nameLocation": "middle",
        },
        "yAxis": {
            "type": "value",
            "name": y_name,
            "nameLocation": "middle",
            "nameRotate": 90,
            "nameGap": 40,
        },
        "series": series,
    }


def _stacked_bar(name: str, data: list[float]) -> dict:
    return {"name": name, "type": "bar", "stack": "d", "data": data}


def _line(name: str, data: list[float], digits: int = 4, **extra: Any) -> dict:
    """A line series; its values rounded to ``digits`` decimals (0: whole numbers, as ints)."""
    return {
        "name": name,
        "type": "line",
        "showSymbol": False,
        "data": [round(v) if digits == 0 else round(v, digits) for v in data],
        **extra,
    }


def _by_destination(frame: Frame, prefix: str, digits: int) -> list[dict]:
    """Stacked areas of ``<prefix>__<destination>``, one per destination that splits the total.

    Values are rounded to ``digits`` decimals: each frame sends every series to the browser,
    so the many destination series are kept short.
    """
    return [
        _line(
            destination_name(d),
            frame.column(f"{prefix}__{d}"),
            digits,
            stack="d",
            areaStyle={},
            color=DESTINATION_PALETTE[i % len(DESTINATION_PALETTE)],
        )
        for i, d in enumerate(frame.destinations)
    ]


FIRM_SPREAD = 0.7  # share of a group's slot on the x axis its firms' marks spread over


def firm_tooltip(mark: FirmMark) -> str:
    """The text shown when hovering a firm's mark (lines; the browser escapes it)."""
    cover = ", ".join(
        f"{grade} {tonnes:.2f} t ({_weeks(mark.cover_weeks[grade])})"
        for grade, tonnes in mark.stock_t.items()
    )
    received = ", ".join(f"{source} {tonnes:.2f} t" for source, tonnes in mark.received_t.items())
    return "\n".join(
        (
            f"{mark.group} ({COUNTRY_NAMES.get(mark.country, mark.country)}), "
            f"firm {mark.index + 1}",
            f"segment {mark.segment}: {mark.state}, technology {mark.technology}",
            f"built {100 * mark.plan_share:.0f}% of plan",
            f"stock {cover}",
            f"China share {100 * mark.china_share:.0f}%",
            f"received this week: {received}",
        )
    )


def _weeks(cover: float | None) -> str:
    return "not used" if cover is None else f"{cover:.1f} weeks of cover"


def firms_option(frame: Frame) -> dict:
    """ECharts option of the firms chart: one mark per firm, one series per state.

    x: the firm's group (groups in scenario order), firms of a group side by side in
    agent-id order; y: share of this week's plan built. Each state has its fixed colour
    (:data:`FIRM_STATE_COLOURS`), so the legend names them; hovering a mark shows
    :func:`firm_tooltip`.
    """
    groups = [name for _, name in frame.groups]
    slot = {name: i for i, name in enumerate(groups)}
    sizes = {name: 0 for name in groups}
    for mark in frame.firms:
        sizes[mark.group] += 1
    points: dict[str, list[dict]] = {state: [] for state in FIRM_STATE_COLOURS}
    for mark in frame.firms:
        n = sizes[mark.group]
        x = slot[mark.group] + (mark.index - (n - 1) / 2) * FIRM_SPREAD / n
        points[mark.state].append(
            {"name": firm_tooltip(mark), "value": [round(x, 4), round(mark.plan_share, 4)]}
        )
    top = max([1.0, *(m.plan_share for m in frame.firms)])
    return {
        "title": {
            "text": f"Firms this week ({frame.dates[-1]})" if frame.firms else "Firms this week",
            "subtext": "" if frame.firms else "one mark per firm after the first week",
            "textStyle": {"fontSize": 13},
        },
        "animation": False,
        "tooltip": {
            "trigger": "item",
            "formatter": "{b}",
            "extraCssText": "white-space: pre-line;",
        },
        "legend": {"top": 22, "data": list(FIRM_STATE_COLOURS)},
        "grid": {"left": 56, "right": 16, "top": 56, "bottom": 40},
        "xAxis": [
            {
                "type": "category",
                "data": groups,
                "name": "OEM group",
                "nameGap": 24,
                "nameLocation": "middle",
                "axisLabel": {"interval": 0, "fontSize": 10},
            },
            # the marks' own axis, aligned with the groups' slots: slot i spans i ± 0.5
            {"type": "value", "min": -0.5, "max": max(len(groups), 1) - 0.5, "show": False},
        ],
        "yAxis": {
            "type": "value",
            "name": "share of plan built",
            "min": 0,
            "max": math.ceil(10 * top) / 10,
            "nameLocation": "middle",
            "nameRotate": 90,
            "nameGap": 40,
        },
        "series": [
            {
                "name": state,
                "type": "scatter",
                "xAxisIndex": 1,
                "symbolSize": 9,
                "itemStyle": {"color": colour},
                "data": points[state],
            }
            for state, colour in FIRM_STATE_COLOURS.items()
        ],
    }


def chart_options(frame: Frame) -> dict[str, dict]:
    """Every chart's ECharts option for one frame of records."""
    dates = frame.dates
    marks = list(frame.marks)
    column = frame.column
    options: dict[str, dict] = {}
    production = []
    for c in frame.countries:
        made, plan = column(f"vehicles_produced__{c}"), column(f"vehicles_planned__{c}")
        production.append(
            _line(
                COUNTRY_NAMES.get(c, c),
                [100 * m / p if p else 0 for m, p in zip(made, plan, strict=True)],
            )
        )
    options["production"] = _chart(
        "Vehicles produced, % of plan", "% of plan", dates, production, marks
    )
    options["firms"] = firms_option(frame)
    options["licences"] = _chart(
        "Licence desk",
        "applications",
        dates,
        [
            _line("queue", column("licence_queue_length")),
            _stacked_bar("approved", column("licences_approved")),
            _stacked_bar("denied", column("licences_denied")),
        ],
        marks,
    )
    cover = [
        _line(name, column(f"oem_cover_weeks__{country}__{name}")) for country, name in frame.groups
    ]
    options["desk_pending"] = _chart(
        "Applications pending at the licence desk, by destination",
        "applications",
        dates,
        _by_destination(frame, "applications_pending", digits=0),
        marks,
    )
    options["exports"] = _chart(
        "China's exports by destination (customs basis)",
        "t/week",
        dates,
        _by_destination(frame, "china_exports_t", digits=1),
        marks,
    )
    options["china_sales"] = _chart(
        "China's magnets: output, home sales and exports",
        "t/week",
        dates,
        [
            _line("output", column("china_output_t"), digits=1),
            _line("home sales", column("china_domestic_sales_t"), digits=1),
            _line("exports", column("china_exports_t"), digits=1),
        ],
        marks,
    )
    options["cover"] = _chart(
        "Magnet inventory cover per OEM group", "weeks of need", dates, cover, marks
    )
    options["domestic"] = _chart(
        "India's domestic magnet plants",
        "t/week",
        dates,
        [
            _line("capacity", column("domestic_capacity_t_per_week")),
            _line("output", column("domestic_output_t")),
        ],
        marks,
    )
    options["prices"] = _chart(
        "Price index (pre-shock Chinese price = 1)",
        "x pre-shock price",
        dates,
        [
            _line("rest of world", [v if v == v else None for v in column("price_index_row")]),
            _line(
                "domestic (after subsidy)",
                [v if v == v else None for v in column("price_index_domestic")],
            ),
        ],
        marks,
    )
    for c in frame.countries:
        flows = [
            _line(
                source,
                column(f"receipts_t__{c}__{source}"),
                stack="s",
                areaStyle={},
                color=SOURCE_COLOURS[source],
            )
            for source in ("china", "row", "domestic")
        ]
        name = COUNTRY_NAMES.get(c, c)
        options[f"sources_{c}"] = _chart(
            f"Where {name}'s magnets come from", "t/week received", dates, flows, marks
        )
    return options
