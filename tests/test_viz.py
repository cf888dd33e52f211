"""The browser page without a browser: render it, click, move levers, check model and charts."""

from __future__ import annotations

import dataclasses
import importlib
import threading
import time
from collections.abc import Mapping
from typing import ClassVar

import pytest

solara = pytest.importorskip("solara")
v = pytest.importorskip("ipyvuetify")

from solara.components.echarts import EchartsWidget  # noqa: E402
from solara.widgets import HTML  # noqa: E402

import simulation.app as app_module  # noqa: E402
from simulation import MagnetSupplyModel  # noqa: E402
from simulation.app import Page  # noqa: E402
from simulation.clearing import EU_CODES  # noqa: E402
from simulation.page.charts import chart_options, firm_tooltip, firms_option  # noqa: E402
from simulation.page.desk import DESK_COLUMNS, desk_rows  # noqa: E402
from simulation.page.display import destination_name  # noqa: E402
from simulation.page.firms import FIRM_STATE_COLOURS, FirmMark, firm_state  # noqa: E402
from simulation.page.levers import (  # noqa: E402
    Levers,
    checked_lever,
    levers_from_scenario,
    parse_seed,
)
from simulation.page.session import Session  # noqa: E402
from simulation.reporters import destinations  # noqa: E402
from simulation.scenario_io import load_scenario  # noqa: E402

# an exception in the Play thread (or a render it does) fails the test, not only a warning
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")


@solara.component
def App():
    with solara.AppLayout():
        Page()


@pytest.fixture
def page():
    _box, rc = solara.render(App(), handle_error=False)
    yield rc
    rc.close()


class WatchedSession(Session):
    """A Session that tells the test which sessions exist and which threads stepped them."""

    made: ClassVar[list[WatchedSession]] = []

    def __post_init__(self) -> None:
        self.steppers: set[threading.Thread] = set()
        self.reached: dict[int, threading.Event] = {}
        super().__post_init__()
        WatchedSession.made.append(self)

    def step(self, weeks: int = 1):
        self.steppers.add(threading.current_thread())
        return super().step(weeks)

    def _advance(self, weeks, model):
        self.steppers.add(threading.current_thread())
        return super()._advance(weeks, model)

    def _publish(self) -> None:
        super()._publish()
        for week, event in self.reached.items():
            if self.frame.week >= week:
                event.set()

    def when_week(self, week: int) -> threading.Event:
        """An event set once a frame shows ``week`` (register before the model gets there)."""
        return self.reached.setdefault(week, threading.Event())


@pytest.fixture
def watched(monkeypatch):
    """The page with a WatchedSession; yields (render context, its session)."""
    WatchedSession.made = []
    monkeypatch.setattr(app_module, "Session", WatchedSession)
    _box, rc = solara.render(App(), handle_error=False)
    (session,) = WatchedSession.made
    yield rc, session
    rc.close()


def charts(rc) -> dict[str, dict]:
    """ECharts options by chart key (from the widgets' class attribute)."""
    out = {}
    for widget in rc.find(EchartsWidget).widgets:
        key = widget.attributes["class"].removeprefix("chart-")
        out[key] = widget.option
    return out


def button(rc, label):
    return rc.find(v.Btn, children=[label]).widget


def weeks_shown(rc) -> int:
    return len(charts(rc)["production"]["xAxis"]["data"])


def kpi(rc, label: str) -> str:
    """Text of a KPI card."""
    name = f"kpi-{label.replace(' ', '-')}"
    (card,) = [
        w for w in rc.find(HTML).widgets if name in (w.attributes.get("class") or "").split()
    ]
    return card.unsafe_innerHTML


def error_text(rc) -> str:
    alerts = rc.find(v.Alert).widgets
    return " ".join(str(a.children) for a in alerts)


