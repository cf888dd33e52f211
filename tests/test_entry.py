"""India's scheme against prices: entry on the expected import price, exit, limit pricing.

Issue [3 of 6]: the incentive changes domestic entry; with limit pricing on, fewer entrants
survive; learning is indexed to industry-scale output, not to a pilot line's few tonnes.
"""

from __future__ import annotations

import pytest

from agents import DomesticProducer
from simulation import MagnetSupplyModel, load_scenario


def _scheme_plants(model: MagnetSupplyModel) -> list[DomesticProducer]:
    return [p for p in model.domestic_producers if p.subsidised]


@pytest.mark.parametrize("seed", [1, 2])
def test_the_incentive_changes_domestic_entry(seed):
    entrants = {}
    for subsidy in (0.0, 35.0):
        model = MagnetSupplyModel(
            load_scenario("fast_domestic_rampup", weeks=40, subsidy_usd_per_kg=subsidy), rng=seed
        )
        model.run_for(40)  # the award is in week 25 (1 Oct 2025)
        entrants[subsidy] = len(_scheme_plants(model))
    assert entrants[35.0] > entrants[0.0]


def test_bidders_judge_entry_on_the_expected_import_price_not_the_pre_shock_price():
    """Controls raise the expected Chinese export price, so more bidders close the gap."""
    counts = {}
    for policy in ("open", "ban"):
        model = MagnetSupplyModel(
            load_scenario(
                "fast_domestic_rampup", weeks=40, licensing_policy=policy, subsidy_usd_per_kg=15.0
            ),
            rng=2,
        )
        model.run_for(40)
        counts[policy] = len(_scheme_plants(model))
        if policy == "ban":
            assert model.prices.expected_china_export_usd_per_kg > 60.0 * 1.05
    assert counts["ban"] > counts["open"]


@pytest.mark.slow
def test_with_limit_pricing_on_fewer_entrants_survive():
    """Never more survivors in a seed, fewer over three seeds (plants that export escape it)."""
    survivors = {0.0: [], 0.2: []}
    for seed in (1, 2, 3):
        for share in survivors:
            model = MagnetSupplyModel(
                load_scenario("limit_pricing", limit_pricing_share=share), rng=seed
            )
            model.run_for(model.horizon_weeks)
            plants = _scheme_plants(model)
            assert plants  # entry happened in both runs
            survivors[share].append(sum(p.stage != "closed" for p in plants))
            if share > 0:
                steps = model.datacollector.get_model_vars_dataframe()
                assert (
                    steps["india_import_price_usd_per_kg"] < steps["china_export_price_usd_per_kg"]
                ).any()
    assert all(on <= off for on, off in zip(survivors[0.2], survivors[0.0], strict=True))
    assert sum(survivors[0.2]) < sum(survivors[0.0])


def test_scheme_plants_sell_abroad_what_india_does_not_take_and_irel_never():
    runs = {}
    for exports in (True, False):
        model = MagnetSupplyModel(load_scenario("limit_pricing", domestic_exports=exports), rng=3)
        model.run_for(model.horizon_weeks)
        runs[exports] = (model, model.datacollector.get_model_vars_dataframe())
    (on, on_steps), off_steps = runs[True], runs[False][1]
    assert off_steps["domestic_exports_t"].sum() == 0
    assert on_steps["domestic_exports_t"].sum() > 0
    abroad = sum(
        on_steps[c].sum()
        for c in on_steps.columns
        if c.startswith("receipts_t__") and c.endswith("__domestic") and "__IN__" not in c
    )
    assert abroad > 0  # foreign OEMs received Indian magnets
    irel = next(p for p in on.domestic_producers if p.name == "irel-vizag")
    assert irel.sold_abroad_t == 0
    # exporting keeps more plants alive than selling only into India's limit-priced market
    alive = {k: sum(p.stage != "closed" for p in _scheme_plants(m)) for k, (m, _) in runs.items()}
    assert alive[True] >= alive[False]


def test_a_plant_closes_only_after_the_stated_weeks_under_water_and_irel_never():
    model = MagnetSupplyModel(load_scenario("baseline_2025", weeks=1), rng=1)
    plant = DomesticProducer(
        model, "test", nameplate_t_per_year=1200, unit_cost_usd_per_kg=80.0, exit_after_weeks=3
    )
    for _ in range(2):
        plant.review_margin(import_usd_per_kg=60.0, incentive_usd_per_kg=10.0)
    plant.review_margin(import_usd_per_kg=75.0, incentive_usd_per_kg=10.0)  # above water: reset
    for _ in range(2):
        plant.review_margin(import_usd_per_kg=60.0, incentive_usd_per_kg=10.0)
    assert plant.stage == "operating"
    plant.review_margin(import_usd_per_kg=60.0, incentive_usd_per_kg=10.0)
    assert plant.stage == "closed" and plant.capacity_t_per_week(5) == 0.0
    irel = next(p for p in model.domestic_producers if p.name == "irel-vizag")
    for _ in range(100):
        irel.review_margin(import_usd_per_kg=1.0, incentive_usd_per_kg=0.0)
    assert irel.stage == "operating"


def test_a_pilot_line_does_not_learn_its_way_below_the_industry():
    """IREL's 3 t/yr line (C-IRL-1) over three years: learning starts at industry scale."""
    model = MagnetSupplyModel(load_scenario("baseline_2025", oxide_import_t_per_week=10.0), rng=1)
    model.run_for(156)
    irel = next(p for p in model.domestic_producers if p.name == "irel-vizag")
    assert irel.cumulative_output_t > 5.0
    assert irel.unit_cost_usd_per_kg == irel.initial_unit_cost_usd_per_kg
