"""Prices with memory (simulation/prices.py): the pure rules alone, then in the model."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulation import MagnetSupplyModel, load_scenario, simulate
from simulation.prices import excess_demand, partially_adjusted, scarcity_target

prices = st.floats(1, 1_000, allow_nan=False)
shares = st.floats(0.01, 1)


@given(price=prices, target=prices, speed=shares)
def test_a_price_moves_part_of_the_way_to_its_target_and_never_overshoots(price, target, speed):
    new = partially_adjusted(price, target, speed)
    assert min(price, target) - 1e-9 <= new <= max(price, target) + 1e-9
    assert abs(new - target) == pytest.approx((1 - speed) * abs(price - target), abs=1e-9)


def test_a_spike_with_no_further_shock_decays_to_within_five_percent_in_the_stated_time():
    """With speed s the gap after n weeks is (1 - s)**n: 5% left after log(0.05)/log(1-s)."""
    speed, base, price = 0.1, 60.0, 240.0
    weeks = math.ceil(math.log(0.05) / math.log(1 - speed))  # 29 weeks at 0.1/week
    for _ in range(weeks):
        price = partially_adjusted(price, base, speed)
    assert price - base <= 0.05 * (240.0 - base) + 1e-9
    assert partially_adjusted(price, base, speed) < price  # still falling, never below base


@given(demand=st.floats(0, 1e4), supply=st.floats(0, 1e4), ref=st.floats(0.1, 10))
def test_excess_demand_is_zero_at_the_reference_ratio_and_rises_with_demand(demand, supply, ref):
    x = excess_demand(demand, supply, ref)
    assert math.isfinite(x) and x >= -1.0
    assert excess_demand(demand + 10.0, supply, ref) >= x
    if supply > 1:
        assert excess_demand(ref * supply, supply, ref) == pytest.approx(0.0, abs=1e-9)


def test_the_target_price_rises_with_excess_and_respects_its_floor():
    targets = [scarcity_target(60.0, x, 0.5, floor=42.0) for x in (-1.0, -0.2, 0.0, 0.5, 2.0)]
    assert targets == sorted(targets)
    assert targets[0] == 42.0 and targets[2] == 60.0 and targets[3] == 75.0


def _prices(name: str, weeks: int, seed: int = 3, **overrides):
    model = MagnetSupplyModel(load_scenario(name, weeks=weeks, **overrides), rng=seed)
    model.run_for(weeks)
    return model.datacollector.get_model_vars_dataframe()


def test_prices_in_an_open_world_drift_with_utilisation_and_never_spike():
    """No controls: demand grows 10%/yr against fixed capacity, so prices creep up, slowly."""
    steps = _prices("baseline_2025", 52, licensing_policy="open")
    for column in ("china_home_price_usd_per_kg", "china_export_price_usd_per_kg"):
        weekly = steps[column].pct_change().dropna().abs()
        assert weekly.max() < 0.005, column
        assert steps[column].between(60.0 * 0.95, 60.0 * 1.10).all(), column
    assert steps["price_index_row"].max() < 1.6  # the makers' list premium, no scarcity


def test_controls_raise_the_ex_china_price_above_china_home_price_and_it_decays_after():
    """An 8-week ban, then open: the ex-China premium spikes, then decays toward its base."""
    model = MagnetSupplyModel(load_scenario("baseline_2025", licensing_policy="ban"), rng=3)
    model.run_for(8)
    model.set_policy("open")
    model.run_for(96)
    steps = model.datacollector.get_model_vars_dataframe()
    premium = steps["ex_china_price_usd_per_kg"] / steps["china_home_price_usd_per_kg"] - 1
    before, peak = premium.iloc[0], premium.max()
    assert peak > before + 0.05  # a spike
    assert 2 <= int(premium.idxmax()) <= 30
    assert premium.iloc[-1] < before + 0.25 * (peak - before)  # decays once supply is back
    home = steps["china_home_price_usd_per_kg"].iloc[:20]
    assert home.max() <= 60.0 * 1.03  # blocked exports add to supply at home: no spike there


def test_with_prices_frozen_production_receipts_and_entry_differ():
    """Elasticity 0 removes scarcity from prices: no investment, entry judged without it."""
    runs = {}
    for elasticity in (0.5, 0.0):
        model = MagnetSupplyModel(
            load_scenario(
                "fast_domestic_rampup",
                licensing_policy="ban",
                subsidy_usd_per_kg=15.0,
                scarcity_price_elasticity=elasticity,
            ),
            rng=2,
        )
        model.run_for(156)
        steps = model.datacollector.get_model_vars_dataframe()
        runs[elasticity] = (model, steps)
    (priced, p_steps), (frozen, f_steps) = runs[0.5], runs[0.0]
    for maker in frozen.row_suppliers:  # non-Chinese makers stay at list, so never invest
        assert maker.price_usd_per_kg == pytest.approx(maker.offer_price_usd_per_kg())
        assert maker.expansions == []
    assert not p_steps["vehicles_produced__IN"].equals(f_steps["vehicles_produced__IN"])
    assert not p_steps["receipts_t__IN__row"].equals(f_steps["receipts_t__IN__row"])
    assert p_steps["row_capacity_t"].iloc[-1] > f_steps["row_capacity_t"].iloc[-1]
    assert len(priced.domestic_producers) != len(frozen.domestic_producers)  # entry differs


def test_the_ex_china_price_falls_as_the_desk_approves_more():
    """Across a sweep of approval probabilities (one even-handed desk), on average."""
    means = []
    for approval in (0.2, 0.6, 1.0):
        runs = []
        for seed in (1, 2):
            steps = simulate(
                load_scenario(
                    "baseline_2025",
                    weeks=52,
                    licensing_policy="case_by_case",
                    approval_probability=approval,
                ),
                rng=seed,
            ).steps
            runs.append(steps["ex_china_price_usd_per_kg"].mean())
        means.append(sum(runs) / len(runs))
    assert means[0] > means[1] > means[2]
