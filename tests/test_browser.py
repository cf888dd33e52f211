"""The page in a real Chromium: load, step, switch policy mid-run, second tab, nothing external."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from simulation.page.charts import firm_tooltip, firms_option
from simulation.page.levers import levers_from_scenario
from simulation.page.session import Session
from simulation.scenario_io import load_scenario
from tests.browser_support import (
    BENIGN_CONSOLE,
    CHROMIUM,
    CHROMIUM_FLAGS,
    current_week,
    kpi,
    play_moving_a_lever,
    serve_viz,
    server_errors,
    wait_ready,
)

pytestmark = pytest.mark.slow  # a real Chromium against a live Solara server

playwright = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    if os.environ.get("MAGSHOCK_REQUIRE_BROWSER"):
        raise RuntimeError(f"Chromium not found at {CHROMIUM} (CI installs Debian's chromium)")
    pytest.skip("Chromium is not installed", allow_module_level=True)

LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


def step(page, times: int) -> None:
    for _ in range(times):
        before = current_week(page)
        page.get_by_role("button", name="Step", exact=True).click()
        page.wait_for_function(
            f"(document.querySelector('.kpi-week')?.innerText || '').startsWith('{before + 1} ')"
        )
        # the cards update one by one: wait until every card shows this week's frame
        page.wait_for_function(
            "document.querySelectorAll('[class*=\"kpi-\"]').length === "
            f"document.querySelectorAll('.frame-{before + 1}').length"
        )


def choose(page, label: str, option: str) -> None:
    page.get_by_label(label).click(force=True)
    page.locator(".v-menu__content .v-list-item", has_text=option).first.click()
    if label == "Licence policy":  # wait until the server has taken the new policy
        page.wait_for_function(
            f"(document.querySelector('.kpi-policy')?.innerText || '').trim() === '{option}'"
        )


# the ECharts instance of a chart on the page (the Solara component keeps it as ``chart``)
CHART = "key => document.querySelector('.chart-' + key).__vue__.chart"
FIRM_PIXELS = f"""() => {{
    const chart = ({CHART})('firms');
    return chart.getOption().series.flatMap((s, i) => s.data.map(
        p => [p.name, ...chart.convertToPixel({{seriesIndex: i}}, p.value)]));
}}"""


def hover_a_firm(page, frame) -> tuple[str, str]:
    """Check the page's firm marks are ``frame``'s; hover the mark farthest from the others.

    Returns its tooltip as sent and as shown.
    """
    title = firms_option(frame)["title"]["text"]
    # the cards can show a week before the chart has drawn it: wait for the chart itself
    page.wait_for_function(f"({CHART})('firms').getOption().title[0].text === {title!r}")
    chart = page.locator(".chart-firms")
    chart.scroll_into_view_if_needed()
    marks = page.evaluate(FIRM_PIXELS)
    assert sorted(m[0] for m in marks) == sorted(map(firm_tooltip, frame.firms))

    def room(mark) -> float:
        return min((mark[1] - o[1]) ** 2 + (mark[2] - o[2]) ** 2 for o in marks if o is not mark)

    name, x, y = max(marks, key=room)
    box = chart.locator("canvas").first.bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    tooltip = chart.locator("div", has_text="received this week").last
    tooltip.wait_for()
    return name, tooltip.inner_text()


def test_page_steps_switches_policy_and_sessions_are_independent(tmp_path):
    requests, failures, console = [], [], []
    log = tmp_path / "server.log"
    with serve_viz(log=log) as url, playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.on("request", lambda r: requests.append(r.url))
        context.on("requestfailed", lambda r: failures.append(f"{r.url} {r.failure}"))

        page = context.new_page()
        page.on("console", lambda m: console.append((m.type, m.text)))
        page.goto(url)
        wait_ready(page)
        assert kpi(page, "week") == "not started"

        step(page, 10)
        assert kpi(page, "week") == "9 (2025-06-09)"
        # the firms chart: one mark per firm of the page's model (seed 42), tooltip on hover
        same = load_scenario("baseline_2025")
        replica = Session(same, 42, levers_from_scenario(same))
        replica.step(10)
        sent, shown = hover_a_firm(page, replica.frame)
        assert shown.split() == sent.split()  # every line shown, escaped text intact
        assert "China share" in shown and "stock controlled" in shown
        queue_before = int(kpi(page, "licence queue"))
        issued_before = int(kpi(page, "licences issued"))
        assert queue_before > 0  # Indian applications wait on hold in the 2025 timeline
        page.screenshot(path=str(tmp_path / "week10.png"), full_page=True)

        choose(page, "Licence policy", "ban")
        step(page, 2)
        queue_after = int(kpi(page, "licence queue"))
        assert queue_after != queue_before  # the held applications are now decided (denied)
        assert int(kpi(page, "licences issued")) == issued_before  # a ban issues no licence
        page.screenshot(path=str(tmp_path / "after_ban.png"), full_page=True)

        second = context.new_page()
        second.on("console", lambda m: console.append((m.type, m.text)))
        second.goto(url)
        wait_ready(second)
        assert kpi(second, "week") == "not started"  # its own model, at week 0
        step(second, 1)
        assert kpi(second, "week").startswith("0 ")
        assert current_week(page) == 11  # the first tab is untouched
        second.screenshot(path=str(tmp_path / "second_tab.png"), full_page=True)
        browser.close()

    external = [
        u for u in requests if urlparse(u).hostname not in LOOPBACK and not u.startswith("data:")
    ]
    assert external == [], external
    assert failures == [], failures
    errors = [
        text
        for kind, text in console
        if kind == "error" and not any(p.search(text) for p in BENIGN_CONSOLE)
    ]
    assert errors == [], errors[:3]
    assert all(
        (tmp_path / name).stat().st_size > 10_000 for name in ("week10.png", "after_ban.png")
    )
    assert server_errors(log) == []


# The page draws more slowly than the model runs, so the week shown lags the model's: a Pause
# clicked at week 30 of the 156-week baseline can arrive after the horizon on a loaded
# machine. The same scenario over 20 years leaves Pause room (and serves a scenario file).
LONG_BASELINE = 'extends = "baseline_2025"\nname = "long_baseline"\n[simulation]\nweeks = 1040\n'


def test_play_with_a_lever_moved_while_playing_then_pause(tmp_path):
    """Play, move a lever while playing, pause after week 30: no error in browser or server."""
    requests, console = [], []
    log = tmp_path / "server.log"
    scenario = tmp_path / "long_baseline.toml"
    scenario.write_text(LONG_BASELINE)
    with serve_viz(str(scenario), log=log) as url, playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: console.append((m.type, m.text)))
        page.goto(url)
        wait_ready(page)
        played = play_moving_a_lever(page, min_week=30, lever="Subsidy (USD/kg)")
        assert 30 <= played < 1039  # paused before the horizon
        assert (
            page.get_by_role("slider", name="Subsidy (USD/kg)").get_attribute("aria-valuenow")
            == "28"
        )  # moved from 25 while playing
        assert page.locator(".v-alert").count() == 0  # and the change was taken
        # paused: a Step moves exactly one week from where Play stopped
        page.get_by_role("button", name="Step", exact=True).click()
        page.wait_for_function(
            f"(document.querySelector('.kpi-week')?.innerText || '').startsWith('{played + 1} ')"
        )
        browser.close()
    external = [
        u for u in requests if urlparse(u).hostname not in LOOPBACK and not u.startswith("data:")
    ]
    assert external == [], external
    errors = [
        text
        for kind, text in console
        if kind == "error" and not any(p.search(text) for p in BENIGN_CONSOLE)
    ]
    assert errors == [], errors[:3]
    assert server_errors(log) == [], server_errors(log)[:5]
