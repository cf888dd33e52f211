"""Every tonne of magnet and oxide is accounted for, every week, and no stock goes negative."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation import MagnetSupplyModel, load_scenario
from simulation.scenario_io import SCENARIO_DIR

LIBRARY = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))

TOL = 1e-6


def _snapshot(model: MagnetSupplyModel) -> dict:
    return {
        "sellers": {s.unique_id: dict(s.stock_t) for s in model.sellers},
        "buyers": {b.unique_id: dict(b.stock_t) for b in model.buyers},
        "china_stock": sum(e.total_stock_t for e in model.exporters),
        "customs": model.market.customs.held_t,
        "dytb": sum(r.dytb_stock_t for r in model.row_suppliers),
    }


def assert_ledgers_hold(model: MagnetSupplyModel, weeks: int) -> None:
    """Every week: magnets (all, and controlled grades), Dy/Tb and oxide balance in total;
    each maker's and each buyer's stock balances; China's output = exports + home sales +
    change in stock (and in customs); exports by destination sum to the total."""
    magnet0, oxide0 = model.magnet_stock_t(), model.oxide_stock_t()
    controlled0, dytb0 = model.magnet_stock_t("controlled"), _snapshot(model)["dytb"]
    dytb_per_t = model.spec.market.dytb_kg_per_t_controlled / 1000
    for _ in range(weeks):
        before = _snapshot(model)
        model.step()
        after = _snapshot(model)
        f = model.flows
        magnet_in = magnet0 + f["magnet_produced_t"]
        magnet_out = f["magnet_scrap_t"] + f["magnet_consumed_t"]
        assert magnet_in - magnet_out == pytest.approx(
            model.magnet_stock_t(), abs=TOL * max(1, magnet_in)
        )
        ctrl_in = controlled0 + f["magnet_produced_controlled_t"]
        ctrl_out = f["magnet_consumed_controlled_t"] + f["magnet_scrap_t"]
        assert ctrl_in - ctrl_out == pytest.approx(
            model.magnet_stock_t("controlled"), abs=TOL * max(1, ctrl_in)
        )
        # Dy/Tb: what non-Chinese makers received = what they used + their stock; and the
        # Dy/Tb content of controlled magnets balances with the controlled-grade ledger.
        assert dytb0 + f["dytb_received_row_t"] - f["dytb_used_row_t"] == pytest.approx(
            after["dytb"], abs=TOL * max(1, dytb0 + f["dytb_received_row_t"])
        )
        row_controlled = sum(r.produced_t["controlled"] for r in model.row_suppliers)
        assert sum(r.dytb_used_t for r in model.row_suppliers) == pytest.approx(
            row_controlled * dytb_per_t, abs=TOL * max(1, row_controlled)
        )
        oxide_in = oxide0 + f["oxide_produced_t"] + f["oxide_imported_t"]
        oxide_out = f["oxide_reserved_t"] + f["oxide_consumed_t"]
        assert oxide_in - oxide_out == pytest.approx(
            model.oxide_stock_t(), abs=TOL * max(1, oxide_in)
        )
        for s in model.sellers:
            for grade, stock in s.stock_t.items():
                expected = before["sellers"][s.unique_id][grade] + s.produced_t[grade]
                assert expected - s.shipped_t[grade] == pytest.approx(
                    stock, abs=TOL * max(1, expected)
                )
        for b in model.buyers:
            for grade, stock in b.stock_t.items():
                arrived = before["buyers"][b.unique_id][grade] + b.received_by_grade_t[grade]
                left = arrived - b.consumed_t[grade] - b.sent_by_grade_t[grade]  # to motors
                assert left == pytest.approx(stock, abs=TOL * max(1, arrived))
        market = model.market
        output = sum(e.output_t for e in model.exporters)
        out = (
            market.exports_total_t
            + market.home_sales_t
            + after["china_stock"]
            - before["china_stock"]
            + after["customs"]
            - before["customs"]
        )
        assert output == pytest.approx(out, abs=TOL * max(1, output))
        assert sum(market.exports_t.values()) == pytest.approx(market.exports_total_t)
        assert_non_negative(model)


def assert_non_negative(model: MagnetSupplyModel) -> None:
    for s in model.sellers:
        assert all(v >= -TOL for v in s.stock_t.values())
        assert all(o.open_t >= -TOL for o in s.book)
    for lic in model.authority.issued:
        assert lic.remaining_t >= -TOL
    for b in model.buyers:
        assert all(v >= -TOL for v in b.stock_t.values())
        assert all(s.tonnes >= 0 for s in b.in_transit)
        assert 0 <= b.output_share <= 1 + TOL
    for o in model.oems:
        plan = o.planned_vehicles_per_week
        # above plan only to work off the backlog, within the recovery margin
        assert 0 <= o.produced_vehicles <= plan * (1 + o.recovery_margin_share) + TOL
        assert o.recovered_vehicles <= max(0.0, o.produced_vehicles - plan) + TOL
        assert o.backlog_vehicles >= -TOL
    for p in model.domestic_producers:
        assert p.stock_t >= -TOL and p.oxide_stock_t >= -TOL
    assert model.irel.stock_t >= -TOL
    for r in model.row_suppliers:
        assert r.dytb_stock_t >= -TOL


@pytest.mark.parametrize("name", LIBRARY)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_library_scenarios_balance(name, seed):
    model = MagnetSupplyModel(load_scenario(name), rng=seed)
    assert_ledgers_hold(model, model.horizon_weeks)


policies = st.one_of(
    st.just({"kind": "open"}),
    st.just({"kind": "ban"}),
    st.builds(
        lambda p, cap, lo, extra: {
            "kind": "case_by_case",
            "approval_probability": p,
            "review_capacity_per_week": cap,
            "min_delay_working_days": lo,
            "max_delay_working_days": lo + extra,
        },
        st.floats(0, 1),
        st.one_of(st.none(), st.integers(0, 10)),
        st.integers(0, 50),
        st.integers(0, 30),
    ),
    st.builds(
        lambda q, period, alloc: {
            "kind": "quota",
            "quota_t_per_period": q,
            "period_weeks": period,
            "allocation": alloc,
            "min_delay_working_days": 0,
        },
        st.floats(0, 500),
        st.integers(1, 26),
        st.sampled_from(["first_come", "pro_rata"]),
    ),
    st.builds(
        lambda p_in, p_jp: {
            "kind": "preferential",
            "countries": {
                "IN": {"approval_probability": p_in},
                "JP": {"approval_probability": p_jp},
            },
        },
        st.floats(0, 1),
        st.floats(0, 1),
    ),
)


@given(
    policy=policies,
    seed=st.integers(0, 2**32 - 1),
    weeks=st.integers(10, 60),
    count=st.integers(1, 4),
    cover=st.floats(0, 8),
    inventory=st.floats(0, 10),
    china_share=st.floats(0, 1),
    capacity=st.floats(0, 8000),
    row_available=st.floats(0, 800),
    award_week=st.integers(0, 20),
    build=st.integers(0, 20),
    ramp=st.integers(0, 20),
    subsidy=st.floats(0, 80),
    oxide_imports=st.floats(0, 20),
    irel=st.floats(0, 2000),
    reserve=st.floats(0, 1),
    project_share=st.floats(0, 0.5),
    tech_lag=st.integers(0, 20),
    slots=st.integers(0, 3),
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_valid_scenarios_balance(
    policy,
    seed,
    weeks,
    count,
    cover,
    inventory,
    china_share,
    capacity,
    row_available,
    award_week,
    build,
    ramp,
    subsidy,
    oxide_imports,
    irel,
    reserve,
    project_share,
    tech_lag,
    slots,
):
    scenario = load_scenario(
        "baseline_2025",
        licensing_policy=policy,
        weeks=weeks,
        count=count,
        cover_target_weeks=cover,
        max_cover_weeks=max(cover, 12.0),
        initial_inventory_weeks=inventory,
        china_share=china_share,
        exporters__capacity_t_per_week=capacity,
        rest_of_world__capacity_t_per_week=row_available,
        incentive__award_week=award_week,
        build_weeks=build,
        ramp_weeks=ramp,
        gestation_weeks=0,
        subsidy_usd_per_kg=subsidy,
        oxide_import_t_per_week=oxide_imports,
        irel__capacity_t_oxide_per_year=irel,
        strategic_reserve_share=reserve,
        project_share=project_share,
        low_hree_lag_weeks=tech_lag,
        magnet_free_lag_weeks=tech_lag,
        engineering_slots=slots,
    )
    assert_ledgers_hold(MagnetSupplyModel(scenario, rng=seed), weeks)
