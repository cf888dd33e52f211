"""The browser page: watch the 2025 magnet shock unfold and move levers while it runs.

Served by ``magshock viz`` (Solara). Each browser session builds its own
:class:`~simulation.model.MagnetSupplyModel`; Step / Play / Pause / Reset drive it; licence
policy, approval probability, review capacity, statutory delay, subsidy, domestic ramp speed
and OEM stockpile target can be changed mid-run and take effect from the next week (the
change is marked on every chart). China's exports and the licence desk are shown by
destination, the destinations read from the scenario (:func:`split_destinations`). Charts are
ECharts (light, canvas) so Play stays fast.
"""

from __future__ import annotations

import html
import math
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd
import solara
from pydantic import ValidationError

from agents.oem import OEM
from simulation.errors import ScenarioError
from simulation.kpis import compute_kpis
from simulation.market import EPS
from simulation.model import MagnetSupplyModel
from simulation.reporters import destinations
from simulation.scenario import Scenario
from simulation.scenario_io import SCENARIO_DIR, load_scenario
from simulation.spread import central

SCENARIOS = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
_USER_FILE = os.environ.get("MAGSHOCK_VIZ_SCENARIO_FILE")  # a scenario outside the library
if _USER_FILE:
    SCENARIOS.append(_USER_FILE)
DEFAULT_SCENARIO = _USER_FILE or os.environ.get("MAGSHOCK_VIZ_SCENARIO", "baseline_2025")
POLICY_KINDS = ["scenario", "open", "case_by_case", "quota", "ban"]
SEED_LIMIT = 2**63  # seeds typed into the page: 0 <= seed < SEED_LIMIT
WEEKS_PER_FRAME = 2  # Play advances this many weeks per redraw
FRAME_PAUSE_S = 0.02
# display names of the codes scenarios use; any other code is shown as it is
COUNTRY_NAMES = {
    "IN": "India",
    "JP": "Japan",
    "DE": "Germany",
    "US": "United States",
    "KR": "South Korea",
    "VN": "Vietnam",
    "XE": "rest of EU",
    "XX": "rest of world",
}
SOURCE_COLOURS = {"china": "#d62728", "row": "#1f77b4", "domestic": "#2ca02c"}
#: A firm's state this week (:func:`firm_state`) and its mark's colour, in legend order.
FIRM_STATE_COLOURS = {
    "producing": "#59a14f",
    "switching": "#4e79a7",
    "short": "#f28e2b",
    "stopped": "#d62728",
}
# one colour per destination (by its place in the scenario's list), the same on every chart
DESTINATION_PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
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


@dataclass
class Levers:
    """What the user can change (units in the names)."""

    policy: str = "scenario"
    approval_probability: float = 0.5
    review_capacity_per_week: int = 0  # 0 = unlimited
    min_delay_working_days: int = 20
    subsidy_usd_per_kg: float = 25.0
    ramp_weeks: int = 52
    cover_target_weeks: float = 2.5

    def policy_config(self) -> dict[str, Any] | None:
        """The licence policy these levers describe (None = the scenario's own)."""
        if self.policy == "scenario":
            return None
        if self.policy in ("open", "ban"):
            return {"kind": self.policy}
        config: dict[str, Any] = {
            "kind": self.policy,
            "min_delay_working_days": self.min_delay_working_days,
            "max_delay_working_days": max(45, self.min_delay_working_days),
            "review_capacity_per_week": self.review_capacity_per_week or None,
        }
        if self.policy == "case_by_case":
            config["approval_probability"] = self.approval_probability
        return config


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


@dataclass(frozen=True)
class Frame:
    """What the page shows at one moment: a copy of the records made under the session's lock.

    Renders read only the latest frame, never the model, so a Play thread stepping the model
    cannot tear what they see (every series in a frame has the same length).

    Attributes:
        week: the last week recorded (-1 before the first step).
        series: every model reporter's values so far, one per week.
        marks: (week, text) of each lever change made mid-run.
        countries: the scenario's OEM countries (sorted).
        groups: (country, name) of each OEM group, in scenario order.
        cards: the KPI cards' texts, label -> value.
        destinations: China's export destinations, each tonne in exactly one (sorted).
        destination_totals: destinations that add up others (the EU), also recorded.
        firms: one mark per firm for the last week recorded (empty before the first step).
    """

    week: int
    series: Mapping[str, tuple[Any, ...]]
    marks: tuple[tuple[int, str], ...]
    countries: tuple[str, ...]
    groups: tuple[tuple[str, str], ...]
    cards: Mapping[str, str]
    destinations: tuple[str, ...]
    destination_totals: tuple[str, ...]
    firms: tuple[FirmMark, ...] = ()

    @property
    def dates(self) -> list[str]:
        """The date of each recorded week (ISO text)."""
        return [str(d) for d in self.series.get("date", ())]

    def column(self, name: str) -> list[Any]:
        """Recorded values of one model reporter (empty if there is none)."""
        return list(self.series.get(name, ()))


