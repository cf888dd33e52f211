"""Workaround channels: assembled motors and third-country routes (ODD §7.8b, §7.8c)."""

from __future__ import annotations

import pytest

from simulation.model import MagnetSupplyModel
from simulation.scenario_io import load_scenario
from tests.test_mass_balance import assert_ledgers_hold

TOL = 1e-9


def _ban(**overrides) -> MagnetSupplyModel:
    return MagnetSupplyModel(
        load_scenario("baseline_2025", licensing_policy="ban", **overrides), rng=1
    )


def test_the_channel_carries_magnets_only_up_to_its_capacity_and_uses_it_when_asked() -> None:
    capacity = 0.5  # t/week, well below what Indian firms ask under a ban
    model = _ban(motor_channel_t_per_week=capacity)
    full_weeks = 0
    for _ in range(60):
        model.step()
        asked = sum(o.motor_request_t for o in model.oems)
        shipped = model.motor_channel.shipped_total_t
        assert shipped <= capacity + TOL
        assert shipped <= asked + TOL
        full_weeks += asked > capacity and shipped == pytest.approx(capacity)
    assert full_weeks > 10  # the cap binds, not only bounds


def test_motor_tonnes_are_in_the_ledgers_and_reach_the_firms_that_asked() -> None:
    model = _ban()
    assert_ledgers_hold(model, 60)  # per-buyer balances count what China's home sent
    shipped = model.flows["motor_shipped_t"]
    assert shipped > 0
    twin, sent = _ban(), 0.0  # same seed, same run: what China's home market gave up
    for _ in range(60):
        twin.step()
        sent += sum(sum(b.sent_by_grade_t.values()) for b in twin.regional_buyers)
    assert sent == pytest.approx(shipped)
    arrived = sum(
        model.datacollector.get_model_vars_dataframe()[f"receipts_t__{c}__motor"].sum()
        for c in ("IN", "JP")
    )
    in_transit = sum(s.tonnes for o in model.oems for s in o.in_transit if s.source == "motor")
    assert arrived + in_transit == pytest.approx(shipped)
    assert model.datacollector.get_model_vars_dataframe()["receipts_t__JP__motor"].sum() == 0


def test_a_firm_asks_for_motors_only_after_qualifying_and_only_if_the_margin_pays() -> None:
    model = _ban()
    qualify = {cfg.name: cfg.workaround_qualify_weeks for cfg in model.spec.oems}
    for _ in range(40):
        model.step()
        for o in model.oems:
            if o.motor_request_t > 0:
                assert o.weeks_short >= qualify[o.group]
    assert any(o.motor_request_t > 0 for o in model.oems)
    dear = _ban(motor_premium_usd_per_kg=10_000.0)  # an e-2W's margin no longer pays
    dear.run_for(40)
    e2w = [o for o in dear.oems if o.segment == "e2w"]
    assert e2w and all(o.motor_request_t == 0 for o in e2w)


def test_a_closed_channel_ships_nothing() -> None:
    model = _ban(motor_channel_t_per_week=0.0)
    model.run_for(40)
    steps = model.datacollector.get_model_vars_dataframe()
    assert model.flows["motor_shipped_t"] == 0 and steps["receipts_t__IN__motor"].sum() == 0


def _route(**overrides) -> MagnetSupplyModel:
    """Baseline 2025 (India on hold) with the third-country route open to Indian firms."""
    spec = load_scenario(
        "baseline_2025",
        transit_route_t_per_week=3.0,
        motor_channel_t_per_week=0.0,
        oems__transit_max_share=0.3,
        **overrides,
    )
    return MagnetSupplyModel(spec, rng=1)


def test_a_third_country_route_carries_controlled_magnets_from_licensed_importers() -> None:
    model = _route(transit_detection_probability=0.0)
    for _ in range(40):
        model.step()
        shipped = model.transit_route.shipped_total_t
        assert shipped <= 3.0 + TOL
        for o in model.oems:
            if o.transit_request_t > 0:
                assert o.blocked and "transit" not in o.routes_lost
    steps = model.datacollector.get_model_vars_dataframe()
    assert steps["receipts_t__IN__transit"].sum() > 0
    assert model.transit_route.detected == 0
    assert model.flows["transit_shipped_t"] == pytest.approx(steps["transit_imports_t"].sum())
    balanced = _route(transit_detection_probability=0.0)
    assert_ledgers_hold(balanced, 40)


def test_a_detected_consignment_is_stopped_and_the_firm_loses_the_route() -> None:
    certain = _route(transit_detection_probability=1.0)
    certain.run_for(40)
    assert all(o.transit_request_t == 0 for o in certain.oems)  # a sure loss never pays
    assert certain.transit_route.detected == 0
    model = _route(transit_detection_probability=0.9)  # still pays for ICE cars (margin/kg)
    lost_before: set = set()
    for _ in range(40):
        model.step()
        for o in model.oems:
            if o in lost_before:
                assert o.transit_request_t == 0  # lost for good
            if "transit" in o.routes_lost:
                lost_before.add(o)
    assert model.transit_route.detected > 0 and lost_before
    risky = _route(transit_detection_probability=0.5)
    risky.run_for(40)
    assert risky.transit_route.detected > 0  # some get through, some are caught
    assert risky.datacollector.get_model_vars_dataframe()["transit_imports_t"].sum() > 0
