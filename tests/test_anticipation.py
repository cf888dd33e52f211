"""Buying ahead of an announced control (ODD §7.7)."""

from __future__ import annotations

from simulation.kpis import compute_kpis
from simulation.model import MagnetSupplyModel
from simulation.policies import policy_from_config
from simulation.scenario_io import load_scenario


def _run(weeks: int = 40, **overrides):
    model = MagnetSupplyModel(load_scenario("announced_ban", **overrides), rng=1)
    opening = {o: o.cover_target_weeks for o in model.oems}
    model.run_for(weeks)
    return model, opening, model.datacollector.get_model_vars_dataframe()


def test_a_control_is_announced_only_between_its_announcement_and_its_start():
    timeline = policy_from_config(
        {
            "kind": "timeline",
            "phases": [
                {"start_week": 10, "announced_weeks_ahead": 4, "policy": {"kind": "ban"}},
                {"start_week": 30, "policy": {"kind": "open"}},
                {"start_week": 40, "policy": {"kind": "ban"}},  # effective on announcement
            ],
        }
    )
    announced = [w for w in range(50) if timeline.control_announced("IN", w)]
    assert announced == [6, 7, 8, 9]
    assert not policy_from_config({"kind": "ban"}).control_announced("IN", 0)


def test_firms_buy_ahead_of_an_announced_ban_and_lose_less():
    ahead, opening, steps = _run()
    blind, _, blind_steps = _run(anticipation_weeks=0.0)
    for o in ahead.oems:
        assert o.bought_ahead
        raised = min(o.max_cover_weeks, opening[o] + o.anticipation_weeks)
        assert o.cover_target_weeks >= raised - 1e-12  # shortage raises may add to it later
    assert not any(o.bought_ahead for o in blind.oems)
    before = slice(0, 13)  # the announced quarter
    assert (
        steps["china_exports_t__IN"].iloc[before].sum()
        > blind_steps["china_exports_t__IN"].iloc[before].sum()
    )
    assert (
        compute_kpis(steps)["lost_production_pct__IN"]
        < compute_kpis(blind_steps)["lost_production_pct__IN"]
    )


def test_nobody_buys_ahead_in_the_history_the_april_controls_took_effect_when_announced():
    model = MagnetSupplyModel(load_scenario("history_2025"), rng=1)
    model.run_for(80)
    assert not any(o.bought_ahead for o in model.oems)
