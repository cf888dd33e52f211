"""The licence desk as reported: many applications per buyer, one shared desk, partial
approvals, licence-free destinations, quota + country terms, suspension and revocation,
per-country end-use rules and the extraterritorial rule (C-LIC-3, -7, -8, -9)."""

from __future__ import annotations

import time
from datetime import date
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mesa import Model

from agents import LicensingAuthority
from simulation import load_scenario
from simulation.errors import ScenarioError
from simulation.policies import (
    Application,
    CaseByCase,
    Licence,
    Preferential,
    Quota,
    Timeline,
    policy_from_config,
    week_of,
)

NOW = 0.0  # no delay: decided the week filed (if the desk has room)


class FakeApplicant:
    """A filer that records what the authority tells it (not ChineseExporter: its API moves)."""

    def __init__(self, unique_id: int = 1) -> None:
        self.unique_id = unique_id
        self.week = 0  # set by the harness before each review
        self.decisions: list[tuple[int, Application, Licence | None]] = []
        self.moot: list[tuple[int, Application]] = []

    def on_decision(self, app: Application, licence: Licence | None) -> None:
        self.decisions.append((self.week, app, licence))

    def on_moot(self, app: Application) -> None:
        self.moot.append((self.week, app))

    @property
    def licences(self) -> list[Licence]:
        return [lic for _, _, lic in self.decisions if lic is not None]


class Desk:
    """An authority, one fake applicant and a week counter."""

    def __init__(self, policy, seed: int = 0, start: date | None = None) -> None:
        self.model = Model(rng=seed)
        if start is not None:
            policy.resolve_dates(start)
        self.authority = LicensingAuthority(self.model, policy)
        self.applicant = FakeApplicant()
        self.applicants = {self.applicant.unique_id: self.applicant}

    def file(self, week, destination="IN", tonnes=10.0, buyer=0, end_use="automotive", **kw):
        return self.authority.file(self.applicant, buyer, destination, end_use, tonnes, week, **kw)

    def review(self, week: int) -> dict:
        self.applicant.week = week
        self.authority.review(week, self.applicants)
        a = self.authority
        return {
            "week": week,
            "approved": a.approved,
            "denied": a.denied,
            "approved_t": a.approved_t,
            "waits": list(a.waits_weeks),
            "queue": len(a.queue),
            "decided_by_destination": dict(a.decided_by_destination),
            "revoked": a.revoked,
        }


def run_desk(policy, filings_per_week, weeks, tonnes=10.0, destination="IN", seed=0):
    """File ``filings_per_week[w]`` applications in week w (one new buyer each); review weekly."""
    desk = Desk(policy, seed=seed)
    log = []
    buyer = 0
    for week in range(weeks):
        desk.authority.start_week()
        for _ in range(filings_per_week[week] if week < len(filings_per_week) else 0):
            buyer += 1
            desk.file(week, destination, tonnes, buyer)
        log.append(desk.review(week))
    return log, desk.applicant


def instant(**kw) -> dict:
    """Policy parameters for decisions in the week of filing."""
    return {"min_delay_working_days": 0, "max_delay_working_days": 0, **kw}


# ---------------------------------------------------------------------- queue and desk


def test_a_buyer_can_have_many_applications_pending():
    desk = Desk(CaseByCase(min_delay_working_days=45, max_delay_working_days=45))
    for buyer in range(3):
        for shipment in range(10):
            desk.file(0, buyer=buyer, order_id=100 * buyer + shipment)
    desk.review(0)
    assert len(desk.authority.queue) == 30 > 3
    assert [desk.authority.pending_count(b) for b in range(3)] == [10, 10, 10]
    assert desk.authority.pending_by_destination() == {"IN": 30}
    assert [a.order_id for a in desk.authority.queue][:3] == [0, 1, 2]
    for week in range(1, 10):
        desk.review(week)
    assert len(desk.applicant.decisions) == 30 and len(desk.authority.queue) == 0
    assert desk.authority.pending_count(0) == 0 and desk.authority.pending_by_destination() == {}
    assert {lic.order_id for lic in desk.applicant.licences} <= set(range(300))