@dataclass
class Session:
    """One browser session: its model, the marks of lever changes and the latest frame.

    Every change to the model (reset, step, lever change) happens under ``lock`` and ends by
    publishing a new :class:`Frame`; readers take ``frame`` and never touch the model.
    """

    scenario: Scenario
    seed: int
    levers: Levers
    model: MagnetSupplyModel = field(init=False)
    frame: Frame = field(init=False)
    marks: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.reset(self.scenario, self.seed, self.levers)

    @property
    def policy_kind(self) -> str:
        """Kind of the licence policy in force this week."""
        with self.lock:
            return self.model.authority.policy.active(max(self.model.week, 0)).kind

    def reset(self, scenario: Scenario, seed: int, levers: Levers) -> None:
        """Rebuild the model from the scenario; levers moved away from it apply from week 0."""
        with self.lock:
            self.scenario, self.seed = scenario, seed
            self.model = MagnetSupplyModel(scenario=scenario, rng=seed)
            self.marks = []
            self.levers = levers_from_scenario(scenario)
            self._apply(levers, mark=False)
            self.levers = levers
            self._publish()

    def step(self, weeks: int = 1) -> bool:
        """Advance the model ``weeks`` weeks (stops at the horizon); False if it cannot move."""
        with self.lock:
            return self._advance(weeks, self.model)

    def play(
        self,
        on_frame: Callable[[Frame], None],
        keep_playing: Callable[[], bool],
        weeks_per_frame: int = WEEKS_PER_FRAME,
        pause_s: float = FRAME_PAUSE_S,
    ) -> None:
        """Step and hand each new frame to ``on_frame`` until paused, at the horizon or closed.

        Runs in the page's Play thread. It also stops when the model is replaced (Reset), so a
        step already waiting for the lock cannot move the new model.

        Args:
            on_frame: called (outside the lock) with each new frame, e.g. to redraw.
            keep_playing: asked before each step; False stops the loop (the Pause button).
            weeks_per_frame: weeks stepped between frames.
            pause_s: rest between frames (ends early when the session closes).
        """
        model = self.model
        while not self.closed.is_set() and keep_playing():
            with self.lock:
                if not self._advance(weeks_per_frame, model):
                    return
                frame = self.frame
            if self.closed.is_set():
                return
            on_frame(frame)
            if self.closed.wait(pause_s):
                return

    def close(self) -> None:
        """End the session (tab closed, kernel culled): no more steps; ``play`` returns."""
        with self.lock:  # no step is under way or can start once this returns
            self.closed.set()

    def change(self, levers: Levers) -> None:
        """Apply changed levers from the next week on, marking the change."""
        with self.lock:
            self._apply(levers, mark=True)
            self.levers = levers
            self._publish()

    def _advance(self, weeks: int, model: MagnetSupplyModel) -> bool:
        """Step ``model`` if it is still the session's and not at its horizon (lock held)."""
        if self.closed.is_set() or model is not self.model or not model.running:
            return False
        for _ in range(weeks):
            if model.week + 1 >= model.horizon_weeks:
                model.running = False
                break
            model.step()
        self._publish()
        return True

    def _apply(self, levers: Levers, mark: bool) -> None:
        """Apply the levers that differ from the current ones (all of the scenario's at reset)."""
        old = self.levers
        model = self.model
        changes = []
        policy = levers.policy_config()
        if policy != old.policy_config():
            if policy is None:
                model.set_policy(self.scenario.licensing.model_copy(deep=True))
            else:
                model.set_policy(policy)
            changes.append(f"policy: {levers.policy}")
        if levers.subsidy_usd_per_kg != old.subsidy_usd_per_kg:
            model.set_incentive(subsidy_usd_per_kg=levers.subsidy_usd_per_kg)
            changes.append(f"subsidy {levers.subsidy_usd_per_kg:g} USD/kg")
        if levers.ramp_weeks != old.ramp_weeks:
            model.set_incentive(ramp_weeks=levers.ramp_weeks)
            changes.append(f"ramp {levers.ramp_weeks} weeks")
        if levers.cover_target_weeks != old.cover_target_weeks:
            model.set_cover_target_weeks(levers.cover_target_weeks)
            changes.append(f"stockpile {levers.cover_target_weeks:g} weeks")
        if mark and changes:
            self.marks.append((model.week + 1, ", ".join(changes)))

    def _publish(self) -> None:
        """Copy the records into a new immutable frame (lock held)."""
        records = self.model.datacollector.model_vars
        series = MappingProxyType({name: tuple(values) for name, values in records.items()})
        oems = self.scenario.oems
        countries = tuple(sorted({o.country for o in oems}))
        leaves, totals = split_destinations(self.model.spec)
        self.frame = Frame(
            week=self.model.week,
            series=series,
            marks=tuple(self.marks),
            countries=countries,
            groups=tuple((o.country, o.name) for o in oems),
            cards=MappingProxyType(
                {
                    **kpi_cards(series, self.model.week, countries),
                    # the policy the next step runs under: the page shows a change once the
                    # server has taken it
                    "policy": self.model.authority.policy.active(self.model.week + 1).kind,
                }
            ),
            destinations=leaves,
            destination_totals=totals,
            # a firm's week exists once it has been stepped
            firms=firm_marks(self.model.oems) if self.model.week >= 0 else (),
        )

    def series(self, name: str) -> list[Any]:
        """Recorded values of one model reporter, one per week so far (from the latest frame)."""
        return self.frame.column(name)


