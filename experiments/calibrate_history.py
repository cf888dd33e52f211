"""The history replay's free parameters: their names, allowed ranges and where they live.

CALIBRATION.md ("Calibration and validation") allows the history scenario to be fitted only
to C-LIC-5 (all-destination exports April-July 2025, the May and July 2025 destination
splits, H1 2025 EU and US), SF-2, SF-3 and SF-4, and only through values marked
"assumption" in the scenario files (customs identification, grade mix and free-only share,
cover within C-IN-2/C-IN-7, licence patience, approval chances and shares, the desk's
capacity, exporters' held stock, OEMs' announced-cut horizon, buyers' supplier switching
speed). :data:`SPACE` names them with the range each may take, :func:`apply` sets them in a
raw scenario mapping and :func:`current` reads them back. The calibration itself is the
declared ABC-SMC of :mod:`experiments.abc` (``magshock calibrate``), which replaced the
seeded Nelder-Mead search this module used to run.
"""

from __future__ import annotations

import copy
from typing import Any

REGIONS = ("DE", "XE", "US", "KR", "JP", "IN", "VN", "XX")

# name: (low, high); the ranges CALIBRATION.md or plausibility allow (priors must lie inside).
SPACE: dict[str, tuple[float, float]] = {
    "customs_t": (50.0, 1500.0),
    "customs_growth": (0.0, 200.0),
    "p_all": (0.3, 1.0),
    "p_jp": (0.3, 1.0),
    "p_us": (0.1, 1.0),
    "delay_min": (20.0, 45.0),  # C-LIC-2: 20-45 working days (April phase)
    "approved_share": (0.3, 1.0),
    "review_capacity": (5.0, 60.0),
    "patience": (4.0, 26.0),
    "max_held": (0.0, 12.0),
    **{f"cs_{c}": (0.05, 0.95) for c in REGIONS},
    "cs_in_oem": (0.3, 1.0),
    **{f"cover_{c}": (2.0, 6.0) for c in REGIONS},  # C-IN-7: 2-6 weeks
    "cover_jp_compact": (2.0, 6.0),
    "plan_h": (0.0, 8.0),  # OEMs' announced-cut horizon, weeks (assumption)
    "switching": (0.005, 0.2),  # buyers' supplier switching speed, 1/week (assumption)
    **{f"fo_{c}": (0.0, 0.8) for c in REGIONS},  # free-only line's share (C-LIC-4, C-LIC-10)
}


def apply(raw: dict[str, Any], x: dict[str, float]) -> dict[str, Any]:
    """A copy of the raw scenario mapping with the parameters ``x`` set (missing keys kept)."""
    data = copy.deepcopy(raw)
    cus = data["customs"]
    cus["identification_t_per_week"] = x.get("customs_t", cus["identification_t_per_week"])
    cus["identification_growth_t_per_week_per_week"] = x.get(
        "customs_growth", cus["identification_growth_t_per_week_per_week"]
    )
    if "customs_weeks" in x:
        cus["identification_weeks"] = round(x["customs_weeks"])
    for phase in data["licensing"]["phases"]:
        pol = phase["policy"]
        pol["approval_probability"] = x.get("p_all", pol["approval_probability"])
        pol["approved_share"] = x.get("approved_share", pol["approved_share"])
        if "review_capacity" in x:
            pol["review_capacity_per_week"] = round(x["review_capacity"])
        jp = pol["countries"]["JP"]
        jp["approval_probability"] = x.get("p_jp", jp["approval_probability"])
    april = data["licensing"]["phases"][0]["policy"]
    if "delay_min" in x:
        april["min_delay_working_days"] = round(x["delay_min"])
    if "p_us" in x:
        april["countries"]["US"] = {"approval_probability": x["p_us"]}
    if "switching" in x:
        data["market"]["supplier_switching_per_week"] = x["switching"]
    for exp in data["exporters"]:
        exp["max_held_weeks"] = x.get("max_held", exp["max_held_weeks"])
    for buyer in data["buyers"]:
        c = buyer["country"]
        if c == "CN":
            continue
        buyer["licence_patience_weeks"] = x.get("patience", buyer["licence_patience_weeks"])
        buyer["controlled_share"] = x.get(f"cs_{c}", buyer["controlled_share"])
        buyer["free_only_share"] = x.get(f"fo_{c}", buyer.get("free_only_share", 0.0))
        if f"cover_{c}" in x:
            buyer["initial_inventory_weeks"] = buyer["cover_target_weeks"] = x[f"cover_{c}"]
    for oem in data["oems"]:
        oem["plan_horizon_weeks"] = x.get("plan_h", oem["plan_horizon_weeks"])
        if oem["country"] == "IN":
            oem["controlled_share"] = x.get("cs_in_oem", oem["controlled_share"])
        if oem["name"] == "jp-compact" and "cover_jp_compact" in x:
            oem["initial_inventory_weeks"] = oem["cover_target_weeks"] = x["cover_jp_compact"]
    return data


def current(raw: dict[str, Any]) -> dict[str, float]:
    """The scenario's present values of the calibrated parameters."""
    phase = raw["licensing"]["phases"][0]["policy"]
    by_country = {b["country"]: b for b in raw["buyers"]}
    x = {
        "customs_t": raw["customs"]["identification_t_per_week"],
        "customs_growth": raw["customs"]["identification_growth_t_per_week_per_week"],
        "p_all": phase["approval_probability"],
        "p_jp": phase["countries"]["JP"]["approval_probability"],
        "p_us": phase["countries"].get("US", {}).get("approval_probability")
        or phase["approval_probability"],
        "delay_min": phase["min_delay_working_days"],
        "approved_share": phase["approved_share"],
        "review_capacity": phase["review_capacity_per_week"] or 60.0,
        "patience": by_country["DE"]["licence_patience_weeks"],
        "max_held": raw["exporters"][0]["max_held_weeks"],
    }
    for c in REGIONS:
        x[f"cs_{c}"] = by_country[c]["controlled_share"]
        x[f"cover_{c}"] = by_country[c]["cover_target_weeks"]
        x[f"fo_{c}"] = by_country[c].get("free_only_share", 0.0)
    x["cs_in_oem"] = next(o for o in raw["oems"] if o["country"] == "IN")["controlled_share"]
    x["plan_h"] = raw["oems"][0]["plan_horizon_weeks"]
    x["switching"] = raw["market"]["supplier_switching_per_week"]
    x["cover_jp_compact"] = next(o for o in raw["oems"] if o["name"] == "jp-compact")[
        "cover_target_weeks"
    ]
    return x
