"""Non-Chinese capacity investment from expected margins (agents.row.RestOfWorldSupplier.invest).

Issue [3 of 6]: zero while prices are at base, positive after a sustained premium, and in the
2010-like episode growth of 3-5% of the market a year while the premium lasts, stalling after
(C-RMP-2 is its calibration target: experiments/calibrate_investment.py).
"""

from __future__ import annotations

import pytest

from experiments.calibrate_investment import capacity_growth
from simulation import MagnetSupplyModel, load_scenario, simulate


def _model(name: str, weeks: int, **overrides) -> MagnetSupplyModel:
    model = MagnetSupplyModel(load_scenario(name, weeks=weeks, **overrides), rng=4)
    model.run_for(weeks)
    return model


def test_an_expansion_adds_nothing_while_built_then_ramps_to_its_full_size():
    maker = MagnetSupplyModel(load_scenario("baseline_2025", weeks=1), rng=1).row_suppliers[0]
    weeks = range(0, 10 + maker.expansion_build_weeks + maker.expansion_ramp_weeks + 10)
    before = [maker.capacity_at(w) for w in weeks]
    maker.expansions.append((10, 50.0))
    added = [maker.capacity_at(w) - c for w, c in zip(weeks, before, strict=True)]
    online = 10 + maker.expansion_build_weeks
    assert all(a == 0.0 for a in added[:online])
    assert added == sorted(added) and added[-1] == pytest.approx(50.0)
    assert 0.0 < added[online + maker.expansion_ramp_weeks // 2] < 50.0  # half-way up the S-curve
    assert maker.capacity_pipeline_t(online) == pytest.approx(50.0 - added[online])


def test_a_maker_whose_price_stays_at_list_never_invests():
    model = _model("baseline_2025", 52, licensing_policy="open")
    for maker in model.row_suppliers:
        assert maker.capacity_response_share > 0  # it would invest, were there a premium
        assert maker.expansions == []
    steps = model.datacollector.get_model_vars_dataframe()
    assert (steps["row_capacity_ordered_t"] == 0).all()


def test_a_sustained_premium_brings_expansions_that_raise_capacity_after_the_build():
    model = _model("full_ban", 156)
    assert any(maker.expansions for maker in model.row_suppliers)
    steps = model.datacollector.get_model_vars_dataframe()
    assert steps["row_capacity_ordered_t"].sum() > 0
    trend = sum(
        m.base_capacity_t_per_week + m.growth_t_per_week_per_year * 155 / 52
        for m in model.row_suppliers
    )
    assert steps["row_capacity_t"].iloc[-1] > trend + 1.0
    no_response = _model("full_ban", 156, capacity_response_share=0.0)
    assert not any(maker.expansions for maker in no_response.row_suppliers)


def test_the_2010_like_episode_grows_capacity_3_to_5_pct_of_the_market_a_year_then_stalls():
    during, after = capacity_growth(simulate(load_scenario("episode_2010"), rng=7).steps)
    assert 3.0 <= during <= 5.0
    assert after < 0.5
