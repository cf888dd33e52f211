"""Calibrate the history replay to its declared targets, and nothing else.

CALIBRATION.md ("Calibration and validation") allows the history scenario to be fitted only to
C-LIC-5 (all-destination exports April-July 2025, the May and July 2025 destination splits,
H1 2025 EU and US), SF-2, SF-3 and SF-4, within the mechanism facts. This script sets only
parameter values marked "assumption" in the scenario files (customs identification, grade
mix and free-only share, cover within C-IN-2/C-IN-7, licence patience, approval chances and
shares, the desk's capacity, exporters' held stock, OEMs' announced-cut horizon, buyers'
supplier switching speed) and scores a parameter set by
:func:`loss`; validation observations are never read. The search is a seeded Nelder-Mead on
a few seeds; confirm the result with ``magshock validate-history`` (20 seeds).

Usage::

    python -m experiments.calibrate_history --seeds 3 --iterations 300
"""

from __future__ import annotations

import argparse
import copy
import math
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from agents.buyer import MAGNET_TRADE_SOURCES
from experiments.months import monthly_totals
from experiments.validation import Context, sf3_first_japan_stop, sf3_stop_length
from simulation.run import simulate
from simulation.scenario import Scenario, load_scenario, validate_scenario

SHOCK = date(2025, 4, 4)
END = date(2025, 10, 3)  # weeks needed: SF-4 runs to 30 Sep 2025
MONTHS = {"2025-04": 2627, "2025-05": 1238, "2025-06": 3188, "2025-07": 5577}
SHARES = {  # % of all destinations (C-LIC-5)
    ("2025-05", "VN"): 100 * 235 / 1238,
    ("2025-05", "DE"): 100 * 209 / 1238,
    ("2025-05", "IN"): 100 * 150 / 1238,
    ("2025-05", "US"): 100 * 46 / 1238,
    ("2025-07", "EU"): 38.0,
    ("2025-07", "DE"): 100 * 1116 / 5577,
    ("2025-07", "US"): 11.0,
}
H1 = {"EU": 8360, "US": 2510}  # C-LIC-5, Jan-Jun 2025
REGIONS = ("DE", "XE", "US", "KR", "JP", "IN", "VN", "XX")

# name: (low, high, start); bounds are the ranges allowed by CALIBRATION.md or plausibility.
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


def targets_of(steps: pd.DataFrame, counterfactual: pd.DataFrame, spec: Scenario) -> dict:
    """Every calibration target's model value for one seed (tonnes, %, weeks)."""
    cols = ["china_exports_t", *(f"china_exports_t__{c}" for c in ("VN", "DE", "IN", "US", "EU"))]
    monthly = monthly_totals(steps, cols)
    out: dict[str, float] = {}
    for month in [*MONTHS, "2025-03"]:
        out[month] = float(monthly.loc[pd.Period(month, "M"), "china_exports_t"])
    for (month, dest), _ in SHARES.items():
        row = monthly.loc[pd.Period(month, "M")]
        out[f"{month} {dest} %"] = 100 * row[f"china_exports_t__{dest}"] / row["china_exports_t"]
    h1 = monthly.loc[pd.period_range("2025-01", "2025-06", freq="M")]
    for dest in H1:
        out[f"H1 {dest}"] = float(h1[f"china_exports_t__{dest}"].sum())
    ctx = Context(steps, counterfactual, spec)
    out["SF-3 stop week"] = sf3_first_japan_stop(ctx)
    out["SF-3 stop length"] = sf3_stop_length(ctx)
    window = ctx.weeks_in(date(2025, 4, 1), date(2025, 9, 30)).to_numpy()
    rcols = [f"receipts_t__IN__{s}" for s in MAGNET_TRADE_SOURCES]
    actual = steps.loc[window, rcols].to_numpy().sum()
    base = counterfactual.loc[window, rcols].to_numpy().sum()
    out["SF-4 %"] = 100 * (1 - actual / base)
    upto = ctx.weeks_in(SHOCK, date(2025, 6, 30)).to_numpy()
    filed = steps.loc[upto, "applications_filed__EU"].sum()
    out["C-LIC-11 EU decided %"] = 100 * steps.loc[upto, "applications_decided__EU"].sum() / filed
    return out


