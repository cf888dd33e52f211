"""What the user can set on the page, and the checks of what a client sends for it.

:class:`Levers` holds the positions, :data:`SLIDERS` their ranges and steps; a client may send
any value over the websocket, so :func:`checked_lever` and :func:`parse_seed` take only what
the page's own controls could have sent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from simulation.scenario import Scenario
from simulation.spread import central

POLICY_KINDS = ["scenario", "open", "case_by_case", "quota", "ban"]
SEED_LIMIT = 2**63  # seeds typed into the page: 0 <= seed < SEED_LIMIT
# (lever, label with unit, min, max, step): integer steps make integer sliders
SLIDERS: list[tuple[str, str, float, float, float | int]] = [
    ("approval_probability", "Approval probability", 0, 1, 0.05),
    ("review_capacity_per_week", "Review capacity /week (0 = no limit)", 0, 40, 1),
    ("min_delay_working_days", "Review delay (working days)", 0, 90, 1),
    ("subsidy_usd_per_kg", "Subsidy (USD/kg)", 0, 100, 1.0),
    ("ramp_weeks", "Domestic ramp-up (weeks)", 0, 156, 1),
    ("cover_target_weeks", "OEM stockpile target (weeks)", 0, 26, 0.5),
]
LEVER_RANGES = {lever: (label, low, high, step) for lever, label, low, high, step in SLIDERS}


@dataclass
class Levers:
    """What the user can change (units in the names)."""

    policy: str = "scenario"
    approval_probability: float = 0.5
    review_capacity_per_week: int = 0  # 0 = unlimited
    min_delay_working_days: int = 20
    subsidy_usd_per_kg: float = 25.0
    ramp_weeks: int = 52
    cover_target_weeks: float = 2.5

    def policy_config(self) -> dict[str, Any] | None:
        """The licence policy these levers describe (None = the scenario's own)."""
        if self.policy == "scenario":
            return None
        if self.policy in ("open", "ban"):
            return {"kind": self.policy}
        config: dict[str, Any] = {
            "kind": self.policy,
            "min_delay_working_days": self.min_delay_working_days,
            "max_delay_working_days": max(45, self.min_delay_working_days),
            "review_capacity_per_week": self.review_capacity_per_week or None,
        }
        if self.policy == "case_by_case":
            config["approval_probability"] = self.approval_probability
        return config


def levers_from_scenario(scenario: Scenario) -> Levers:
    """Initial lever positions read from a scenario."""
    oems = scenario.oems
    return Levers(
        subsidy_usd_per_kg=scenario.incentive.subsidy_usd_per_kg,
        ramp_weeks=scenario.incentive.ramp_weeks,
        # the slider moves in half weeks: snap, or the page would report a change on load
        cover_target_weeks=round(2 * sum(central(o.cover_target) for o in oems) / len(oems)) / 2,
    )


def parse_seed(text: Any) -> int | None:
    """A seed typed into the page, or None unless it is ASCII digits for 0 <= seed < 2**63.

    ``str.isdigit`` alone would pass ``"²"`` or other Unicode digits (``int`` then raises)
    and any number of digits; the text comes from the client, so check it here.
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not (0 < len(text) <= len(str(SEED_LIMIT)) and text.isascii() and text.isdigit()):
        return None
    seed = int(text)
    return seed if seed < SEED_LIMIT else None


def checked_lever(name: str, value: Any) -> str | int | float:
    """``value`` for lever ``name`` if the page's own control could have sent it.

    Args:
        name: a lever of :class:`Levers`.
        value: what the client sent (any JSON value).

    Returns:
        The value as the lever holds it (int for integer sliders).

    Raises:
        ValueError: naming the lever and the values it takes.
    """
    if name == "policy":
        if isinstance(value, str) and value in POLICY_KINDS:
            return value
        raise ValueError(f"Licence policy must be one of {', '.join(POLICY_KINDS)}")
    label, low, high, step = LEVER_RANGES[name]
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not (number and math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{label} must be a number from {low:g} to {high:g}")
    if isinstance(step, int):
        if value != int(value):
            raise ValueError(f"{label} must be a whole number from {low:g} to {high:g}")
        return int(value)
    return float(value)