@pytest.mark.parametrize("interleaved", [False, True])
def test_the_weekly_capacity_is_shared_across_destinations_in_filing_order(interleaved):
    desk = Desk(CaseByCase(**instant(review_capacity_per_week=3, approval_probability=1.0)))
    order = ["IN", "DE"] * 10 if interleaved else ["IN"] * 10 + ["DE"] * 10
    for destination in order:
        desk.file(0, destination)
    assert desk.authority.filed_by_destination == {"IN": 10, "DE": 10}
    rows = []
    for week in range(8):
        desk.authority.start_week()
        rows.append(desk.review(week))
    assert [r["approved"] + r["denied"] for r in rows] == [3, 3, 3, 3, 3, 3, 2, 0]
    decided = [app.id for _, app, _ in desk.applicant.decisions]
    assert decided == sorted(decided) == list(range(20))  # FIFO across destinations
    if not interleaved:  # IN's ten go first, then DE's
        assert rows[3]["decided_by_destination"] == {"IN": 1, "DE": 2}
    assert sum(sum(r["decided_by_destination"].values()) for r in rows) == 20


def test_a_held_destination_does_not_block_the_desk_for_others():
    policy = Preferential(
        **instant(review_capacity_per_week=2, approval_probability=1.0),
        countries={"IN": {"hold": True}},
    )
    desk = Desk(policy)
    for destination in ["IN"] * 5 + ["JP"] * 4:
        desk.file(0, destination)
    rows = [desk.review(w) for w in range(3)]
    assert [app.destination for _, app, _ in desk.applicant.decisions] == ["JP"] * 4
    assert rows[-1]["queue"] == 5 and desk.authority.pending_by_destination() == {"IN": 5}


def test_licence_free_destinations_never_need_a_licence_and_never_wait():
    policy = CaseByCase(
        **instant(approval_probability=1.0),
        licence_free=["DE"],
        countries={"VN": {"licence_free": True, "approval_probability": 1.0}},
    )
    assert all(not policy.requires_licence(c, w) for c in ("DE", "VN") for w in range(200))
    assert all(not policy.requires_licence(c, 0, "heavy_re") for c in ("DE", "VN"))
    assert policy.requires_licence("IN", 0) and policy.requires_licence("IN", 0, "heavy_re")
    desk = Desk(policy)
    assert not desk.authority.requires_licence("DE", 0)
    for destination in ("DE", "VN", "IN"):
        desk.file(0, destination)  # a filer that files anyway
    row = desk.review(0)
    assert [app.destination for _, app in desk.applicant.moot] == ["DE", "VN"]
    assert [app.destination for _, app, _ in desk.applicant.decisions] == ["IN"]
    assert row["waits"] == [0] and desk.authority.moot == 2 and row["queue"] == 0


def test_a_destination_made_licence_free_by_a_later_phase_drops_its_pending_applications():
    timeline = Timeline(
        phases=[
            {
                "start_week": 0,
                "policy": {"kind": "preferential", "countries": {"IN": {"hold": True}}},
            },
            {"start_week": 3, "policy": {"kind": "case_by_case", "licence_free": ["IN"]}},
        ]
    )
    desk = Desk(timeline)
    for _ in range(4):
        desk.file(0, "IN")
    desk.file(0, "JP", product="heavy_re")
    for week in range(3):
        desk.review(week)
    assert len(desk.authority.queue) == 5
    desk.review(3)
    assert [app.destination for week, app in desk.applicant.moot if week == 3] == ["IN"] * 4
    assert desk.authority.pending_by_destination() == {"JP": 1}


def test_filing_refuses_an_unknown_product():
    desk = Desk(CaseByCase())
    with pytest.raises(ValueError, match="product must be one of magnet, heavy_re"):
        desk.file(0, product="ore")


# ---------------------------------------------------------------------- decisions


def test_partial_approvals_grant_the_approved_share():
    policy = CaseByCase(
        **instant(approval_probability=1.0, approved_share=0.4),
        countries={"JP": {"approved_share": 0.25}},
    )
    desk = Desk(policy)
    desk.file(0, "IN", tonnes=10.0)
    desk.file(0, "JP", tonnes=10.0, product="heavy_re")
    row = desk.review(0)
    granted = {lic.destination: lic for lic in desk.applicant.licences}
    assert granted["IN"].granted_t == pytest.approx(4.0) == granted["IN"].remaining_t
    assert granted["JP"].granted_t == pytest.approx(2.5) and granted["JP"].product == "heavy_re"
    assert row["approved_t"] == pytest.approx(6.5)
    assert desk.authority.approved_t_by_destination == pytest.approx({"IN": 4.0, "JP": 2.5})


