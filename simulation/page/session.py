"""One browser session: its model, and the immutable frames of records the page draws from.

Every change to the model happens under the session's lock and ends by publishing a new
:class:`Frame` (series, lever-change marks, KPI cards, firms' marks); renders read only frames.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import pandas as pd

from simulation.kpis import compute_kpis
from simulation.model import MagnetSupplyModel
from simulation.page.display import COUNTRY_NAMES
from simulation.page.firms import FirmMark, firm_marks
from simulation.page.levers import Levers, levers_from_scenario
from simulation.reporters import destinations
from simulation.scenario import Scenario

WEEKS_PER_FRAME = 2  # Play advances this many weeks per redraw
FRAME_PAUSE_S = 0.02


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
