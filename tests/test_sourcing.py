"""Buyers source by delivered price and availability, with a switching lag (ODD §7.4a)."""

from __future__ import annotations

import pytest

from agents.sourcing import target_china_share
from simulation import MagnetSupplyModel, load_scenario
from simulation.market import HOME


def _ex_china_buyers(model: MagnetSupplyModel):
    return [b for b in model.buyers if b.country != HOME and b.china_sellers and b.row_sellers]


def test_the_target_is_the_opening_share_at_opening_costs_and_falls_with_chinas_cost():
    costs = {"china": 1.0, "row": 1.0}
    full = {"china": 1.0, "row": 1.0}
    assert target_china_share(0.9, costs, full, 2.0) == pytest.approx(0.9)
    dearer = target_china_share(0.9, {"china": 1.5, "row": 1.0}, full, 2.0)
    scarce = target_china_share(0.9, costs, {"china": 0.3, "row": 1.0}, 2.0)
    assert dearer < 0.9 and scarce < dearer
    row_scarce = target_china_share(0.9, costs, {"china": 0.3, "row": 0.3}, 2.0)
    assert row_scarce == pytest.approx(0.9)  # both scarce alike: no reason to switch
    assert target_china_share(0.9, {"china": 3.0, "row": 1.0}, full, 0.0) == 0.9


def test_with_sourcing_elasticity_zero_shares_never_move():
    model = MagnetSupplyModel(load_scenario("baseline_2025", sourcing_elasticity=0.0), rng=1)
    model.run_for(60)
    for buyer in model.buyers:
        assert buyer.china_share == buyer.base_china_share


def test_a_ban_moves_buyers_away_from_china_slowly_and_the_end_of_it_brings_them_back():
    # switching pinned at the pre-calibration 0.015/week (history: 0.006) so 50 weeks show it
    scenario = load_scenario(
        "baseline_2025", licensing_policy="ban", supplier_switching_per_week=0.015
    )
    model = MagnetSupplyModel(scenario, rng=1)
    opening = {b: b.china_share for b in _ex_china_buyers(model)}
    model.run_for(2)
    early = {b: b.china_share for b in opening}
    assert all(opening[b] - early[b] < 0.05 for b in opening)  # switching takes time
    model.run_for(50)
    banned = {b: b.china_share for b in opening}
    # mean fall over 50 banned weeks: 0.048 at 0.015/week (seed 1)
    assert sum(banned.values()) < sum(opening.values()) - 0.03 * len(opening)
    assert all(b.availability["china"] < 0.9 for b in opening if b.controlled_share > 0)
    model.set_policy("open")
    model.run_for(104)
    assert sum(b.china_share for b in opening) > sum(banned.values())


def test_the_pipeline_follows_the_share():
    model = MagnetSupplyModel(load_scenario("baseline_2025", licensing_policy="ban"), rng=2)
    model.run_for(40)
    for b in _ex_china_buyers(model):
        expected = sum(
            share * w * s.lead_time_weeks
            for sellers, share in (
                (b.china_sellers, b.china_share),
                (b.row_sellers, 1 - b.china_share),
            )
            for s, w in sellers
        )
        assert b.pipeline_weeks == pytest.approx(expected)