@pytest.mark.parametrize("kind", ["quota", "preferential", "case_by_case"])
@pytest.mark.parametrize("allocation", ["first_come", "pro_rata"])
@given(
    quota=st.floats(0, 120),
    period=st.integers(1, 6),
    filings=st.lists(st.lists(st.sampled_from(["IN", "JP", "DE"]), max_size=6), max_size=20),
    tonnes=st.floats(0.5, 30),
    seed=st.integers(0, 1000),
)
@settings(max_examples=25, deadline=None)
def test_a_quota_and_country_terms_apply_together_in_one_phase(
    kind, allocation, quota, period, filings, tonnes, seed
):
    policy = policy_from_config(
        {
            "kind": kind,
            **instant(approval_probability=1.0),
            "quota_t_per_period": quota,
            "period_weeks": period,
            "allocation": allocation,
            "countries": {"IN": {"approval_probability": 0.0}, "DE": {"approval_probability": 0.5}},
        }
    )
    desk = Desk(policy, seed=seed)
    per_period: dict[int, float] = {}
    for week, destinations in enumerate(filings):
        desk.authority.start_week()
        for destination in destinations:
            desk.file(week, destination, tonnes)
        row = desk.review(week)
        per_period[week // period] = per_period.get(week // period, 0.0) + row["approved_t"]
    assert all(t <= quota + 1e-9 for t in per_period.values())
    assert not any(lic.destination == "IN" for lic in desk.applicant.licences)
    denied_in = [app for _, app, lic in desk.applicant.decisions if app.destination == "IN"]
    assert len(denied_in) == sum(d.count("IN") for d in filings)


def test_quota_with_country_terms_uses_up_the_quota_for_the_approved_countries():
    policy = Quota(
        **instant(),
        quota_t_per_period=25.0,
        period_weeks=2,
        countries={"IN": {"approval_probability": 0.0}},
    )
    desk = Desk(policy)
    for week in range(4):
        for destination in ("IN", "JP", "IN", "JP"):
            desk.file(week, destination, 10.0)
        desk.authority.start_week()
        desk.review(week)
    by_period = {0: 0.0, 1: 0.0}
    for lic in desk.applicant.licences:
        assert lic.destination == "JP"
        by_period[lic.issued_week // 2] += lic.granted_t
    assert by_period == pytest.approx({0: 25.0, 1: 25.0})


def test_a_per_country_end_use_rule_refuses_military_for_japan_only():
    policy = CaseByCase(
        **instant(approval_probability=1.0),
        denied_end_uses=[],
        countries={"JP": {"denied_end_uses": ["military"]}},
    )
    desk = Desk(policy)
    desk.file(0, "JP", end_use="military")
    desk.file(0, "JP", end_use="automotive")
    desk.file(0, "IN", end_use="military")
    desk.review(0)
    outcome = {
        (a.destination, a.end_use): lic is not None for _, a, lic in desk.applicant.decisions
    }
    assert outcome == {
        ("JP", "military"): False,
        ("JP", "automotive"): True,
        ("IN", "military"): True,
    }
    assert policy.decide(
        Application(9, 1, 2, "JP", "military", 1.0, 0), 0, desk.model.rng
    ).reason == ("end use refused")


# ---------------------------------------------------------------------- suspension, revocation


def test_a_suspended_licence_is_unusable_during_the_phase_and_usable_after():
    timeline = Timeline(
        phases=[
            {
                "start_week": 0,
                "policy": {"kind": "case_by_case", **instant(approval_probability=1.0)},
            },
            {"start_week": 5, "policy": {"kind": "case_by_case", "suspend": ["IN"]}},
            {"start_week": 8, "policy": {"kind": "case_by_case"}},
        ]
    )
    desk = Desk(timeline)
    desk.file(0, "IN")
    desk.file(0, "JP")
    desk.review(0)
    india, japan = desk.applicant.licences
    usable = [desk.authority.usable(india, w) for w in range(30)]
    assert usable == [True] * 5 + [False] * 3 + [True] * 18 + [False] * 4  # expires week 25
    assert all(desk.authority.usable(japan, w) for w in range(26))
    for week in range(1, 12):
        desk.review(week)
    assert india.revoked_week is None and india.remaining_t == 10.0
    assert timeline.suspends("IN", 6) and not timeline.suspends("JP", 6)
    assert not timeline.suspends("IN", 8)


@pytest.mark.parametrize("target", ["JP", "*"])
def test_a_licence_revoked_by_a_later_phase_is_unusable_from_then_on(target):
    timeline = Timeline(
        phases=[
            {
                "start_week": 0,
                "policy": {"kind": "case_by_case", **instant(approval_probability=1.0)},
            },
            {
                "start_week": 12,
                "policy": {
                    "kind": "case_by_case",
                    **instant(approval_probability=1.0),
                    "revoke": [target],
                },
            },
        ]
    )
    desk = Desk(timeline)
    desk.file(0, "JP")
    desk.file(0, "IN")
    rows, usable = [], []
    for week in range(20):
        desk.authority.start_week()
        if week == 12:
            desk.file(12, "JP")  # filed and licensed after the revocation: unaffected
        rows.append(desk.review(week))
        usable.append(desk.authority.usable(desk.applicant.licences[0], week))
    japan, india, later = desk.applicant.licences
    assert japan.destination == "JP" and usable == [True] * 12 + [False] * 8
    assert japan.revoked_week == 12 and japan.remaining_t == 0.0 and japan.granted_t == 10.0
    assert rows[12]["revoked"] == (2 if target == "*" else 1)
    assert sum(r["revoked"] for r in rows) == rows[12]["revoked"]  # once, when the phase starts
    assert (india.revoked_week is None) == (target == "JP")
    assert later.issued_week == 12 and later.revoked_week is None
    assert desk.authority.usable(later, 13)
    assert japan not in desk.authority.issued  # pruned
    assert timeline.revokes("JP", 12) and not timeline.revokes("JP", 11)
    with pytest.raises(ValueError, match="pass the week"):
        timeline.revokes("JP")


def test_used_up_and_expired_licences_are_pruned_and_never_usable():
    desk = Desk(CaseByCase(**instant(approval_probability=1.0), validity_weeks=4))
    desk.file(0)
    desk.file(0)
    desk.review(0)
    first, second = desk.applicant.licences
    assert first.expires_week == 3
    assert desk.authority.usable(first, 3) and not desk.authority.usable(first, 4)
    assert not desk.authority.usable(first, -1)  # not yet issued
    second.remaining_t = 0.0
    assert not desk.authority.usable(second, 1)
    for week in range(1, 9):
        desk.review(week)
    assert desk.authority.issued == []


# ---------------------------------------------------------------------- C-LIC-7/8/9 in the schema

OCT_NOV_2025 = """
extends = "baseline_2025.toml"
name = "oct_expansion"
[licensing]
kind = "timeline"
[[licensing.phases]]
start_date = 2025-04-04          # C-LIC-1
[licensing.phases.policy]
kind = "preferential"
approval_probability = 0.6
review_capacity_per_week = 40
[licensing.phases.policy.countries.IN]
hold = true
[[licensing.phases]]
start_date = 2025-10-09          # C-LIC-7: expansion, extraterritorial rule from 1 Dec 2025
[licensing.phases.policy]
kind = "quota"
quota_t_per_period = 500.0
extraterritorial_from_date = 2025-12-01
[licensing.phases.policy.countries.IN]
approval_probability = 0.3
[[licensing.phases]]
start_date = 2025-11-07          # C-LIC-8: October measures suspended, April regime stays
[licensing.phases.policy]
kind = "preferential"
approval_probability = 0.6
[licensing.phases.policy.countries.IN]
approval_probability = 0.3
[[licensing.phases]]
start_date = 2026-01-06          # C-LIC-9: Japanese military end users banned, reviews halted
[licensing.phases.policy]
kind = "preferential"
approval_probability = 0.6
denied_end_uses = []
[licensing.phases.policy.countries.JP]
hold = true
denied_end_uses = ["military"]
"""


def test_the_october_expansion_its_suspension_and_japans_curbs_load_from_a_scenario(tmp_path):
    path = tmp_path / "oct.toml"
    path.write_text(OCT_NOV_2025)
    scenario = load_scenario(path)
    timeline = scenario.licensing
    start = scenario.simulation.start_date
    assert timeline.start_weeks() == [0, 26, 30, 39]
    assert not any(timeline.extraterritorial(w) for w in range(156))  # suspended before 1 Dec
    assert timeline.review_capacity(0) == 40 and timeline.review_capacity(27) is None
    assert timeline.active(27).quota_t_per_period == 500.0
    jp_terms = timeline.active(40).countries["JP"]
    assert jp_terms.hold and jp_terms.denied_end_uses == ["military"]
    # without the November suspension the rule bites from 1 Dec 2025
    no_suspension = OCT_NOV_2025.split("[[licensing.phases]]\nstart_date = 2025-11-07")[0]
    path.write_text(no_suspension)
    expanded = load_scenario(path).licensing
    first = week_of(date(2025, 12, 1), start)
    assert [expanded.extraterritorial(w) for w in (first - 1, first, 100)] == [False, True, True]


def test_extraterritorial_follows_the_phase_and_its_from_date():
    def timeline(with_suspension: bool) -> Timeline:
        phases = [
            {"start_date": "2025-04-04", "policy": {"kind": "preferential"}},
            {
                "start_date": "2025-10-09",
                "policy": {"kind": "case_by_case", "extraterritorial_from_date": "2025-12-01"},
            },
        ]
        if with_suspension:
            phases.append({"start_date": "2025-11-07", "policy": {"kind": "preferential"}})
        return policy_from_config({"kind": "timeline", "phases": phases})

    start = date(2025, 4, 7)
    suspended = timeline(True)
    desk = Desk(suspended, start=start)
    assert not any(desk.authority.extraterritorial(w) for w in range(-5, 160))
    expanded = timeline(False)
    expanded.resolve_dates(start)
    first = week_of(date(2025, 12, 1), start)
    assert [w for w in range(160) if expanded.extraterritorial(w)] == list(range(first, 160))
    week_based = CaseByCase(extraterritorial_from_week=3)
    assert [week_based.extraterritorial(w) for w in (2, 3)] == [False, True]
    unresolved = CaseByCase(extraterritorial_from_date=date(2025, 12, 1))
    with pytest.raises(ValueError, match="resolve_dates"):
        unresolved.extraterritorial(0)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"revoke": ["india"]}, "two capital letters"),
        ({"suspend": ["IND"]}, "two capital letters"),
        ({"licence_free": ["*"]}, "two capital letters"),
        ({"countries": {"jp": {}}}, "two capital letters"),
        (
            {"extraterritorial_from_week": 3, "extraterritorial_from_date": "2025-12-01"},
            "at most one of",
        ),
        ({"extraterritorial_from_week": 5000}, r"allowed range \[0, 1040\]"),
        ({"approved_share": 1.5}, r"approved_share.*allowed range \[0, 1\]"),
        ({"countries": {"JP": {"approved_share": -0.1}}}, r"allowed range \[0, 1\]"),
        ({"countries": {"JP": {"approval_probability": True}}}, "not a boolean"),
        ({"countries": {"JP": {"denied_end_uses": "military"}}}, "list"),
    ],
)
def test_new_desk_parameters_are_validated(override, message):
    with pytest.raises(ScenarioError, match=message):
        load_scenario("baseline_2025", licensing_policy={"kind": "case_by_case", **override})


