"""Licence-granting policies of the Chinese licensing authority (MOFCOM).

Each policy is one small pydantic class: its fields are the policy's parameters (validated
when a scenario is loaded, with units in their names) and its methods are the behaviour the
:class:`agents.authority.LicensingAuthority` calls each week:

* ``requires_licence(destination, week, product)`` – must an export to ``destination`` carry a
  licence?
* ``review_capacity(week)`` – how many applications the one review desk can decide this week,
  all destinations together (``None`` = no limit)
* ``draw_delay_weeks(application, week, rng)`` – weeks from filing until a decision is allowed
* ``holds(application, week)`` – does the desk sit on an application (queued, undecided)?
* ``decide(application, week, rng) -> Decision`` – approve (fully or partly) or deny
* ``suspends(destination, week)`` – are licences for ``destination`` unusable while this policy
  is in force (usable again afterwards, if unexpired)?
* ``revokes(destination)`` – are licences issued earlier for ``destination`` revoked for good
  when this policy comes into force?
* ``extraterritorial(week)`` – do non-Chinese makers' controlled-grade magnets made with
  Chinese-origin heavy rare earths also need a Chinese licence (C-LIC-7)?

The reviewed kinds (``case_by_case``, ``quota``, ``preferential``) share one set of knobs
(:class:`_Reviewed`): per-country terms, licence-free destinations, partial approvals, an
optional tonnage quota on top of the approval draw, revocation, suspension and the
extraterritorial rule. One phase of a :class:`Timeline` can therefore combine a quota with
per-country terms, and a later phase can suspend or revoke what an earlier one granted.

A user adds a policy by subclassing :class:`LicencePolicy` with a new ``kind`` literal; the class
registers itself when its module is imported, and scenario files can then say
``kind = "my_policy"``. For the command line, a package makes its policies known through the
entry-point group ``magshock.policies`` (in its ``pyproject.toml``:
``[project.entry-points."magshock.policies"]`` ``my_policy = "mypackage.policies:MyPolicy"``);
such a class is imported only when a scenario names that registered kind. A scenario file can
never name a module: validating a file runs no code from it.

Modules: :mod:`~simulation.policies.records` (applications, decisions, licences, the week
clock), :mod:`~simulation.policies.base` (the interface, Open, Ban),
:mod:`~simulation.policies.terms` (per-country terms), :mod:`~simulation.policies.reviewed`
(the reviewed kinds), :mod:`~simulation.policies.timeline` (phases); this package imports the
public names from them and looks kinds up (:func:`policy_from_config`).
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from simulation.policies.base import Ban, LicencePolicy, Open, refuse_bools_for_numbers
from simulation.policies.records import (
    PRODUCTS,
    WORKING_DAYS_PER_WEEK,
    Application,
    Decision,
    Licence,
    Product,
    week_of,
    working_days_to_weeks,
)
from simulation.policies.reviewed import CaseByCase, Preferential, Quota
from simulation.policies.terms import ALL, CountryTerms
from simulation.policies.timeline import Phase, Timeline

__all__ = [
    "ALL",
    "ENTRY_POINT_GROUP",
    "PRODUCTS",
    "WORKING_DAYS_PER_WEEK",
    "Application",
    "Ban",
    "CaseByCase",
    "CountryTerms",
    "Decision",
    "Licence",
    "LicencePolicy",
    "Open",
    "Phase",
    "Preferential",
    "Product",
    "Quota",
    "Timeline",
    "policy_class",
    "policy_from_config",
    "policy_kinds",
    "refuse_bools_for_numbers",
    "week_of",
    "working_days_to_weeks",
]

ENTRY_POINT_GROUP = "magshock.policies"


def policy_from_config(config: Any) -> LicencePolicy:
    """Build a policy object from a mapping with a ``kind`` key (or pass a policy through)."""
    if isinstance(config, LicencePolicy):
        return config
    if not isinstance(config, dict):
        raise ValueError("a licence policy must be a table with a 'kind' key")
    kind = config.get("kind")
    if not isinstance(kind, str):
        raise ValueError(f"licence policy needs kind = one of {', '.join(policy_kinds())}")
    cls = policy_class(kind)
    # An entry point may name a class by another kind: it validates under its own.
    return cls.model_validate({**config, "kind": cls.model_fields["kind"].default})


def policy_kinds() -> list[str]:
    """Every kind a scenario may name: defined policy classes and registered entry points."""
    registered = (ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return sorted({*LicencePolicy.registry, *registered})


def policy_class(kind: str) -> type[LicencePolicy]:
    """Look up a policy class by kind: a defined class, else a ``magshock.policies`` entry point.

    Nothing else is ever imported, so a scenario file cannot make magshock run code.

    Raises:
        ValueError: one line, for an unknown kind (listing the allowed ones) or an entry point
            that fails to load or is not a :class:`LicencePolicy` subclass.
    """
    if kind in LicencePolicy.registry:
        return LicencePolicy.registry[kind]
    for ep in entry_points(group=ENTRY_POINT_GROUP, name=kind):
        try:
            cls = ep.load()
        except (ImportError, AttributeError) as err:
            raise ValueError(
                f"licence policy kind {kind!r}: cannot load {ep.value}: {err}"
            ) from None
        if isinstance(cls, type) and issubclass(cls, LicencePolicy):
            return cls
        raise ValueError(
            f"licence policy kind {kind!r}: entry point {ep.value} is not a LicencePolicy subclass"
        )
    raise ValueError(f"unknown licence policy kind {kind!r}; allowed: {', '.join(policy_kinds())}")