def test_step_advances_the_model_and_every_chart(page):
    assert weeks_shown(page) == 0
    for _ in range(3):
        button(page, "Step").click()
    options = charts(page)
    assert {
        "production",
        "licences",
        "cover",
        "domestic",
        "prices",
        "sources_IN",
        "sources_JP",
        "exports",
        "desk_pending",
        "china_sales",
        "firms",
    } <= set(options)
    for key, option in options.items():
        assert option["yAxis"]["name"], key  # units on every axis
        if key != "firms":  # the firms chart is of this week, by group
            assert option["xAxis"]["data"] == ["2025-04-07", "2025-04-14", "2025-04-21"], key
    marks = [point for series in options["firms"]["series"] for point in series["data"]]
    assert len(marks) == sum(g.count for g in load_scenario("baseline_2025").oems)  # one a firm
    queue = options["licences"]["series"][0]["data"]
    assert queue[0] > 0  # baseline: licences required from week 0, OEMs apply at once


def desk_table(rc) -> str:
    (widget,) = [w for w in rc.find(HTML).widgets if w.attributes.get("class") == "licence-desk"]
    return widget.unsafe_innerHTML


def test_the_licence_desk_table_follows_the_steps(page):
    assert "appears after the first week" in desk_table(page)
    for _ in range(2):
        button(page, "Step").click()
    table = desk_table(page)
    assert "week 1" in table and "<td>Germany</td>" in table and "<td>all</td>" in table


@pytest.fixture(scope="module")
def played() -> Session:
    """A baseline session 40 weeks in (exports have started, the desk has decided some)."""
    scenario = load_scenario("baseline_2025")
    session = Session(scenario, 11, levers_from_scenario(scenario))
    session.step(40)
    return session


def stacked_sums(option: dict) -> list[float]:
    return [sum(week) for week in zip(*(s["data"] for s in option["series"]), strict=True)]


def test_destinations_come_from_the_scenario_and_split_without_overlap(played):
    frame = played.frame
    assert set(frame.destinations) | set(frame.destination_totals) == set(
        destinations(played.model.spec)
    )
    buyers = {b.country for b in played.model.spec.buyers} - {"CN"}
    assert set(frame.destinations) == buyers  # every buyer abroad once, China's home not
    assert frame.destination_totals == ("EU",)  # the baseline has EU buyers (DE, XE)


def test_exports_chart_stacks_up_to_chinas_exports(played):
    frame = played.frame
    option = chart_options(frame)["exports"]
    names = [destination_name(d) for d in frame.destinations]
    assert [s["name"] for s in option["series"]] == names
    for series, d in zip(option["series"], frame.destinations, strict=True):
        # tonnes are sent to the browser to 0.1 t
        assert series["data"] == pytest.approx(frame.column(f"china_exports_t__{d}"), abs=0.05)
    total = frame.column("china_exports_t")
    assert max(total) > 100  # exports have started: the comparison below is not 0 == 0
    assert stacked_sums(option) == pytest.approx(total, abs=0.05 * len(frame.destinations))
    assert option["yAxis"]["name"] == "t/week"


def test_home_sales_and_exports_are_drawn_apart(played):
    frame = played.frame
    lines = {s["name"]: s["data"] for s in chart_options(frame)["china_sales"]["series"]}
    assert lines["home sales"] == pytest.approx(frame.column("china_domestic_sales_t"), abs=0.05)
    assert lines["exports"] == pytest.approx(frame.column("china_exports_t"), abs=0.05)
    assert min(lines["home sales"]) > max(lines["exports"])  # why they are not on one stack


def test_pending_by_destination_adds_up_to_the_licence_queue(played):
    frame = played.frame
    option = chart_options(frame)["desk_pending"]
    queue = frame.column("licence_queue_length")
    assert max(queue) > 0
    assert stacked_sums(option) == pytest.approx(queue)