def test_wildcards_are_allowed_in_revoke_and_suspend():
    policy = CaseByCase(revoke=["*"], suspend=["*", "JP"])
    assert policy.revokes("XX") and policy.suspends("IN", 0)


def test_per_application_holds_are_skipped_in_filing_order():
    class HoldsOddBuyers(CaseByCase):
        """A user policy whose holds are per application, not per destination."""

        kind: Literal["holds_odd_buyers_test"] = "holds_odd_buyers_test"

        def holds(self, application, week):
            return application.buyer_id % 2 == 1 and week < 5

    policy = HoldsOddBuyers(**instant(approval_probability=1.0, review_capacity_per_week=3))
    assert policy.holds_destination("IN", 0) is None
    desk = Desk(policy)
    for buyer in range(10):
        desk.file(0, ("IN", "JP")[buyer % 3 == 0], buyer=buyer)
    decided = []
    for week in range(8):
        desk.review(week)
        decided.append([app.buyer_id for w, app, _ in desk.applicant.decisions if w == week])
    assert decided == [[0, 2, 4], [6, 8], [], [], [], [1, 3, 5], [7, 9], []]


# ---------------------------------------------------------------------- properties


@st.composite
def reviewed_policies(draw) -> dict:
    kind = draw(st.sampled_from(["case_by_case", "quota", "preferential"]))
    low = draw(st.integers(0, 30))
    config = {
        "kind": kind,
        "min_delay_working_days": low,
        "max_delay_working_days": low + draw(st.integers(0, 30)),
        "review_capacity_per_week": draw(st.none() | st.integers(0, 6)),
        "approval_probability": draw(st.floats(0, 1)),
        "approved_share": draw(st.floats(0, 1)),
        "licence_free": draw(st.lists(st.sampled_from(["IN", "JP", "DE"]), max_size=1)),
        "countries": {
            c: {"hold": draw(st.booleans()), "approval_probability": draw(st.floats(0, 1))}
            for c in draw(st.lists(st.sampled_from(["IN", "JP"]), max_size=2, unique=True))
        },
        "revoke": draw(st.lists(st.sampled_from(["IN", "*"]), max_size=1)),
        "suspend": draw(st.lists(st.sampled_from(["JP", "*"]), max_size=1)),
    }
    if kind != "quota" and draw(st.booleans()):
        config["quota_t_per_period"] = draw(st.floats(0, 100))
    return config


