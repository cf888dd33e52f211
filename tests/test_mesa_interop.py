"""Mesa's own tools drive the model: its ``scenario`` slot, SolaraViz Reset, immutable scenarios."""

from __future__ import annotations

import pydantic
import pytest
from mesa.experimental.scenarios import Scenario as MesaScenario

from simulation.model import MagnetSupplyModel, RunScenario
from simulation.scenario_io import load_scenario


def test_model_scenario_is_mesas_slot_and_carries_the_magshock_scenario():
    spec = load_scenario("full_ban", weeks=8)
    model = MagnetSupplyModel(scenario=spec, rng=3)
    assert isinstance(model.scenario, MesaScenario)
    assert isinstance(model.scenario, RunScenario)
    assert model.scenario.spec is spec is model.spec
    assert model.scenario.rng == 3
    assert model.scenario.model is model


def test_a_mesa_scenario_rebuilds_the_same_model():
    """What SolaraViz Reset does: ``type(model)(scenario=type(model.scenario)(), **params)``."""
    spec = load_scenario("full_ban", weeks=8)
    first = MagnetSupplyModel(scenario=spec, rng=5)
    again = MagnetSupplyModel(scenario=type(first.scenario)(rng=5))
    assert again.spec.sha256() == spec.sha256()
    first.run_for(8)
    again.run_for(8)
    a = first.datacollector.get_model_vars_dataframe()
    b = again.datacollector.get_model_vars_dataframe()
    assert a.equals(b)


def test_a_plain_mesa_scenario_gives_flat_overrides():
    model = MagnetSupplyModel(scenario=MesaScenario(rng=1, licensing_policy="ban", weeks=6))
    assert model.spec.licensing.kind == "ban"
    assert model.spec.simulation.weeks == 6
    assert model.scenario.rng == 1


def test_conflicting_rng_is_refused_like_mesa():
    with pytest.raises(ValueError, match="rng"):
        MagnetSupplyModel(scenario=RunScenario(rng=1), rng=2)


def test_solaraviz_reset_keeps_the_scenario_and_applies_user_params():
    solara = pytest.importorskip("solara")
    pytest.importorskip("ipyvuetify")
    import ipyvuetify as v
    from mesa.visualization import SolaraViz

    spec = load_scenario("full_ban", weeks=12)
    model = solara.reactive(MagnetSupplyModel(scenario=spec, rng=2))
    slider = {"type": "SliderFloat", "value": 40.0, "label": "subsidy", "min": 0.0, "max": 99.0}

    @solara.component
    def App():
        with solara.AppLayout():
            SolaraViz(model, components=[], model_params={"subsidy_usd_per_kg": slider})

    _box, rc = solara.render(App(), handle_error=False)
    try:
        rc.find(v.Btn, children=["Step"]).widget.click()
        assert model.value.steps == 1
        rc.find(v.Btn, children=["Reset"]).widget.click()  # crashed: scenario slot collision
    finally:
        rc.close()
    rebuilt = model.value
    assert rebuilt.steps == 0
    assert rebuilt.spec.name == "full_ban"
    assert rebuilt.spec.simulation.weeks == 12
    assert rebuilt.spec.licensing.kind == "ban"
    assert rebuilt.spec.incentive.subsidy_usd_per_kg == 40.0


def test_scenario_is_immutable_and_levers_leave_it_unchanged():
    spec = load_scenario("baseline_2025", weeks=10)
    before = spec.sha256()
    with pytest.raises(pydantic.ValidationError):
        spec.incentive.subsidy_usd_per_kg = 99.0
    with pytest.raises(pydantic.ValidationError):
        spec.name = "other"
    model = MagnetSupplyModel(scenario=spec, rng=1)
    model.step()
    model.set_incentive(subsidy_usd_per_kg=60.0, ramp_weeks=10)
    model.set_cover_target_weeks(8.0)
    model.set_policy("ban")
    model.step()
    assert model.incentive.terms.subsidy_usd_per_kg == 60.0
    assert {o.cover_target_weeks for o in model.oems} == {8.0}
    assert spec.sha256() == before
    assert spec.incentive.subsidy_usd_per_kg != 60.0


def test_page_levers_leave_the_scenario_unchanged():
    pytest.importorskip("solara")
    from simulation.page.levers import Levers, levers_from_scenario
    from simulation.page.session import Session

    spec = load_scenario("baseline_2025", weeks=10)
    before = spec.sha256()
    session = Session(spec, 1, levers_from_scenario(spec))
    session.step(2)
    session.change(
        Levers(policy="ban", subsidy_usd_per_kg=70.0, ramp_weeks=5, cover_target_weeks=9)
    )
    session.step(2)
    assert spec.sha256() == before


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"subsidy_usd_per_kg": float("nan")}, "subsidy_usd_per_kg"),
        ({"subsidy_usd_per_kg": -1}, "subsidy_usd_per_kg"),
        ({"award_week": 3}, "cannot change during a run"),
        ({"no_such_field": 1}, "no_such_field"),
    ],
)
def test_set_incentive_validates(changes, match):
    model = MagnetSupplyModel(rng=1, weeks=4)
    with pytest.raises(ValueError, match=match):
        model.set_incentive(**changes)


@pytest.mark.parametrize("weeks", [float("nan"), float("inf"), -1, 53, "3", True])
def test_set_cover_target_validates(weeks):
    model = MagnetSupplyModel(rng=1, weeks=4)
    with pytest.raises(ValueError, match="cover_target_weeks"):
        model.set_cover_target_weeks(weeks)


def test_a_finished_model_leaves_no_scenario_class_behind():
    """Each model's RunScenario class (it carries the spec) dies with the model.

    Mesa's Scenario keeps a per-class id counter; a sweep worker building thousands of models
    grew by ~50 KB a run while that counter held every class and its spec.
    """
    import gc
    import weakref

    model = MagnetSupplyModel(rng=1, weeks=2)
    run_class = weakref.ref(type(model.scenario))
    spec = weakref.ref(model.spec)
    del model
    gc.collect()
    assert run_class() is None and spec() is None