def test_desk_table_rows_match_the_desk_totals(played):
    frame = played.frame
    header = ["destination", *(title for title, _, _ in DESK_COLUMNS)]
    rows = {r[0]: dict(zip(header[1:], map(float, r[1:]), strict=True)) for r in desk_rows(frame)}
    names = [destination_name(d) for d in frame.destinations]
    assert list(rows) == [*names, "EU (total)", "all"]
    everything = rows["all"]
    assert everything["pending"] == frame.column("licence_queue_length")[-1]
    approved, denied = frame.column("licences_approved"), frame.column("licences_denied")
    assert everything["approved this week"] == approved[-1]
    assert everything["decided this week"] == approved[-1] + denied[-1]
    assert everything["approved to date"] == sum(approved) > 0
    assert everything["decided to date"] == sum(approved) + sum(denied)
    members = [destination_name(d) for d in frame.destinations if d in EU_CODES]
    assert len(members) >= 2
    for column in header[1:]:
        assert rows["EU (total)"][column] == sum(rows[m][column] for m in members), column


def test_a_world_without_some_buyers_shows_only_its_own_destinations():
    scenario = load_scenario("baseline_2025")
    smaller = scenario.model_copy(
        update={"buyers": [b for b in scenario.buyers if b.country not in ("DE", "XE", "VN")]}
    )
    session = Session(smaller, 2, levers_from_scenario(smaller))
    session.step(3)
    frame = session.frame
    assert frame.destinations == ("IN", "JP", "KR", "US", "XX")
    assert frame.destination_totals == ()  # no EU buyer, so no EU total
    option = chart_options(frame)["exports"]
    assert [s["name"] for s in option["series"]] == [
        "India",
        "Japan",
        "South Korea",
        "United States",
        "rest of world",
    ]
    assert [r[0] for r in desk_rows(frame)][-1:] == ["all"]


def stepped(weeks: int, seed: int = 42, **overrides) -> Session:
    """A baseline session (with scenario overrides) stepped ``weeks`` weeks."""
    scenario = load_scenario("baseline_2025", **overrides)
    session = Session(scenario, seed, levers_from_scenario(scenario))
    session.step(weeks)
    return session


def firm_points(option: dict) -> dict[str, list[dict]]:
    """The firms chart's points by series (state) name."""
    return {series["name"]: series["data"] for series in option["series"]}


@pytest.mark.parametrize(
    ("stopped", "short", "technology", "state"),
    [
        (True, True, "switching", "stopped"),  # stopped beats short and switching
        (True, True, "original", "stopped"),
        (False, True, "switching", "short"),  # short beats switching
        (False, True, "switched", "short"),
        (False, False, "switching", "switching"),
        (False, False, "switched", "producing"),  # switching is done: producing
        (False, False, "original", "producing"),
    ],
)
def test_firm_state_precedence_is_stopped_short_switching_producing(
    stopped, short, technology, state
):
    assert firm_state(stopped, short, technology) == state


def test_one_mark_per_firm_with_its_own_week():
    session = stepped(0)
    assert session.frame.firms == ()  # no week yet: no marks, an empty chart
    option = chart_options(session.frame)["firms"]
    assert all(series["data"] == [] for series in option["series"])
    session.step(3)
    frame, oems = session.frame, sorted(session.model.oems, key=lambda o: o.unique_id)
    assert [m.firm_id for m in frame.firms] == [o.unique_id for o in oems]
    for mark, oem in zip(frame.firms, oems, strict=True):
        assert (mark.group, mark.country, mark.segment) == (oem.group, oem.country, oem.segment)
        assert mark.plan_share == oem.produced_vehicles / oem.planned_vehicles_per_week
        assert dict(mark.stock_t) == oem.stock_t and dict(mark.received_t) == oem.received_t
        covers = [c for c in mark.cover_weeks.values() if c is not None]
        assert min(covers) == pytest.approx(oem.cover_weeks)  # the scarcer grade's cover
    option = chart_options(frame)["firms"]
    points = firm_points(option)
    assert list(points) == list(FIRM_STATE_COLOURS)  # every state in the legend
    assert sum(len(p) for p in points.values()) == len(oems)
    colours = [series["itemStyle"]["color"] for series in option["series"]]
    assert colours == list(FIRM_STATE_COLOURS.values())