@st.composite
def timelines(draw) -> Timeline:
    n = draw(st.integers(1, 3))
    starts = sorted(draw(st.lists(st.integers(0, 25), min_size=n, max_size=n, unique=True)))
    phases = []
    for start in starts:
        policy = draw(st.sampled_from(["open", "ban", "reviewed", "reviewed"]))
        config = draw(reviewed_policies()) if policy == "reviewed" else {"kind": policy}
        phases.append({"start_week": start, "policy": config})
    return Timeline(phases=phases)


@given(
    policy=timelines(),
    filings=st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["IN", "JP", "DE"]),
                st.sampled_from(["automotive", "military"]),
                st.sampled_from(["magnet", "heavy_re"]),
                st.integers(0, 3),  # buyer
            ),
            max_size=8,
        ),
        min_size=1,
        max_size=30,
    ),
    seed=st.integers(0, 10_000),
)
@settings(max_examples=80, deadline=None)
def test_every_application_is_decided_at_most_once_within_capacity_and_after_its_delay(
    policy, filings, seed
):
    desk = Desk(policy, seed=seed)
    authority = desk.authority
    filed = moot = 0
    for week in range(len(filings) + 15):
        authority.start_week()
        for destination, end_use, product, buyer in filings[week] if week < len(filings) else ():
            desk.file(week, destination, 5.0, buyer, end_use, product=product)
        filed += authority.filed
        before = len(desk.applicant.decisions)
        desk.review(week)
        decided_now = desk.applicant.decisions[before:]
        moot += authority.moot
        capacity = policy.review_capacity(week)
        assert authority.approved + authority.denied == len(decided_now)
        if capacity is not None:
            assert len(decided_now) <= capacity
        in_force = policy.active(week)
        for _, app, licence in decided_now:
            assert app.earliest_decision_week <= week  # waits >= the drawn delay
            assert in_force.requires_licence(app.destination, week, app.product)
            assert not in_force.holds(app, week)
            if licence is not None:
                assert licence.issued_week == week and licence.granted_t <= app.tonnes + 1e-9
        # FIFO: nothing older, due and unheld is left waiting while the desk had room
        pending = list(authority.queue)
        assert len(pending) == sum(authority.pending_by_destination().values())
        if decided_now:
            newest = max(app.id for _, app, _ in decided_now)
            skipped = [
                a
                for a in pending
                if a.id < newest
                and a.earliest_decision_week <= week
                and not in_force.holds(a, week)
            ]
            assert not skipped
        if capacity is None or len(decided_now) < capacity:
            assert not [
                a
                for a in pending
                if a.earliest_decision_week <= week and not in_force.holds(a, week)
            ]
    ids = [app.id for _, app, _ in desk.applicant.decisions]
    moot_ids = [app.id for _, app in desk.applicant.moot]
    assert len(ids) == len(set(ids))  # decided at most once
    assert not set(ids) & set(moot_ids) and len(moot_ids) == moot
    assert len(ids) + len(authority.queue) + moot == filed == sum(map(len, filings))
    for buyer in range(4):
        assert authority.pending_count(buyer) == sum(
            1 for a in authority.queue if a.buyer_id == buyer
        )


# ---------------------------------------------------------------------- cost


def test_review_stays_cheap_with_thousands_pending():
    """156 weeks, 100 filings a week, India on hold throughout: ~9,000 pending at the end."""
    policy = Preferential(
        review_capacity_per_week=30, approval_probability=0.6, countries={"IN": {"hold": True}}
    )
    desk = Desk(policy)
    spent = 0.0
    for week in range(156):
        desk.authority.start_week()
        for i in range(100):
            desk.file(week, ("IN", "IN", "IN", "JP", "DE")[i % 5], buyer=i % 40)
        started = time.perf_counter()
        desk.review(week)
        spent += time.perf_counter() - started
    assert len(desk.authority.queue) > 9000
    assert len(desk.authority.issued) < 30 * (26 + 4)  # memory stays flat
    assert spent / 156 < 0.01  # seconds per week (about 0.5 ms measured)