def split_destinations(spec: Scenario) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The scenario's export destinations: (those that split China's exports, the totals).

    A destination is a buyer's or OEM's country (China's home market is none); the others
    :func:`simulation.reporters.destinations` records (the EU) add up several of them, so
    stacking them would count tonnes twice.
    """
    countries = {o.country for o in spec.oems} | {b.country for b in spec.buyers}
    codes = destinations(spec)
    return (
        tuple(d for d in codes if d in countries),
        tuple(d for d in codes if d not in countries),
    )


def levers_from_scenario(scenario: Scenario) -> Levers:
    """Initial lever positions read from a scenario."""
    oems = scenario.oems
    return Levers(
        subsidy_usd_per_kg=scenario.incentive.subsidy_usd_per_kg,
        ramp_weeks=scenario.incentive.ramp_weeks,
        # the slider moves in half weeks: snap, or the page would report a change on load
        cover_target_weeks=round(2 * sum(central(o.cover_target) for o in oems) / len(oems)) / 2,
    )


def parse_seed(text: Any) -> int | None:
    """A seed typed into the page, or None unless it is ASCII digits for 0 <= seed < 2**63.

    ``str.isdigit`` alone would pass ``"²"`` or other Unicode digits (``int`` then raises)
    and any number of digits; the text comes from the client, so check it here.
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not (0 < len(text) <= len(str(SEED_LIMIT)) and text.isascii() and text.isdigit()):
        return None
    seed = int(text)
    return seed if seed < SEED_LIMIT else None


def shown(value: Any, limit: int = 40) -> str:
    """A client's value quoted for an inline message, cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def scenario_file(name: Any) -> Path | None:
    """The file of a scenario the page offers, or None: a client may send any text.

    Only the library names and the file the server was started with
    (``MAGSHOCK_VIZ_SCENARIO_FILE``) are offered; nothing else is ever opened.
    """
    if not isinstance(name, str) or name not in SCENARIOS:
        return None
    return Path(name) if name == _USER_FILE else SCENARIO_DIR / f"{name}.toml"


def checked_lever(name: str, value: Any) -> str | int | float:
    """``value`` for lever ``name`` if the page's own control could have sent it.

    Args:
        name: a lever of :class:`Levers`.
        value: what the client sent (any JSON value).

    Returns:
        The value as the lever holds it (int for integer sliders).

    Raises:
        ValueError: naming the lever and the values it takes.
    """
    if name == "policy":
        if isinstance(value, str) and value in POLICY_KINDS:
            return value
        raise ValueError(f"Licence policy must be one of {', '.join(POLICY_KINDS)}")
    label, low, high, step = LEVER_RANGES[name]
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not (number and math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{label} must be a number from {low:g} to {high:g}")
    if isinstance(step, int):
        if value != int(value):
            raise ValueError(f"{label} must be a whole number from {low:g} to {high:g}")
        return int(value)
    return float(value)


# ---------------------------------------------------------------------- charts


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


def destination_name(code: str) -> str:
    """A destination's name for legends and tables (its code if it has none)."""
    return COUNTRY_NAMES.get(code, code)


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


def kpi_cards(
    series: Mapping[str, Sequence[Any]], week: int, countries: Sequence[str]
) -> dict[str, str]:
    """Headline numbers so far (text) from the recorded series (all of the same length)."""
    df = pd.DataFrame({name: list(values) for name, values in series.items()})
    if df.empty:
        return {"week": "not started"}
    kpis = compute_kpis(df)
    cards = {"week": f"{week} ({df['date'].iloc[-1]})"}
    for c in countries:
        name = COUNTRY_NAMES.get(c, c)
        cards[f"lost production {name}"] = f"{kpis[f'lost_production_pct__{c}']:.1f} %"
        first = kpis[f"weeks_to_first_stoppage__{c}"]
        cards[f"first line stop {name}"] = "none" if first != first else f"week {first:.0f}"
    cards["licences issued"] = f"{kpis['licences_issued']:.0f}"
    cards["licence queue"] = f"{df['licence_queue_length'].iloc[-1]:.0f}"
    return cards


# ---------------------------------------------------------------------- the page


class Drawn:
    """The latest version of a page that has been drawn, for the Play thread to wait on."""

    def __init__(self) -> None:
        self._version = -1
        self._changed = threading.Condition()

    def mark(self, version: int) -> None:
        """Record that ``version`` of the page (and every earlier one) is drawn."""
        with self._changed:
            self._version = max(self._version, version)
            self._changed.notify_all()

    def wait_for(self, version: int, timeout_s: float) -> bool:
        """Wait until ``version`` is drawn; False if it is not within ``timeout_s``."""
        with self._changed:
            return self._changed.wait_for(lambda: self._version >= version, timeout_s)


# (lever, label with unit, min, max, step): integer steps make integer sliders
SLIDERS: list[tuple[str, str, float, float, float | int]] = [
    ("approval_probability", "Approval probability", 0, 1, 0.05),
    ("review_capacity_per_week", "Review capacity /week (0 = no limit)", 0, 40, 1),
    ("min_delay_working_days", "Review delay (working days)", 0, 90, 1),
    ("subsidy_usd_per_kg", "Subsidy (USD/kg)", 0, 100, 1.0),
    ("ramp_weeks", "Domestic ramp-up (weeks)", 0, 156, 1),
    ("cover_target_weeks", "OEM stockpile target (weeks)", 0, 26, 0.5),
]
LEVER_RANGES = {lever: (label, low, high, step) for lever, label, low, high, step in SLIDERS}


def _slider(lever: str, label: str, low, high, step, value, on_change) -> None:
    """One lever slider (integer or float by its step)."""
    if isinstance(step, int):
        solara.SliderInt(
            label, value=value, min=low, max=high, on_value=lambda v: on_change(lever, v)
        )
    else:
        solara.SliderFloat(
            label, value=value, min=low, max=high, step=step, on_value=lambda v: on_change(lever, v)
        )


@solara.component
def Page() -> None:
    """The whole page (one per browser session)."""
    scenario_name = solara.use_reactive(
        DEFAULT_SCENARIO if DEFAULT_SCENARIO in SCENARIOS else SCENARIOS[0]
    )
    seed_text = solara.use_reactive("42")
    error = solara.use_reactive("")
    version = solara.use_reactive(0)
    playing = solara.use_reactive(False)

    def make_session() -> Session:
        scenario = load_scenario(scenario_file(scenario_name.value))
        return Session(scenario, 42, levers_from_scenario(scenario))

    session: Session = solara.use_memo(make_session, [])
    levers = solara.use_reactive(session.levers)

    drawn: Drawn = solara.use_memo(Drawn, [])

    def refresh() -> None:
        version.value += 1

    def keep_playing() -> bool:
        return playing.value and play_task.is_current()

    def draw(_frame: Frame) -> None:
        """Redraw, and wait until it is on screen before the Play thread steps again.

        A render under way in another thread (a lever moved during Play) takes the Play
        thread's request as one more pass; a new request every frame would keep it from ever
        finishing (reacton gives up after 100 passes).
        """
        refresh()
        wanted = version.value
        while not drawn.wait_for(wanted, timeout_s=0.05):
            if session.closed.is_set() or not keep_playing():
                return

    def play_loop() -> None:
        session.play(draw, keep_playing)
        if play_task.is_current() and not session.closed.is_set():
            playing.value = False  # reached the horizon

    play_task = solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)
    # the session ends with the page (tab closed, kernel culled): a running Play thread returns
    solara.use_effect(lambda: session.close, [])
    # effects run once a render is committed: this version of the page is now drawn
    shown_version = version.value
    solara.use_effect(lambda: drawn.mark(shown_version), [shown_version])

    def on_step() -> None:
        if session.step(1):
            refresh()

    def on_reset() -> None:
        seed = parse_seed(seed_text.value)
        if seed is None:
            error.value = (
                f"Seed {shown(seed_text.value)} is not a whole number from 0 to 2**63 - 1; "
                "the model was not reset."
            )
            return
        try:
            scenario = load_scenario(scenario_file(scenario_name.value))
        except ScenarioError as err:
            error.value = str(err)
            return
        playing.value = False
        try:
            session.reset(scenario, seed, levers.value)
        except (ValidationError, ValueError) as err:
            error.value = f"Lever out of range: {err}"
            return
        error.value = ""
        refresh()

    def set_lever(name: str, value: Any) -> None:
        try:
            new = Levers(**{**levers.value.__dict__, name: checked_lever(name, value)})
            session.change(new)
        except (ValidationError, ValueError) as err:
            error.value = f"{shown(value)} not applied: {err}".splitlines()[0]
            return
        levers.value = new
        error.value = ""
        refresh()

    def on_scenario(name: str) -> None:
        path = scenario_file(name)
        if path is None:
            error.value = f"Scenario {shown(name)} is not one of {', '.join(SCENARIOS)}."
            return
        try:
            scenario = load_scenario(path)
        except ScenarioError as err:
            error.value = str(err)
            return
        scenario_name.value = name
        levers.value = levers_from_scenario(scenario)
        on_reset()

    _ = version.value  # re-render when the model advances
    lv = levers.value
    solara.Title("magshock: rare-earth magnet export controls")
    with solara.Sidebar():
        solara.Text("The 2025 rare-earth magnet shock, week by week.")
        solara.Select("Scenario", value=scenario_name.value, values=SCENARIOS, on_value=on_scenario)
        solara.InputText("Seed", value=seed_text, continuous_update=True)
        with solara.Row():
            solara.Button("Step", on_click=on_step, disabled=playing.value)
            solara.Button(
                "Pause" if playing.value else "Play",
                on_click=lambda: playing.set(not playing.value),
                color="primary",
            )
            solara.Button("Reset", on_click=on_reset)
        solara.HTML(tag="b", unsafe_innerHTML="Licensing (China)")
        solara.Select(
            "Licence policy",
            value=lv.policy,
            values=POLICY_KINDS,
            on_value=lambda v: set_lever("policy", v),
        )
        for lever, label, low, high, step in SLIDERS[:3]:
            _slider(lever, label, low, high, step, getattr(lv, lever), set_lever)
        solara.HTML(tag="b", unsafe_innerHTML="India's programme and OEMs")
        for lever, label, low, high, step in SLIDERS[3:]:
            _slider(lever, label, low, high, step, getattr(lv, lever), set_lever)
    if error.value:
        solara.Error(error.value)
    frame = session.frame  # one consistent snapshot for this whole render
    with solara.Row(style={"flex-wrap": "wrap"}):
        for label, value in frame.cards.items():
            with solara.Card(style={"min-width": "150px", "margin": "4px", "padding": "8px"}):
                solara.HTML(tag="div", unsafe_innerHTML=label, style="font-size: 12px; color: #666")
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=value,
                    # the frame's week in a class: a test can wait until every card shows it
                    classes=[f"kpi-{label.replace(' ', '-')}", f"frame-{frame.week}"],
                    style="font-size: 20px",
                )
    options = chart_options(frame)
    with solara.ColumnsResponsive([12, 6, 6], large=[6, 6]):
        for key, option in options.items():
            solara.FigureEcharts(
                option=option, attributes={"style": "height: 300px;", "class": f"chart-{key}"}
            )
    solara.HTML(tag="div", unsafe_innerHTML=desk_table_html(frame), classes=["licence-desk"])
