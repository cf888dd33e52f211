"""The scenario library, `extends`, flat overrides, and citations of every default."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from simulation import MagnetSupplyModel, ScenarioError, load_scenario, simulate
from simulation.overrides import flat_parameter_names
from simulation.policies import LicencePolicy
from simulation.scenario import Scenario
from simulation.scenario_io import SCENARIO_DIR

LIBRARY = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
REQUIRED = {"baseline_2025", "no_controls", "full_ban", "case_by_case", "fast_domestic_rampup"}


def test_library_has_the_required_scenarios():
    assert set(LIBRARY) >= REQUIRED


@pytest.fixture(scope="module")
def kpis():
    return {name: simulate(load_scenario(name), rng=3).kpis for name in LIBRARY}


def test_no_controls_loses_almost_nothing(kpis):
    assert kpis["no_controls"]["lost_production_pct__IN"] < 0.5
    assert kpis["no_controls"]["lost_production_pct__JP"] < 0.5


def test_full_ban_hits_india_and_japan_hard(kpis):
    assert kpis["full_ban"]["lost_production_pct__IN"] > 50
    assert kpis["full_ban"]["lost_production_pct__JP"] > 15
    assert kpis["full_ban"]["licences_issued"] == 0


def test_baseline_sits_between_no_controls_and_full_ban(kpis):
    for country in ("IN", "JP"):
        key = f"lost_production_pct__{country}"
        assert kpis["no_controls"][key] < kpis["baseline_2025"][key] < kpis["full_ban"][key]


def test_fast_rampup_raises_domestic_share_and_cuts_indian_losses(kpis):
    assert kpis["fast_domestic_rampup"]["domestic_share_at_horizon"] > 0.2
    assert kpis["baseline_2025"]["domestic_share_at_horizon"] < 0.05  # SF-5: negligible for 2 years
    assert (
        kpis["fast_domestic_rampup"]["lost_production_pct__IN"]
        < kpis["baseline_2025"]["lost_production_pct__IN"]
    )


def test_extends_merges_tables_and_replaces_arrays(tmp_path):
    base = load_scenario("baseline_2025")
    child = tmp_path / "child.toml"
    child.write_text(
        'extends = "baseline_2025.toml"\nname = "child"\n'
        "[market]\ninr_per_usd = 90.0\n"
        '[[oems]]\nname = "only"\ncountry = "IN"\nsegment = "e2w"\n'
        "planned_vehicles_per_week = 100\nmagnet_kg_per_vehicle = 0.5\n"
    )
    s = load_scenario(child)
    assert s.market.inr_per_usd == 90.0
    assert s.market.china_price_usd_per_kg == base.market.china_price_usd_per_kg  # merged
    assert [o.name for o in s.oems] == ["only"]  # replaced whole
    assert s.licensing.kind == "timeline"  # inherited
    assert [Path(p).name for p, _ in s.sources] == ["child.toml", "baseline_2025.toml"]


def test_extends_with_same_policy_kind_merges_parameters(tmp_path):
    child = tmp_path / "c.toml"
    child.write_text('extends = "case_by_case.toml"\n[licensing]\napproval_probability = 0.9\n')
    s = load_scenario(child)
    assert s.licensing.kind == "case_by_case"
    assert s.licensing.approval_probability == 0.9
    assert s.licensing.review_capacity_per_week == 40  # kept from the parent


def test_flat_keyword_overrides_drive_the_model():
    model = MagnetSupplyModel(
        rng=7, licensing_policy="ban", subsidy_usd_per_kg=20, cover_target_weeks=4
    )
    assert model.authority.policy.kind == "ban"
    assert model.spec.incentive.subsidy_usd_per_kg == 20
    assert {o.cover_target_weeks for o in model.spec.oems} == {4}


def test_section_prefixed_override_targets_one_section():
    s = load_scenario("baseline_2025", incentive__ramp_weeks=10)
    assert s.incentive.ramp_weeks == 10
    assert all(p.ramp_weeks == 52 for p in s.domestic_producers)
    both = load_scenario("baseline_2025", ramp_weeks=10)
    assert both.incentive.ramp_weeks == 10 and all(
        p.ramp_weeks == 10 for p in both.domestic_producers
    )


def test_overrides_on_a_scenario_object_are_validated():
    s = load_scenario("baseline_2025")
    model = MagnetSupplyModel(scenario=s, rng=1, approval_probability=0.4)
    assert all(p.policy.approval_probability == 0.4 for p in model.spec.licensing.phases)
    with pytest.raises(ScenarioError, match=r"allowed range \[0, 1\]"):
        MagnetSupplyModel(scenario=s, rng=1, approval_probability=4)


def test_unknown_override_suggests_the_right_name():
    with pytest.raises(ScenarioError, match="did you mean 'approval_probability'"):
        MagnetSupplyModel(rng=1, approval_probabilty=0.3)
    assert "subsidy_usd_per_kg" in flat_parameter_names()


def test_scenario_round_trips_through_its_dump():
    s = load_scenario("baseline_2025")
    again = Scenario.model_validate(s.model_dump(serialize_as_any=True))
    assert again.sha256() == s.sha256()
    assert load_scenario("full_ban").sha256() != s.sha256()


NUMBER_LINE = re.compile(r"^\s*[a-z_]+\s*=\s*-?[0-9]")
CITED = re.compile(r"#.*(C-[A-Z]+-\d|SF-\d|assumption|DERIVED|DESIGN|first Monday)", re.IGNORECASE)


@pytest.mark.parametrize("name", LIBRARY)
def test_every_number_in_a_scenario_file_cites_a_source(name):
    lines = (SCENARIO_DIR / f"{name}.toml").read_text().splitlines()
    uncited = [line for line in lines if NUMBER_LINE.match(line) and not CITED.search(line)]
    uncited = [line for line in uncited if not line.strip().startswith(("seed", "weeks"))]
    assert not uncited, uncited


def _all_models() -> list[type[BaseModel]]:
    from simulation import scenario as sc
    from simulation.policies import CountryTerms, Phase

    models = [getattr(sc, n) for n in dir(sc) if n.endswith("Config") or n == "CapacityStep"]
    return (
        models
        + [CountryTerms, Phase]
        + [c for c in LicencePolicy.registry.values() if not c.__module__.startswith("tests")]
    )


@pytest.mark.parametrize("model", _all_models(), ids=lambda m: m.__name__)
def test_every_numeric_default_cites_a_source_or_says_assumption(model):
    for name, field in model.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if isinstance(default, bool) or not isinstance(default, int | float):
            continue
        text = field.description or ""
        assert re.search(r"C-[A-Z]+-\d|assumption|DERIVED|DESIGN|UNSOURCED", text), (
            f"{model.__name__}.{name}"
        )


def test_stock_mesa_batch_run_drives_the_model_unchanged():
    import mesa

    rows = mesa.batch_run(
        MagnetSupplyModel,
        parameters={"licensing_policy": ["open", "ban"], "weeks": 12},
        rng=[1, 2],
        max_steps=12,
        number_processes=1,
        data_collection_period=-1,
        display_progress=False,
    )
    assert len(rows) == 4
    lost = {
        (r["licensing_policy"], r["rng"]): r["vehicles_produced__IN"] / r["vehicles_planned__IN"]
        for r in rows
    }
    assert lost[("open", 1)] == pytest.approx(1.0)
    assert lost[("ban", 1)] < 0.5


def test_extends_never_looks_in_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "baseline_2025.toml").write_text('name = "impostor"\n[simulation]\nweeks = 7\n')
    monkeypatch.chdir(tmp_path)
    assert load_scenario("full_ban").simulation.weeks == 156
    child_dir = tmp_path / "mine"
    child_dir.mkdir()
    (child_dir / "parent.toml").write_text(
        'extends = "baseline_2025.toml"\n[simulation]\nweeks = 30\n'
    )
    (child_dir / "child.toml").write_text('extends = "parent.toml"\n')
    (tmp_path / "parent.toml").write_text(
        'extends = "baseline_2025.toml"\n[simulation]\nweeks = 9\n'
    )
    assert load_scenario(child_dir / "child.toml").simulation.weeks == 30


def test_infinite_values_and_lower_case_countries_are_rejected():
    with pytest.raises(ScenarioError, match="capacity_t_per_week"):
        load_scenario("baseline_2025", capacity_t_per_week=float("inf"))
    with pytest.raises(ScenarioError, match=r"contract_countries\[0\]"):
        load_scenario("baseline_2025", contract_countries=["jp"])


def test_configured_subsidised_plant_earns_the_incentive_in_the_payment_window():
    s = load_scenario(
        "baseline_2025",
        incentive__award_week=0,
        gestation_weeks=0,
        weeks=20,
        domestic_producers__subsidised=True,
        n_bidders=0,
    )
    result = simulate(s, rng=1)
    assert result.steps["subsidy_spent_usd"].iloc[-1] > 0
    off = simulate(
        load_scenario(
            "baseline_2025", incentive__award_week=0, gestation_weeks=0, weeks=20, n_bidders=0
        ),
        rng=1,
    )
    assert off.steps["subsidy_spent_usd"].iloc[-1] == 0


def test_capital_subsidy_is_shared_per_award_slot():
    base = dict(incentive__award_week=0, weeks=2, capital_subsidy_inr_crore=850.0, inr_per_usd=85.0)
    one = simulate(
        load_scenario("baseline_2025", n_awards=5, capacity_target_t_per_year=1200, **base), rng=1
    )
    five = simulate(
        load_scenario("baseline_2025", n_awards=5, bidder_cost_max_usd_per_kg=71, **base), rng=1
    )
    assert one.steps["subsidy_spent_usd"].iloc[-1] == pytest.approx(1e8 / 5)
    assert five.steps["subsidy_spent_usd"].iloc[-1] == pytest.approx(1e8)


def test_prices_under_a_full_ban_rise_above_list_and_stay_below_the_cap():
    steps = simulate(load_scenario("full_ban"), rng=1).steps
    list_index = steps["price_index_row"].iloc[0]  # non-Chinese makers start at list price
    for column in ("price_index_row", "price_index_china"):
        assert steps[column].max() <= 4.0 + 1e-12, column
    assert steps["price_index_row"].max() > list_index + 0.2  # scarcity does bite
    assert steps["china_home_price_usd_per_kg"].iloc[:26].max() <= 60.0  # not at home


def test_committed_parameter_table_matches_the_schema():
    from experiments.paramdoc import parameters_markdown

    committed = (SCENARIO_DIR.parent.parent / "docs" / "PARAMETERS.md").read_text()
    assert committed == parameters_markdown(), (
        "docs/PARAMETERS.md is stale: run `magshock parameters`"
    )


def test_parameter_table_lists_every_field_with_unit_and_source():
    from experiments.paramdoc import SECTIONS, parameters_markdown

    text = parameters_markdown()
    for _, model in SECTIONS:
        for name in model.model_fields:
            assert f"| `{name}` |" in text
    assert "| `subsidy_usd_per_kg` | USD/kg | `25.0` | [0, 500] | DERIVED, C-PLI-1 |" in text


@pytest.mark.parametrize(
    "name", ["../../x", "/abs/path", "a/b", "a\\b", "..", ".hidden", "-rf", "x\x1b[2J", "", "a b"]
)
def test_a_scenario_name_that_is_not_a_plain_folder_name_is_refused(tmp_path, name):
    path = tmp_path / "bad.toml"
    path.write_text(f'extends = "baseline_2025"\nname = {json.dumps(name)}\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(f"{path}: name: ") and "\n" not in message
    assert "letters, digits" in message


def test_the_default_name_from_a_file_name_is_a_safe_folder_name(tmp_path):
    path = tmp_path / ".my scenario (v2).toml"
    base = (SCENARIO_DIR / "baseline_2025.toml").read_text()
    path.write_text(base.replace('name = "baseline_2025"\n', "", 1))
    path.with_name("child.toml").write_text('extends = "baseline_2025"\nname = "ok.v2-final_1"\n')
    assert load_scenario(path).name == "my_scenario__v2_"
    assert load_scenario(path.with_name("child.toml")).name == "ok.v2-final_1"
