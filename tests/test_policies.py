"""Each licence policy's contract, checked on the authority's desk and inside the full model."""

from __future__ import annotations

import math
from importlib.metadata import EntryPoint, EntryPoints
from typing import Literal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mesa import Model

from agents import LicensingAuthority
from simulation import MagnetSupplyModel, load_scenario, policies
from simulation.errors import ScenarioError
from simulation.policies import (
    Application,
    Ban,
    CaseByCase,
    Decision,
    Licence,
    Open,
    Preferential,
    Quota,
    Timeline,
    policy_from_config,
    working_days_to_weeks,
)
from tests.test_desk import FakeApplicant, run_desk


def test_working_days_round_up_to_whole_weeks():
    assert working_days_to_weeks(45) == 9
    assert working_days_to_weeks(20) == 4
    assert working_days_to_weeks(21) == 5
    assert working_days_to_weeks(0) == 0


@given(filings=st.lists(st.integers(0, 6), min_size=1, max_size=30))
@settings(max_examples=40, deadline=None)
def test_ban_issues_no_licence_ever(filings):
    log, applicant = run_desk(Ban(), filings, weeks=len(filings) + 5)
    assert sum(row["approved"] for row in log) == 0
    assert applicant.licences == []
    assert len(applicant.decisions) == sum(filings)
    assert all(row["denied"] == n for row, n in zip(log, filings, strict=False))


@given(
    min_days=st.integers(0, 60),
    extra_days=st.integers(0, 40),
    capacity=st.integers(1, 5),
    p=st.floats(0, 1),
    filings=st.lists(st.integers(0, 8), min_size=1, max_size=25),
    seed=st.integers(0, 10_000),
)
@settings(max_examples=60, deadline=None)
def test_case_by_case_respects_delay_and_capacity(min_days, extra_days, capacity, p, filings, seed):
    policy = CaseByCase(
        min_delay_working_days=min_days,
        max_delay_working_days=min_days + extra_days,
        review_capacity_per_week=capacity,
        approval_probability=p,
    )
    log, _ = run_desk(policy, filings, weeks=len(filings) + 40, seed=seed)
    min_weeks = working_days_to_weeks(min_days)
    max_weeks = working_days_to_weeks(min_days + extra_days)
    for row in log:
        assert row["approved"] + row["denied"] <= capacity
        assert all(wait >= min_weeks for wait in row["waits"])
    decided = sum(row["approved"] + row["denied"] for row in log)
    assert decided + log[-1]["queue"] == sum(filings)
    if sum(filings) <= capacity:  # a desk with room decides each one as soon as it may
        assert all(w <= max_weeks for row in log for w in row["waits"])


def test_case_by_case_approval_rate_matches_probability():
    policy = CaseByCase(
        min_delay_working_days=0, max_delay_working_days=0, approval_probability=0.3
    )
    log, _ = run_desk(policy, [50] * 40, weeks=41, seed=3)
    approved = sum(r["approved"] for r in log)
    decided = approved + sum(r["denied"] for r in log)
    assert decided == 2000
    assert abs(approved / decided - 0.3) < 0.04


def test_case_by_case_refuses_military_end_use():
    policy = CaseByCase(
        min_delay_working_days=0, max_delay_working_days=0, approval_probability=1.0
    )
    app = Application(0, 1, 2, "IN", "military", 5.0, 0)
    assert not policy.decide(app, 0, np.random.default_rng(0)).approved
    app.end_use = "automotive"
    assert policy.decide(app, 0, np.random.default_rng(0)).approved_tonnes == 5.0


