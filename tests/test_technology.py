"""Technology choice: redesign projects, qualification lags, engineering capacity (ODD §7.8)."""

from __future__ import annotations

from itertools import pairwise

import pytest

from agents.oem import TECHNOLOGIES
from simulation.model import MagnetSupplyModel
from simulation.run import simulate
from simulation.scenario_io import load_scenario


def _run(spec, seed: int, weeks: int):
    """Step a model; return it and each firm's (low-HREE, magnet-free, projects) per week."""
    model = MagnetSupplyModel(spec, rng=seed)
    history = {o: [] for o in model.oems}
    for _ in range(weeks):
        model.step()
        for o in model.oems:
            history[o].append((model.week, o.low_hree_share, o.magnet_free_share, len(o.projects)))
    return model, history


def test_no_firm_switches_faster_than_its_qualification_lag() -> None:
    spec = load_scenario("history_2025")
    _, history = _run(spec, seed=2, weeks=160)
    lags = {}
    for cfg in spec.oems:
        lags[cfg.name] = {
            "low_hree": cfg.low_hree_lag_weeks,
            "magnet_free": cfg.magnet_free_lag_weeks,
        }
    switched = 0
    for oem, rows in history.items():
        done_weeks = {p.done_week for p, _ in oem.switches}
        for project, moved in oem.switches:
            assert project.done_week - project.start_week == lags[oem.group][project.tech]
            assert moved <= spec.oems[0].project_share + 1e-12
        for (_, lo0, mf0, _), (week, lo1, mf1, _) in pairwise(rows):
            if (lo1, mf1) != (lo0, mf0):  # the mix changes only when a project qualifies
                assert week in done_weeks
        switched += bool(oem.switches)
    assert switched >= 10  # the shock makes firms redesign


@pytest.mark.parametrize("slots", [0, 1, 2])
def test_engineering_capacity_bounds_simultaneous_projects(slots: int) -> None:
    spec = load_scenario("history_2025", engineering_slots=slots)
    _, history = _run(spec, seed=1, weeks=120)
    most = max(n for rows in history.values() for *_, n in rows)
    assert most <= slots
    if slots:
        assert most == slots  # long shortages keep every slot busy somewhere
    else:
        assert all(r[1:3] == rows[0][1:3] for rows in history.values() for r in rows)


def test_firms_wait_when_nothing_is_short() -> None:
    model, _ = _run(load_scenario("no_controls"), seed=1, weeks=104)
    assert model.redesigns_started == 0
    assert all(not o.projects and not o.switches for o in model.oems)


def test_magnet_free_vehicles_need_no_magnets() -> None:
    model = MagnetSupplyModel(load_scenario("history_2025"), rng=1)
    oem = model.oems[0]
    before = oem.full_need_t()
    oem.magnet_free_share = 0.25
    oem._refresh_need()
    assert oem.full_need_t() == pytest.approx(0.75 * before)


def test_aggregate_substitution_stays_within_c_in_5() -> None:
    """C-IN-5 (a calibration target): substitution reached at most ~10% of demand a year."""
    for seed in (1, 2):
        kpis = simulate(load_scenario("history_2025"), rng=seed).kpis
        assert 0.0 < kpis["substitution_max_pct_per_year"] <= 10.0


def test_a_project_is_the_best_of_the_technologies_or_none() -> None:
    """The firm starts the technology of highest positive value, else waits."""
    model = MagnetSupplyModel(load_scenario("history_2025"), rng=1)
    oem = next(o for o in model.oems if o.group == "in-e2w")
    oem.expected_short = {"mixed": 0.0, "free_only": 0.0}
    values = oem.project_values_usd()
    assert set(values) == set(TECHNOLOGIES) and max(values.values()) < 0
    oem.expected_short = {"mixed": 0.8, "free_only": 0.0}
    values = oem.project_values_usd()
    model.week = 0
    oem._start_project()
    assert [p.tech for p in oem.projects] == [max(values, key=values.get)]
