"""The browser page without a browser: render it, click, move levers, check model and charts."""

from __future__ import annotations

import time

import pytest

solara = pytest.importorskip("solara")
v = pytest.importorskip("ipyvuetify")

from solara.components.echarts import EchartsWidget  # noqa: E402

from simulation.app import Levers, Page, Session, levers_from_scenario, parse_seed  # noqa: E402
from simulation.scenario import load_scenario  # noqa: E402


@solara.component
def App():
    with solara.AppLayout():
        Page()


@pytest.fixture
def page():
    _box, rc = solara.render(App(), handle_error=False)
    yield rc
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
    } <= set(options)
    for key, option in options.items():
        assert option["xAxis"]["data"] == ["2025-04-07", "2025-04-14", "2025-04-21"], key
        assert option["yAxis"]["name"], key  # units on every axis
    queue = options["licences"]["series"][0]["data"]
    assert queue[0] > 0  # baseline: licences required from week 0, OEMs apply at once


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


def test_play_runs_until_paused(page):
    button(page, "Play").click()
    deadline = time.monotonic() + 30
    while weeks_shown(page) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    button(page, "Pause").click()
    time.sleep(0.3)
    shown = weeks_shown(page)
    assert shown >= 10
    time.sleep(0.3)
    assert weeks_shown(page) == shown  # paused


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
    assert session.model.incentive.subsidy_usd_per_kg == 60.0
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
    assert [o.cover_target_weeks for o in session.model.oems][:1] == [2.5]


def test_seed_parsing():
    assert parse_seed(" 12 ") == 12
    assert parse_seed("-3") is None and parse_seed("1.5") is None and parse_seed("abc") is None
