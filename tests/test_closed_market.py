"""The closed world market: every destination, China's home market, order books, the desk.

Behaviour that breaks if the market code is wrong (issue [2 of 6], "Checks that must exist");
the weekly ledgers are in test_mass_balance.py.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from experiments.months import monthly_totals
from simulation import MagnetSupplyModel, load_scenario
from simulation.reporters import destinations

EXPORTS_2024_T = 58_152  # C-MKT-8


def _run(weeks: int, **overrides) -> tuple[MagnetSupplyModel, pd.DataFrame]:
    model = MagnetSupplyModel(load_scenario("baseline_2025", weeks=weeks, **overrides), rng=3)
    model.run_for(weeks)
    return model, model.datacollector.get_model_vars_dataframe()


def test_open_world_2024_reproduces_the_customs_level_and_sells_nothing_into_a_sink():
    """Every destination open, 2024: monthly exports within 10% of C-MKT-8's 2024 level."""
    _model, steps = _run(53, start_date="2024-01-01", licensing_policy="open")
    monthly = monthly_totals(steps, ["china_exports_t"]).dropna()
    assert len(monthly) == 12
    level = EXPORTS_2024_T / 12
    assert monthly["china_exports_t"].mean() == pytest.approx(level, rel=0.10)
    assert (monthly["china_exports_t"] / level).between(0.85, 1.15).all()
    # No sink: China's output goes to buyers (home and abroad) or stays in stock, and
    # makers make to order, so their stock stays near its target.
    stock_weeks = steps["china_stock_t"] / (
        steps["china_exports_t"] + steps["china_domestic_sales_t"]
    )
    assert stock_weeks.max() < 5
    assert (steps["china_output_t"] <= steps["china_capacity_t"] + 1e-9).all()


def test_every_destination_is_reported_and_sums_to_the_total():
    model, steps = _run(20)
    codes = [d for d in destinations(model.spec) if d != "EU"]
    assert {"DE", "US", "KR", "IN", "JP", "XX"} <= set(codes)
    by_destination = steps[[f"china_exports_t__{d}" for d in codes]].sum(axis=1)
    np.testing.assert_allclose(by_destination, steps["china_exports_t"], rtol=1e-9, atol=1e-9)
    eu = steps[[f"china_exports_t__{d}" for d in ("DE", "XE")]].sum(axis=1)
    np.testing.assert_allclose(eu, steps["china_exports_t__EU"], rtol=1e-9, atol=1e-9)


def test_licence_queue_can_exceed_the_number_of_buyer_firms():
    model = MagnetSupplyModel("history_2025", rng=1)
    peak = 0
    for _ in range(model.spec.week_of(date(2025, 12, 31))):
        model.step()
        peak = max(peak, len(model.authority.queue))
    assert peak > len(model.buyers)


def test_licence_free_destination_never_waits():
    policy = {
        "kind": "case_by_case",
        "approval_probability": 0.0,
        "licence_free": ["US"],
    }
    _model, steps = _run(30, licensing_policy=policy)
    assert steps["applications_filed__US"].sum() == 0
    assert steps["applications_pending__US"].max() == 0
    assert steps["china_exports_t__US"].iloc[5:].min() > 0.5 * steps["china_exports_t__US"].iloc[0]
    assert steps["applications_filed__DE"].sum() > 0  # others do wait


def test_revoked_licence_ships_nothing_after_its_revocation_week():
    phases = [
        {
            "start_week": 0,
            "policy": {
                "kind": "case_by_case",
                "approval_probability": 1.0,
                "min_delay_working_days": 0,
                "max_delay_working_days": 0,
                "validity_weeks": 52,
            },
        },
        {
            "start_week": 8,
            "policy": {
                "kind": "preferential",
                "approval_probability": 1.0,
                "min_delay_working_days": 0,
                "max_delay_working_days": 0,
                "revoke": ["DE"],
                "countries": {"DE": {"hold": True}},
            },
        },
    ]
    _model, steps = _run(20, licensing_policy={"kind": "timeline", "phases": phases})
    licensed = steps["china_licensed_exports_t__DE"]
    assert licensed.iloc[:8].sum() > 0  # licences were used before
    assert licensed.iloc[8:].sum() == 0
    assert steps["china_licensed_exports_t__US"].iloc[8:].sum() > 0  # others unaffected


def test_exporters_hold_stock_for_pending_licences():
    policy = {
        "kind": "case_by_case",
        "approval_probability": 1.0,
        "min_delay_working_days": 45,
        "max_delay_working_days": 45,
    }
    _model, steps = _run(12, licensing_policy=policy)
    assert steps["exporter_stock_held_t"].iloc[1:9].min() > 0
    # once decisions come (week 9), the held stock ships to the licensed buyers
    assert steps["china_licensed_exports_t__DE"].iloc[9:].sum() > 0


def test_customs_hold_delays_uncontrolled_grades_under_controls_only():
    held = dict(
        customs__identification_t_per_week=50.0,
        customs__identification_growth_t_per_week_per_week=0.0,
        customs__identification_weeks=2,
    )
    _, open_steps = _run(10, licensing_policy="open", **held)
    assert open_steps["customs_held_t"].max() == 0
    _, ban_steps = _run(10, licensing_policy="ban", **held)
    assert ban_steps["customs_held_t"].max() > 0
    # under a ban only uncontrolled grades leave China, and not faster than customs allow
    assert ban_steps["china_exports_t"].iloc[1:].max() <= 50.0 + 1e-6


def test_makers_ship_in_priority_order_and_keep_their_books_in_placement_order():
    """``ship`` buckets the book instead of sorting it: the same order as ``priority``.

    The bucketing relies on every book being in (placed_week, id) order; both are checked
    every week of a controlled history run, for every maker, on the orders ``ship`` serves.
    """
    model = MagnetSupplyModel(load_scenario("history_2025", weeks=90), rng=5)
    checked = 0

    def watched(seller):
        sweep = seller._sweep

        def check(week):
            nonlocal checked
            keys = [(o.placed_week, o.id) for o in seller.book]
            assert keys == sorted(keys)
            live, ready = sweep(week)
            assert ready == sorted(ready, key=seller.priority)
            assert {id(o) for o in ready} <= {id(o) for o in live}
            checked += len(ready)
            return live, ready

        return check

    for seller in model.sellers:
        seller._sweep = watched(seller)
    model.run_for(90)
    ranks = {s._rank_of(b) for s in model.sellers for b in model.buyers}
    assert checked > 1_000 and len(ranks) >= 3  # many orders, and several priority buckets