def test_firm_marks_sit_in_their_groups_slot_in_scenario_order_apart():
    frame = stepped(3).frame
    option = firms_option(frame)
    groups = [name for _, name in frame.groups]
    assert option["xAxis"][0]["data"] == groups  # scenario order
    x_of = {}
    for series in option["series"]:
        for point in series["data"]:
            x_of[point["name"]] = point["value"][0]
    by_group: dict[str, list[float]] = {}
    for mark in frame.firms:
        x = x_of[firm_tooltip(mark)]
        assert abs(x - groups.index(mark.group)) < 0.5  # inside its group's slot
        by_group.setdefault(mark.group, []).append(x)
    assert len(by_group) == len(groups)
    for xs in by_group.values():
        assert xs == sorted(set(xs))  # side by side in firm order, none on top of another
    assert option["xAxis"][1]["max"] - option["xAxis"][1]["min"] == len(groups)


def test_a_ban_shows_short_and_stopped_firms_while_open_trade_keeps_all_producing():
    ban = stepped(15, licensing_policy="ban").frame
    states = [m.state for m in ban.firms]
    assert states.count("stopped") > 0 and states.count("short") > 0
    points = firm_points(firms_option(ban))
    assert len(points["stopped"]) == states.count("stopped")
    assert all(p["value"][1] < 1 for p in points["stopped"] + points["short"])
    opened = stepped(15, licensing_policy="open").frame
    assert {m.state for m in opened.firms} == {"producing"}
    assert all(m.plan_share == pytest.approx(1.0) for m in opened.firms)


def test_firm_tooltip_shows_stock_cover_china_share_and_every_source():
    frame = stepped(15, licensing_policy="ban").frame
    mark = next(m for m in frame.firms if m.state == "stopped")
    text = firm_tooltip(mark)
    assert mark.group in text and mark.segment in text and "stopped" in text
    for grade, tonnes in mark.stock_t.items():
        assert f"{grade} {tonnes:.2f} t ({mark.cover_weeks[grade]:.1f} weeks of cover)" in text
    assert f"China share {100 * mark.china_share:.0f}%" in text
    for source, tonnes in mark.received_t.items():
        assert f"{source} {tonnes:.2f} t" in text
    # sources are read from the firm, not a fixed list: another source shows up as it is
    more = dataclasses.replace(mark, received_t={**mark.received_t, "recycled": 1.25})
    assert "recycled 1.25 t" in firm_tooltip(more)
    # a grade the firm does not use has no cover
    unused = dataclasses.replace(mark, cover_weeks={**mark.cover_weeks, "free": None})
    assert "free 0.00 t (not used)" in firm_tooltip(
        dataclasses.replace(unused, stock_t={**mark.stock_t, "free": 0.0})
    )
    tips = [p["name"] for s in firms_option(frame)["series"] for p in s["data"]]
    assert text in tips


def plain(mark: FirmMark) -> dict:
    """A mark's values, its mappings copied into new dicts."""
    values = {}
    for f in dataclasses.fields(mark):
        value = getattr(mark, f.name)
        values[f.name] = dict(value) if isinstance(value, Mapping) else value
    return values


