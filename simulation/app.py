"""The browser page: watch the 2025 magnet shock unfold and move levers while it runs.

Served by ``magshock viz`` (Solara). Each browser session builds its own
:class:`~simulation.model.MagnetSupplyModel`; Step / Play / Pause / Reset drive it; licence
policy, approval probability, review capacity, statutory delay, subsidy, domestic ramp speed
and OEM stockpile target can be changed mid-run and take effect from the next week (the
change is marked on every chart). China's exports and the licence desk are shown by
destination, the destinations read from the scenario
(:func:`simulation.page.session.split_destinations`). Charts are ECharts (light, canvas) so
Play stays fast. This module is the Solara page itself; its parts that need no Solara live in
:mod:`simulation.page`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import solara
from pydantic import ValidationError

from simulation.errors import ScenarioError
from simulation.page.charts import chart_options
from simulation.page.desk import desk_table_html
from simulation.page.levers import (
    POLICY_KINDS,
    SLIDERS,
    Levers,
    checked_lever,
    levers_from_scenario,
    parse_seed,
)
from simulation.page.session import Frame, Session
from simulation.scenario_io import SCENARIO_DIR, load_scenario

SCENARIOS = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
_USER_FILE = os.environ.get("MAGSHOCK_VIZ_SCENARIO_FILE")  # a scenario outside the library
if _USER_FILE:
    SCENARIOS.append(_USER_FILE)
DEFAULT_SCENARIO = _USER_FILE or os.environ.get("MAGSHOCK_VIZ_SCENARIO", "baseline_2025")


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
