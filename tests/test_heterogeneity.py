"""Firms that differ within a group (issue [4 of 6], piece 1; simulation/spread.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.errors import ScenarioError
from simulation.model import MagnetSupplyModel
from simulation.run import simulate
from simulation.scenario import DRAWN_OEM_FIELDS
from simulation.scenario_io import load_scenario
from simulation.spread import Spread, central

UNIFORM = {"dist": "uniform", "low": 1.0, "high": 6.0}


def _lost_share_by_firm(spec, seed: int, weeks: int) -> dict[str, list[float]]:
    """Share of its plan each firm did not build over ``weeks`` (by group name)."""
    model = MagnetSupplyModel(spec, rng=seed)
    planned = dict.fromkeys(model.oems, 0.0)
    built = dict.fromkeys(model.oems, 0.0)
    for _ in range(weeks):
        model.step()
        for oem in model.oems:
            planned[oem] += oem.planned_vehicles_per_week
            built[oem] += oem.produced_vehicles
    lost: dict[str, list[float]] = {}
    for oem in model.oems:
        lost.setdefault(oem.group, []).append(1.0 - built[oem] / planned[oem])
    return lost


def _clones(spec):
    """``spec`` with every drawn attribute at its spread's mean: the clone model."""
    oems = [
        o.model_copy(
            update={
                n: central(getattr(o, n)) for n in DRAWN_OEM_FIELDS if getattr(o, n) is not None
            }
        )
        for o in spec.oems
    ]
    return spec.model_copy(update={"oems": oems})


def test_zero_width_spreads_reproduce_the_clone_model() -> None:
    """Every drawable attribute as a spread of width zero: the same run to the last digit."""
    plain = _clones(load_scenario("history_2025"))
    assert not any(isinstance(getattr(o, n), Spread) for o in plain.oems for n in DRAWN_OEM_FIELDS)
    oems = [
        o.model_copy(
            update={
                n: Spread(dist="uniform", low=getattr(o, n), high=getattr(o, n))
                for n in DRAWN_OEM_FIELDS
                if getattr(o, n) is not None
            }
        )
        for o in plain.oems
    ]
    spread = plain.model_copy(update={"oems": oems})
    assert isinstance(spread.oems[0].initial_inventory_weeks, Spread)
    a = simulate(plain, rng=3).steps
    b = simulate(spread, rng=3).steps
    pd.testing.assert_frame_equal(a, b)


def test_firms_of_one_group_differ_when_their_draws_differ() -> None:
    """The shipped history draws stocks from 1-6 weeks (C-IN-2, C-IN-7): firms' losses differ."""
    spec = load_scenario("history_2025")
    model = MagnetSupplyModel(spec, rng=1)
    stocks = [o.initial_inventory_weeks for o in model.oems if o.group == "in-cars-ice"]
    assert len(set(stocks)) == len(stocks) and all(1.0 <= s <= 6.0 for s in stocks)
    lost = _lost_share_by_firm(spec, seed=1, weeks=90)["in-cars-ice"]  # to Dec 2025
    assert max(lost) - min(lost) > 0.05
    clones = _lost_share_by_firm(_clones(spec), seed=1, weeks=90)["in-cars-ice"]
    # clones differ only by the Chinese exporter each was assigned to
    assert max(lost) - min(lost) > 2 * (max(clones) - min(clones))


def test_draws_are_reproducible_and_leave_the_licence_lottery_alone() -> None:
    """Same seed, same firms; the firm stream is apart from ``model.rng``."""
    spec = load_scenario("history_2025", oems__initial_inventory_weeks=UNIFORM)
    first = [o.initial_inventory_weeks for o in MagnetSupplyModel(spec, rng=5).oems]
    again = [o.initial_inventory_weeks for o in MagnetSupplyModel(spec, rng=5).oems]
    other = [o.initial_inventory_weeks for o in MagnetSupplyModel(spec, rng=6).oems]
    assert first == again and first != other
    plain = MagnetSupplyModel(_clones(load_scenario("history_2025")), rng=5)
    drawn = MagnetSupplyModel(spec, rng=5)
    assert plain.rng.random() == drawn.rng.random()


def test_size_weights_split_the_group_plan() -> None:
    """Plans follow the drawn weights and add up to the group's plan."""
    spec = load_scenario(
        "history_2025",
        oems__size_weight={"dist": "triangular", "low": 0.2, "mode": 1.0, "high": 3.0},
    )
    model = MagnetSupplyModel(spec, rng=2)
    for cfg in spec.oems:
        plans = [o.base_vehicles_per_week for o in model.oems if o.group == cfg.name]
        assert sum(plans) == pytest.approx(cfg.planned_vehicles_per_week, rel=1e-12)
        if cfg.count > 1:
            assert np.std(plans) > 0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"dist": "uniform", "low": 3, "high": 1}, "low (3.0) must not exceed high (1.0)"),
        ({"dist": "uniform", "low": 0, "high": 60}, "leaves the range; allowed range [0, 52]"),
        ({"dist": "normal", "low": 0, "high": 1}, "'uniform' or 'triangular'"),
        ({"dist": "uniform", "low": 1, "high": 2, "mode": 1.5}, "triangular' only"),
        ("three", "expected a number or a spread table"),
        (True, "not a boolean"),
    ],
)
def test_bad_spreads_get_one_line_naming_the_key(value, message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        load_scenario("history_2025", oems__initial_inventory_weeks=value)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith("history_2025: oems[0].initial_inventory_weeks: ")
    assert message in text


@pytest.mark.parametrize("seed", [1, 2])
def test_history_firms_of_one_segment_lose_differently_and_evs_and_e2w_lose_more(seed) -> None:
    """[4 of 6] done-when, two seeds: July 2025 losses spread > 5 points inside every Indian
    segment; EV cars and e-2W lose more of their plan than ICE cars (plan-weighted)."""
    model = MagnetSupplyModel(load_scenario("history_2025"), rng=seed)
    plan = dict.fromkeys(model.oems, 0.0)
    made = dict.fromkeys(model.oems, 0.0)
    while model.date < pd.Timestamp("2025-08-01").date():
        model.step()
        if (model.date.year, model.date.month) == (2025, 7):
            for o in model.oems:
                plan[o] += o.planned_vehicles_per_week
                made[o] += o.produced_vehicles
    by_segment: dict[str, list] = {}
    for o in model.oems:
        if o.country == "IN":
            by_segment.setdefault(o.segment, []).append(o)
    for firms in by_segment.values():
        losses = [100 * (1 - made[o] / plan[o]) for o in firms]
        assert max(losses) - min(losses) > 5
    lost = {
        seg: 100 * (1 - sum(made[o] for o in firms) / sum(plan[o] for o in firms))
        for seg, firms in by_segment.items()
    }
    assert lost["car_ev"] > lost["car_ice"] and lost["e2w"] > lost["car_ice"]