def evaluate(
    raw: dict[str, Any], x: dict[str, float], seeds: list[int], start: date | None = None
) -> dict[str, float]:
    """Median over ``seeds`` of every target for the parameters ``x``.

    ``start`` (a Friday) shortens the pre-control run-in while searching; H1 2025 needs a
    start on or before 27 Dec 2024.
    """
    data = apply(raw, x)
    if start is not None:
        data["simulation"] = {**data["simulation"], "start_date": start}
    spec = validate_scenario(data, "calibration")
    weeks = spec.week_of(END)
    twin = validate_scenario({**data, "licensing": {"kind": "open"}}, "twin")
    rows = []
    for seed in seeds:
        steps = simulate(spec, rng=seed, weeks=weeks).steps
        cf = simulate(twin, rng=seed, weeks=weeks).steps
        rows.append(targets_of(steps, cf, spec))
    return pd.DataFrame(rows).median().to_dict()


def _outside(value: float, low: float, high: float) -> float:
    if math.isnan(value):
        return 5.0
    return max(0.0, low - value, value - high)


def loss(m: dict[str, float]) -> float:
    """Squared misfit: log errors of monthly tonnes, share points / 5, band distances."""
    total = sum(math.log(max(m[k], 1.0) / v) ** 2 / 0.15**2 for k, v in MONTHS.items())
    total += sum(((m[f"{mo} {d} %"] - v) / 5.0) ** 2 for (mo, d), v in SHARES.items())
    total += sum(math.log(max(m[f"H1 {d}"], 1.0) / v) ** 2 / 0.10**2 for d, v in H1.items())
    total += _outside(m["SF-3 stop week"], 5, 10) ** 2 + _outside(m["SF-3 stop length"], 1, 6) ** 2
    total += _outside(m["SF-4 %"], 40, 70) ** 2  # a band: every point outside costs
    total += (_outside(m["C-LIC-11 EU decided %"], 15, 35) / 5.0) ** 2  # "about a quarter"
    return total


FAST_START = date(2024, 12, 27)  # a Friday, 14 weeks before 4 Apr 2025


def search(
    start: dict[str, float], seeds: list[int], iterations: int, free: list[str] | None = None
) -> dict[str, float]:
    """Nelder-Mead on the unit cube of ``SPACE`` (clipped), from ``start``.

    ``free`` (name prefixes) limits the search to those parameters; the others keep their
    ``start`` values. The first simplex steps 0.1 of each parameter's range (scipy's default
    step, 5% of the start value, is nil for a parameter starting at 0).
    """
    raw = load_scenario("history_2025").model_dump(mode="python", serialize_as_any=True)

    def searched(k: str) -> bool:
        return k in SPACE and (free is None or any(k.startswith(p) for p in free))

    fixed = {k: v for k, v in start.items() if not searched(k)}
    names = [k for k in start if searched(k)]
    lows = np.array([SPACE[n][0] for n in names])
    highs = np.array([SPACE[n][1] for n in names])

    def to_x(u: np.ndarray) -> dict[str, float]:
        return dict(zip(names, lows + np.clip(u, 0, 1) * (highs - lows), strict=True))

    def f(u: np.ndarray) -> float:
        value = loss(evaluate(raw, {**fixed, **to_x(u)}, seeds, FAST_START))
        return value + 10 * float(np.sum(np.clip(u - 1, 0, None) + np.clip(-u, 0, None)))

    u0 = (np.array([start[n] for n in names]) - lows) / (highs - lows)
    steps = np.where(u0 > 0.9, -0.1, 0.1)
    simplex = np.vstack([u0, u0 + np.diag(steps)])
    options = {"maxfev": iterations, "xatol": 1e-3, "initial_simplex": simplex}
    best = minimize(f, u0, method="Nelder-Mead", options=options)
    x = {**fixed, **to_x(best.x)}
    print(f"loss {best.fun:.3f}")
    for key, value in evaluate(raw, x, seeds, FAST_START).items():
        print(f"  {key:20s} {value:10.1f}")
    return x


def main() -> None:
    """Run the search from the scenario's current values and print the best parameters."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument(
        "--free", nargs="*", default=None, help="name prefixes to search (default: all)"
    )
    args = parser.parse_args()
    raw = load_scenario("history_2025").model_dump(mode="python", serialize_as_any=True)
    start = current(raw)
    x = search(start, list(range(args.seeds)), args.iterations, args.free)
    for key, value in x.items():
        print(f"{key} = {value:.3f}  (was {start[key]:.3f})")


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


if __name__ == "__main__":
    main()
