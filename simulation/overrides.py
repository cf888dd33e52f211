"""Flat keyword overrides of a raw scenario mapping (``weeks=10``, ``oems__china_share=0``).

A flat name sets the field wherever it occurs in the scenario sections and the licence policy;
``section__field`` targets one section (see :func:`apply_overrides`).
"""

from __future__ import annotations

import copy
import difflib
from typing import Any

from pydantic import BaseModel

from simulation.errors import ScenarioError
from simulation.policies import LicencePolicy, Timeline, policy_class
from simulation.scenario import (
    BuyerConfig,
    CustomsConfig,
    DomesticProducerConfig,
    ExporterConfig,
    IncentiveConfig,
    IRELConfig,
    MarketConfig,
    OEMConfig,
    RestOfWorldConfig,
    SimulationConfig,
)

_SINGLE_SECTIONS: dict[str, type[BaseModel]] = {
    "simulation": SimulationConfig,
    "market": MarketConfig,
    "customs": CustomsConfig,
    "irel": IRELConfig,
    "incentive": IncentiveConfig,
}
_LIST_SECTIONS: dict[str, type[BaseModel]] = {
    "exporters": ExporterConfig,
    "oems": OEMConfig,
    "buyers": BuyerConfig,
    "domestic_producers": DomesticProducerConfig,
    "rest_of_world": RestOfWorldConfig,
}
_NOT_FLAT = {"name", "description"}


def flat_parameter_names() -> list[str]:
    """All names accepted as flat keyword overrides (``licensing_policy`` plus field names)."""
    names = {"licensing_policy"}
    for cls in (*_SINGLE_SECTIONS.values(), *_LIST_SECTIONS.values()):
        names.update(f for f in cls.model_fields if f not in _NOT_FLAT)
    for cls in LicencePolicy.registry.values():
        names.update(f for f in cls.model_fields if f not in {"kind", "phases"})
    return sorted(names)


def _set_in_policy(policy: dict[str, Any], field: str, value: Any) -> bool:
    """Set ``field`` on a raw policy table (and on each timeline phase that has it)."""
    kind = policy.get("kind", "open")
    try:
        cls = policy_class(kind)
    except ValueError:
        return False
    if kind == "timeline" or cls is Timeline:
        hit = False
        for phase in policy.get("phases", []):
            if isinstance(phase, dict) and isinstance(phase.get("policy"), dict):
                hit = _set_in_policy(phase["policy"], field, value) or hit
        return hit
    if field in cls.model_fields and field != "kind":
        policy[field] = value
        return True
    return False


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Apply flat keyword overrides to a raw scenario mapping (returns a new mapping).

    A flat name sets the field wherever it occurs: in the single sections (simulation, market,
    irel, incentive), in every entry of the list sections (oems, exporters, ...) and in the
    licence policy (every timeline phase that has it). ``section__field`` targets one section.
    ``licensing_policy="ban"`` replaces the policy by that kind with its defaults.

    Raises:
        ScenarioError: for a name that matches no field (with a suggestion).
    """
    data = copy.deepcopy(raw)
    items = dict(overrides)
    if "licensing_policy" in items:
        value = items.pop("licensing_policy")
        data["licensing"] = dict(value) if isinstance(value, dict) else {"kind": value}
    for name, value in items.items():
        section, _, field = name.rpartition("__")
        targets = [section] if section else [*_SINGLE_SECTIONS, *_LIST_SECTIONS, "licensing"]
        hit = False
        for target in targets:
            if target == "licensing":
                policy = data.setdefault("licensing", {"kind": "open"})
                hit = (isinstance(policy, dict) and _set_in_policy(policy, field, value)) or hit
            elif target in _SINGLE_SECTIONS and field in _SINGLE_SECTIONS[target].model_fields:
                data.setdefault(target, {})[field] = value
                hit = True
            elif target in _LIST_SECTIONS and field in _LIST_SECTIONS[target].model_fields:
                for entry in data.get(target, []):
                    entry[field] = value
                hit = hit or bool(data.get(target))
        if not hit and any(field in c.model_fields for c in LicencePolicy.registry.values()):
            kind = data.get("licensing", {}).get("kind", "open")
            raise ScenarioError(
                f"override {name!r}: not a parameter of licence policy {kind!r} "
                f"(set licensing_policy to a kind that has it)"
            )
        if not hit:
            guess = difflib.get_close_matches(name, flat_parameter_names(), n=1)
            hint = f"; did you mean {guess[0]!r}?" if guess else ""
            raise ScenarioError(f"override {name!r}: no such scenario parameter{hint}")
    return data