@pytest.mark.parametrize("allocation", ["first_come", "pro_rata"])
@given(
    quota=st.floats(0, 200),
    period=st.integers(1, 10),
    filings=st.lists(st.integers(0, 6), min_size=1, max_size=30),
    tonnes=st.floats(0.5, 50),
)
@settings(max_examples=40, deadline=None)
def test_quota_never_exceeds_quota(allocation, quota, period, filings, tonnes):
    policy = Quota(
        quota_t_per_period=quota,
        period_weeks=period,
        allocation=allocation,
        min_delay_working_days=0,
        max_delay_working_days=0,
    )
    log, _ = run_desk(policy, filings, weeks=len(filings), tonnes=tonnes)
    per_period: dict[int, float] = {}
    for row in log:
        per_period[row["week"] // period] = (
            per_period.get(row["week"] // period, 0) + row["approved_t"]
        )
    assert all(t <= quota + 1e-9 for t in per_period.values())
    # first come: when demand in a period exceeds the quota, the quota is used up exactly
    if allocation == "first_come":
        demand: dict[int, float] = {}
        for week, n in enumerate(filings):
            demand[week // period] = demand.get(week // period, 0) + n * tonnes
        for p, t in per_period.items():
            assert t == pytest.approx(min(quota, demand.get(p, 0)), abs=1e-6)


def test_quota_pro_rata_shares_a_short_quota_equally():
    policy = Quota(
        quota_t_per_period=30,
        period_weeks=4,
        allocation="pro_rata",
        min_delay_working_days=0,
        max_delay_working_days=0,
    )
    _, applicant = run_desk(policy, [6], weeks=1, tonnes=10.0)
    granted = [lic.granted_t for lic in applicant.licences]
    assert granted == pytest.approx([5.0] * 6)


def test_timeline_switches_on_the_stated_weeks():
    timeline = Timeline(
        phases=[
            {"start_week": 0, "policy": {"kind": "ban"}},
            {"start_week": 10, "policy": {"kind": "open"}},
            {"start_week": 20, "policy": {"kind": "case_by_case", "approval_probability": 1.0}},
        ]
    )
    kinds = [timeline.active(w).kind for w in range(30)]
    assert kinds == ["ban"] * 10 + ["open"] * 10 + ["case_by_case"] * 10
    assert [timeline.requires_licence("IN", w) for w in (0, 9, 10, 19, 20)] == [
        True,
        True,
        False,
        False,
        True,
    ]


def test_timeline_switches_in_the_model():
    phases = [
        {"start_week": 0, "policy": {"kind": "ban"}},
        {"start_week": 10, "policy": {"kind": "open"}},
        {"start_week": 20, "policy": {"kind": "ban"}},
    ]
    model = MagnetSupplyModel(
        rng=1, licensing_policy={"kind": "timeline", "phases": phases}, weeks=30
    )
    model.run_for(30)
    df = model.datacollector.get_model_vars_dataframe()
    exports = df["china_controlled_exports_t"].to_numpy()
    assert np.all(exports[:10] == 0)
    assert np.all(exports[10:20] > 0)
    assert np.all(exports[20:] == 0)


def test_timeline_dates_become_weeks_and_must_increase():
    timeline = policy_from_config(
        {
            "kind": "timeline",
            "phases": [
                {"start_date": "2025-04-04", "policy": {"kind": "ban"}},
                {"start_date": "2025-06-02", "policy": {"kind": "open"}},
            ],
        }
    )
    from datetime import date

    timeline.resolve_dates(date(2025, 4, 7))
    assert timeline.start_weeks() == [0, 8]
    with pytest.raises(ValueError, match="increasing"):
        policy_from_config(
            {
                "kind": "timeline",
                "phases": [
                    {"start_week": 5, "policy": {"kind": "ban"}},
                    {"start_week": 5, "policy": {"kind": "open"}},
                ],
            }
        )
    mixed = policy_from_config(
        {
            "kind": "timeline",
            "phases": [
                {"start_date": "2025-06-02", "policy": {"kind": "ban"}},
                {"start_week": 3, "policy": {"kind": "open"}},
            ],
        }
    )
    with pytest.raises(ValueError, match="increasing"):
        mixed.resolve_dates(date(2025, 4, 7))


def test_preferential_treats_destinations_differently_in_the_model():
    policy = {
        "kind": "preferential",
        "approval_probability": 1.0,
        "min_delay_working_days": 5,
        "max_delay_working_days": 5,
        "countries": {"IN": {"approval_probability": 0.0}},
    }
    model = MagnetSupplyModel(rng=2, licensing_policy=policy, weeks=40)
    model.run_for(40)
    df = model.datacollector.get_model_vars_dataframe()
    assert df["china_licensed_exports_t__IN"].sum() == 0
    assert df["china_licensed_exports_t__JP"].sum() > 0
    assert model.authority.approved_by_country.get("IN", 0) == 0


def test_preferential_country_delay_overrides_default():
    policy = Preferential(
        min_delay_working_days=5,
        max_delay_working_days=5,
        approval_probability=1.0,
        countries={
            "JP": {
                "approval_probability": 1.0,
                "min_delay_working_days": 45,
                "max_delay_working_days": 45,
            }
        },
    )
    rng = np.random.default_rng(0)
    jp = Application(0, 1, 2, "JP", "automotive", 1.0, 0)
    india = Application(1, 1, 3, "IN", "automotive", 1.0, 0)
    assert policy.draw_delay_weeks(jp, 0, rng) == 9
    assert policy.draw_delay_weeks(india, 0, rng) == 1


def test_open_needs_no_licence_and_ships_from_week_zero():
    model = MagnetSupplyModel(rng=1, licensing_policy="open", weeks=10)
    model.run_for(10)
    df = model.datacollector.get_model_vars_dataframe()
    assert df["licence_applications"].sum() == 0
    assert (df["china_exports_t"] > 0).all()
    assert not Open().requires_licence("IN", 0)


def test_ban_in_the_model_ships_nothing_to_anyone():
    model = MagnetSupplyModel(rng=1, licensing_policy="ban", weeks=30)
    model.run_for(30)
    df = model.datacollector.get_model_vars_dataframe()
    assert df["licences_issued_total"].max() == 0
    assert df["china_controlled_exports_t"].sum() == 0
    assert df["licence_applications"].sum() > 0


def test_expired_licence_cannot_be_used():
    model = Model(rng=0)
    authority = LicensingAuthority(model, CaseByCase())
    licence = Licence(
        id=0,
        applicant_id=1,
        buyer_id=7,
        destination="IN",
        product="magnet",
        granted_t=5.0,
        remaining_t=5.0,
        issued_week=0,
        expires_week=3,
    )
    assert authority.usable(licence, 3)
    assert not authority.usable(licence, 4)


def test_the_applicant_hears_of_every_decision_with_its_licence():
    applicant = FakeApplicant(unique_id=5)
    authority = LicensingAuthority(
        Model(rng=0),
        Preferential(
            min_delay_working_days=0,
            max_delay_working_days=0,
            approval_probability=1.0,
            countries={"IN": {}},
        ),
    )
    india = authority.file(applicant, 3, "IN", "automotive", 4.0, 0, order_id=11)
    japan = authority.file(applicant, 4, "JP", "automotive", 6.0, 0)
    authority.review(0, {5: applicant})
    (_, app_in, lic_in), (_, app_jp, lic_jp) = applicant.decisions
    assert (app_in, lic_in) == (india, None)  # listed under preferential without a probability: 0
    assert app_jp is japan and lic_jp.applicant_id == 5 and lic_jp.buyer_id == 4
    assert (lic_jp.granted_t, lic_jp.issued_week, lic_jp.expires_week) == (6.0, 0, 25)
    assert authority.issued == [lic_jp] and authority.licences_issued_total == 1


class _EveryOtherWeek(CaseByCase):
    """A user-written policy: approves in even weeks only."""

    kind: Literal["every_other_week_test"] = "every_other_week_test"

    def decide(self, application, week, rng):
        return Decision(application.tonnes if week % 2 == 0 else 0.0, self.validity_weeks)


def test_a_user_policy_is_one_class_named_in_a_scenario():
    model = MagnetSupplyModel(
        rng=1,
        licensing_policy={
            "kind": "every_other_week_test",
            "min_delay_working_days": 0,
            "max_delay_working_days": 0,
        },
        weeks=12,
    )
    model.run_for(12)
    df = model.datacollector.get_model_vars_dataframe()
    assert (df.loc[df.week % 2 == 1, "licences_approved"] == 0).all()
    assert df.loc[df.week % 2 == 0, "licences_approved"].sum() > 0


def _register(monkeypatch, **kinds: str) -> None:
    """Pretend installed packages declare ``[project.entry-points."magshock.policies"]``."""
    found = EntryPoints(EntryPoint(k, v, "magshock.policies") for k, v in kinds.items())
    monkeypatch.setattr(policies, "entry_points", lambda **select: found.select(**select))


def test_a_policy_registered_by_entry_point_is_loaded_by_its_kind(tmp_path, monkeypatch):
    (tmp_path / "lottery_plugin.py").write_text(
        "from typing import Literal\n"
        "from simulation.policies import CaseByCase\n\n\n"
        "class Lottery(CaseByCase):\n"
        '    kind: Literal["lottery_by_entry_point"] = "lottery_by_entry_point"\n'
    )
    monkeypatch.syspath_prepend(tmp_path)
    _register(monkeypatch, lottery_by_entry_point="lottery_plugin:Lottery")
    scenario = load_scenario("baseline_2025", licensing_policy="lottery_by_entry_point")
    assert type(scenario.licensing).__name__ == "Lottery"
    assert scenario.licensing.kind == "lottery_by_entry_point"


def test_an_entry_point_that_is_not_a_policy_is_refused(monkeypatch):
    _register(monkeypatch, not_a_policy="collections:OrderedDict")
    with pytest.raises(ScenarioError, match="not a LicencePolicy subclass") as info:
        load_scenario("baseline_2025", licensing_policy="not_a_policy")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("kind", ["os:system", "simulation.policies:Ban", "math:pi"])
def test_a_scenario_cannot_name_a_policy_by_import_path(kind):
    with pytest.raises(ScenarioError, match=f"unknown licence policy kind '{kind}'; allowed: "):
        load_scenario("baseline_2025", licensing_policy=kind)


def test_unknown_policy_kind_is_a_scenario_error():
    with pytest.raises(ScenarioError, match="unknown licence policy kind 'bann'"):
        load_scenario("baseline_2025", licensing_policy="bann")


def test_policy_parameters_are_validated():
    with pytest.raises(ScenarioError, match=r"approval_probability.*allowed range \[0, 1\]"):
        load_scenario("case_by_case", approval_probability=2)
    with pytest.raises(ScenarioError, match="max_delay_working_days must be >="):
        load_scenario("case_by_case", min_delay_working_days=30, max_delay_working_days=10)
    assert math.isclose(
        load_scenario("case_by_case", approval_probability=0.2).licensing.approval_probability, 0.2
    )


@given(
    min_days=st.integers(0, 60),
    extra_days=st.integers(0, 40),
    filings=st.lists(st.integers(0, 8), min_size=1, max_size=20),
    seed=st.integers(0, 10_000),
)
@settings(max_examples=40, deadline=None)
def test_unlimited_desk_decides_every_application_within_the_statutory_window(
    min_days, extra_days, filings, seed
):
    policy = CaseByCase(
        min_delay_working_days=min_days, max_delay_working_days=min_days + extra_days
    )
    log, _ = run_desk(policy, filings, weeks=len(filings) + 20, seed=seed)
    waits = [w for row in log for w in row["waits"]]
    assert len(waits) == sum(filings) and log[-1]["queue"] == 0
    low, high = working_days_to_weeks(min_days), working_days_to_weeks(min_days + extra_days)
    assert all(low <= w <= high for w in waits)


def test_timeline_before_its_first_phase_is_the_open_regime():
    from datetime import date

    model = MagnetSupplyModel(rng=1, start_date=date(2025, 3, 3), weeks=8)
    model.run_for(8)
    df = model.datacollector.get_model_vars_dataframe()
    assert (df["china_exports_t"].iloc[:4] > 0).all()  # 3 Mar .. 24 Mar: no controls yet
    assert df["licence_applications"].iloc[:4].sum() == 0
    assert df["licence_applications"].iloc[4] > 0  # week of 31 Mar holds 4 Apr 2025


def test_timeline_dates_follow_the_start_date_of_each_run():
    from datetime import date

    scenario = load_scenario("baseline_2025")
    # 4 Apr 2025, 9 Oct 2025, 30 Oct 2025, 7 Nov 2025, 6 Jan 2026 (C-LIC-1, -7, -6, -8, -9)
    assert scenario.licensing.start_weeks() == [0, 26, 29, 30, 39]
    earlier = MagnetSupplyModel(scenario=scenario, rng=1, start_date=date(2025, 1, 6))
    assert earlier.authority.policy.start_weeks() == [12, 39, 42, 43, 52]
    # phases dated before the start collapse to week 0; the latest of them is in force
    late = load_scenario("baseline_2025", start_date=date(2026, 2, 2))
    assert late.licensing.start_weeks() == [0, 0, 0, 0, 0]
    assert late.licensing.active(0) is late.licensing.phases[4].policy


def test_a_scenario_built_from_a_mapping_resolves_its_dates():
    from simulation import Scenario

    raw = load_scenario("baseline_2025").model_dump(serialize_as_any=True)
    assert Scenario.model_validate(raw).licensing.start_weeks() == [0, 26, 29, 30, 39]


def test_a_user_policy_that_forgets_its_kind_is_refused():
    with pytest.raises(TypeError, match="kind 'case_by_case' is taken"):

        class Strict(CaseByCase):  # no kind of its own
            def decide(self, application, week, rng):
                return Decision(0.0)

    assert load_scenario("case_by_case").licensing.__class__ is CaseByCase


def test_override_for_a_parameter_the_policy_lacks_says_so():
    with pytest.raises(ScenarioError, match="not a parameter of licence policy 'ban'"):
        load_scenario("full_ban", approval_probability=0.3)