def test_a_frames_firm_marks_do_not_change_when_the_model_steps_on():
    session = stepped(8, licensing_policy="ban")
    frame = session.frame
    before = [plain(m) for m in frame.firms]  # copies: nothing shared with the marks
    session.step(6)
    assert [plain(m) for m in frame.firms] == before
    assert [plain(m) for m in session.frame.firms] != before  # the model moved
    mark = frame.firms[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        mark.short = not mark.short
    with pytest.raises(TypeError):
        mark.stock_t["controlled"] = 0.0


def test_changing_policy_mid_run_takes_effect_next_week_and_is_marked(page):
    for _ in range(4):
        button(page, "Step").click()
    select = page.find(v.Select, label="Licence policy").widget
    select.v_model = "open"
    button(page, "Step").click()
    button(page, "Step").click()
    option = charts(page)["licences"]
    marks = option["series"][0]["markLine"]["data"]
    assert marks == [{"name": "policy: open", "xAxis": "2025-05-05"}]  # week 4, the next week
    queue = option["series"][0]["data"]
    assert queue[3] > 0 and queue[5] == 0  # open regime: no applications wait
    production = charts(page)["production"]["series"][0]["markLine"]["data"]
    assert production == marks  # the change is marked on every chart


def test_reset_rebuilds_at_week_zero_with_current_levers(page):
    for _ in range(3):
        button(page, "Step").click()
    page.find(v.Select, label="Licence policy").widget.v_model = "ban"
    button(page, "Reset").click()
    assert weeks_shown(page) == 0
    button(page, "Step").click()
    assert charts(page)["licences"]["series"][1]["data"] == [0]  # ban: nothing approved
    assert "markLine" not in charts(page)["licences"]["series"][0]  # not a mid-run change


def test_bad_seed_shows_an_inline_message_and_keeps_the_model(page):
    for _ in range(2):
        button(page, "Step").click()
    page.find(v.TextField, label="Seed").widget.v_model = "forty-two"
    button(page, "Reset").click()
    assert "not a whole number" in error_text(page)
    assert weeks_shown(page) == 2  # nothing was lost
    page.find(v.TextField, label="Seed").widget.v_model = "7"
    button(page, "Reset").click()
    assert error_text(page) == "" and weeks_shown(page) == 0


def test_play_runs_until_paused(watched):
    page, session = watched
    week_10 = session.when_week(9)
    button(page, "Play").click()
    assert week_10.wait(30)
    button(page, "Pause").click()
    players = session.steppers - {threading.current_thread()}
    for thread in players:
        thread.join(10)
    assert not any(t.is_alive() for t in players)  # the Play thread has returned
    shown = weeks_shown(page)
    assert shown >= 10 and shown == session.frame.week + 1  # the last frame is on screen
    button(page, "Step").click()
    assert weeks_shown(page) == shown + 1  # paused: only the Step moved it


def test_a_render_during_a_play_step_shows_the_last_whole_week(watched, monkeypatch):
    """A render while the Play thread is half-way through recording a week must not tear.

    The Play thread is stopped inside the DataCollector (some reporters have recorded week 1,
    the others not yet) while the page re-renders in the test's thread (the Pause click).
    """
    page, session = watched
    renders_here = []
    draw = app_module.chart_options  # the page's own lookup, patched below
    monkeypatch.setattr(
        app_module,
        "chart_options",
        lambda *a: (renders_here.append(threading.current_thread()), draw(*a))[1],
    )
    button(page, "Step").click()  # week 0 recorded (and the reporters validated)
    reporters = session.model.datacollector.model_reporters
    inside, release = threading.Event(), threading.Event()
    original = reporters["licences_approved"]

    def stall(model):
        if not inside.is_set():
            inside.set()
            release.wait(10)
        return original(model)

    reporters["licences_approved"] = lambda m: stall(m)
    button(page, "Play").click()
    try:
        assert inside.wait(10)  # the Play thread is half-way through week 1's records
        renders_here.clear()
        button(page, "Pause").click()  # re-renders the page in this thread, here and now
        assert threading.current_thread() in renders_here
        options = charts(page)
        firms = options.pop("firms")
        assert firms["title"]["text"] == "Firms this week (2025-04-07)"
        assert sum(len(s["data"]) for s in firms["series"]) == len(session.model.oems)
        for key, option in options.items():
            assert option["xAxis"]["data"] == ["2025-04-07"], key
            for series in option["series"]:
                assert len(series["data"]) == 1, (key, series["name"])
        assert kpi(page, "week") == "0 (2025-04-07)"
    finally:
        release.set()


@pytest.mark.slow
def test_frames_read_while_another_thread_steps_are_whole():
    scenario = load_scenario("baseline_2025")
    session = Session(scenario, 3, levers_from_scenario(scenario))
    done = threading.Event()

    def run() -> None:
        while session.step(1):
            pass
        done.set()

    stepper = threading.Thread(target=run)
    stepper.start()
    frames = []
    while not done.is_set():
        frames.append(session.frame)
        time.sleep(0)  # let the stepper have the interpreter (no waiting on a condition)
    stepper.join()
    frames.append(session.frame)
    assert frames[-1].week == scenario.simulation.weeks - 1
    assert len({frame.week for frame in frames}) > 3  # the reads did overlap the stepping
    for frame in frames:
        lengths = {len(values) for values in frame.series.values()}
        assert lengths == {frame.week + 1}, (frame.week, lengths)
        assert len(chart_options(frame)["production"]["xAxis"]["data"]) == frame.week + 1


def test_closing_the_page_ends_its_play_thread(watched):
    page, session = watched
    first_frame = session.when_week(1)
    button(page, "Play").click()
    assert first_frame.wait(10)
    page.close()  # what a culled kernel does: unmount the page
    week = session.model.week
    players = session.steppers - {threading.current_thread()}
    for thread in players:
        thread.join(10)
    assert players and not any(t.is_alive() for t in players)
    assert session.model.week == week  # nothing stepped after the page closed
    assert not session.step(1)


def test_session_play_stops_when_closed_from_another_thread():
    scenario = load_scenario("baseline_2025")
    session = Session(scenario, 5, levers_from_scenario(scenario))
    frames, first = [], threading.Event()

    def on_frame(frame) -> None:
        frames.append(frame)
        first.set()

    player = threading.Thread(target=session.play, args=(on_frame, lambda: True))
    player.start()
    assert first.wait(10)
    session.close()
    week = session.frame.week
    player.join(10)
    assert not player.is_alive()
    assert session.frame.week == week < scenario.simulation.weeks - 1
    assert [f.week for f in frames] == sorted({f.week for f in frames})  # each frame newer


def test_two_sessions_have_independent_models():
    _, first = solara.render(App(), handle_error=False)
    _, second = solara.render(App(), handle_error=False)
    for _ in range(3):
        button(first, "Step").click()
    assert weeks_shown(first) == 3 and weeks_shown(second) == 0
    first.close()
    second.close()


def test_session_levers_apply_from_next_week_only():
    scenario = load_scenario("baseline_2025")
    session = Session(scenario, 1, levers_from_scenario(scenario))
    session.step(5)
    levers = Levers(**{**session.levers.__dict__, "subsidy_usd_per_kg": 60.0, "policy": "ban"})
    session.change(levers)
    assert session.model.incentive.terms.subsidy_usd_per_kg == 60.0
    assert scenario.incentive.subsidy_usd_per_kg != 60.0  # the scenario is never changed
    recorded = session.series("licences_approved")
    assert len(recorded) == 5  # weeks 0-4 ran under the old policy and stay as they were
    session.step(3)
    assert session.policy_kind == "ban"
    assert session.series("licences_approved")[:5] == recorded
    assert session.series("china_controlled_exports_t")[5:] == [0.0, 0.0, 0.0]
    assert session.marks == [(5, "policy: ban, subsidy 60 USD/kg")]
    # a reset with the scenario's own levers changes nothing in the scenario
    session.reset(scenario, 1, levers_from_scenario(scenario))
    fresh = MagnetSupplyModel(load_scenario("baseline_2025"), rng=1)
    assert [o.cover_target_weeks for o in session.model.oems] == [
        o.cover_target_weeks for o in fresh.oems
    ]


def test_seed_parsing():
    assert parse_seed(" 12 ") == 12
    assert parse_seed("-3") is None and parse_seed("1.5") is None and parse_seed("abc") is None
    assert "²".isdigit() and parse_seed("²") is None  # Unicode digits: int() would raise
    assert parse_seed("1" * 5000) is None and parse_seed(str(2**63)) is None
    assert parse_seed(str(2**63 - 1)) == 2**63 - 1 and parse_seed(None) is None


# ------------------------------------------------ the server takes only what the page offers


@pytest.fixture
def opened(monkeypatch):
    """Every scenario the page loads (the page's calls to load_scenario)."""
    calls = []
    real = app_module.load_scenario
    monkeypatch.setattr(app_module, "load_scenario", lambda p, **kw: (calls.append(p), real(p))[1])
    return calls


@pytest.mark.parametrize(
    "name",
    [
        "/etc/passwd",
        "../../etc/passwd",
        str(app_module.SCENARIO_DIR / "full_ban.toml"),  # a real scenario, but not offered
        "baseline_2025.toml",
        "",
    ],
)
def test_scenario_select_takes_only_a_name_it_lists(page, opened, name):
    button(page, "Step").click()
    page.find(v.Select, label="Scenario").widget.v_model = name
    assert "is not one of" in error_text(page)
    assert opened == []  # no file was opened
    assert weeks_shown(page) == 1  # the model was kept


def test_scenario_select_switches_to_a_library_scenario(page, opened):
    page.find(v.Select, label="Scenario").widget.v_model = "full_ban"
    assert error_text(page) == ""
    assert opened and all(p == app_module.SCENARIO_DIR / "full_ban.toml" for p in opened)
    button(page, "Step").click()
    assert charts(page)["licences"]["series"][1]["data"] == [0]  # the ban: nothing approved


def test_policy_select_takes_only_a_listed_kind(page, monkeypatch):
    imported = []
    real_import = importlib.import_module
    monkeypatch.setattr(
        importlib, "import_module", lambda n, *a: (imported.append(n), real_import(n, *a))[1]
    )
    select = page.find(v.Select, label="Licence policy").widget
    for kind in ("os:system", "simulation.app:Session", "BAN", None, 3):
        select.v_model = kind
        assert "Licence policy must be one of" in error_text(page), kind
    assert imported == []
    button(page, "Step").click()
    assert charts(page)["licences"]["series"][0].get("markLine") is None  # nothing changed


@pytest.mark.parametrize("text", ["²", "١٢", "1" * 5000, str(2**63), "-1", "0x10", ""])
def test_seed_takes_ascii_digits_below_the_limit(page, text):
    button(page, "Step").click()
    page.find(v.TextField, label="Seed").widget.v_model = text
    button(page, "Reset").click()
    assert "is not a whole number" in error_text(page)
    assert len(error_text(page)) < 300  # the message quotes a long text cut short
    assert weeks_shown(page) == 1  # nothing was lost


def test_seed_just_below_the_limit_is_taken(page):
    page.find(v.TextField, label="Seed").widget.v_model = str(2**63 - 1)
    button(page, "Reset").click()
    assert error_text(page) == ""
    button(page, "Step").click()
    assert weeks_shown(page) == 1


def slider(rc, label: str):
    return rc.find(v.Slider, label=label).widget


@pytest.mark.parametrize(
    ("label", "value"),
    [
        ("Approval probability", float("nan")),
        ("Approval probability", "nan"),
        ("Approval probability", float("inf")),
        ("Approval probability", 1.5),
        ("Subsidy (USD/kg)", -1.0),
        ("Subsidy (USD/kg)", "1e9"),
        ("OEM stockpile target (weeks)", float("-inf")),
        ("Domestic ramp-up (weeks)", 10_000),
        ("Review capacity /week (0 = no limit)", -3),
    ],
)
def test_lever_values_outside_the_slider_are_refused(page, label, value):
    button(page, "Step").click()
    before = page.find(v.Slider, label=label).widget.v_model
    slider(page, label).v_model = value
    assert "not applied" in error_text(page) and "must be" in error_text(page)
    button(page, "Step").click()
    assert "markLine" not in charts(page)["licences"]["series"][0]  # no change reached the model
    # the slider shows the lever's value again once the user moves it back
    slider(page, label).v_model = before
    assert error_text(page) == ""


@pytest.mark.parametrize(
    ("lever", "value"),
    [
        ("approval_probability", "0.5"),
        ("approval_probability", True),
        ("approval_probability", None),
        ("ramp_weeks", 12.5),
        ("policy", ["ban"]),
        ("policy", "pkg.module:Policy"),
    ],
)
def test_checked_lever_refuses_what_no_control_sends(lever, value):
    with pytest.raises(ValueError, match="must be"):
        checked_lever(lever, value)


def test_checked_lever_keeps_values_the_controls_send():
    assert checked_lever("ramp_weeks", 12.0) == 12
    assert isinstance(checked_lever("ramp_weeks", 12.0), int)
    assert checked_lever("approval_probability", 1) == 1.0
    assert checked_lever("policy", "ban") == "ban"
