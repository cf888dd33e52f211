"""Run KPIs computed from the weekly model records (one function, shared by every caller)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from agents.buyer import MAGNET_TRADE_SOURCES

RECOVERY_SHARE = 0.95  # production back to 95% of plan counts as recovered (DESIGN.md)
RECOVERY_RUN_WEEKS = 4  # ... and must stay there this many consecutive weeks (assumption)
HORIZON_WINDOW_WEEKS = 4  # "at horizon" = mean over the last 4 weeks (assumption)


#: Weekly reporters :func:`compute_kpis` reads: these names, and every per-country, per-group
#: figure starting with one of :data:`KPI_PREFIXES`.
KPI_REPORTERS = (
    "week",
    "substituted_share",
    "licences_issued_total",
    "price_index_china",
    "price_index_row",
    "subsidy_spent_usd",
)
KPI_PREFIXES = (
    "vehicles_planned__",
    "vehicles_produced__",
    "vehicles_lost__",
    "vehicles_backlog__",
    "vehicles_recovered__",
    "vehicles_priced_out__",
    "firms_stopped__",
    "oem_firms_stopped__",
    "oem_produced__",
    "oem_planned__",
    "receipts_t__IN__",
    "magnet_need_t__IN",
)


def kpi_columns(names: Iterable[str]) -> list[str]:
    """The reporters among ``names`` that :func:`compute_kpis` needs (plus the fixed ones).

    Example:
        >>> columns = kpi_columns(["week", "china_stock_t", "oem_planned__IN__maruti"])
        >>> "china_stock_t" in columns, columns[-1]
        (False, 'oem_planned__IN__maruti')
    """
    keyed = [n for n in names if n.startswith(KPI_PREFIXES)]
    return sorted(set(KPI_REPORTERS)) + [n for n in keyed if n not in KPI_REPORTERS]


def _groups(steps: pd.DataFrame) -> list[tuple[str, str]]:
    """(country, group name) of each OEM group present in the records."""
    prefix = "oem_planned__"
    out = []
    for col in steps.columns:
        if col.startswith(prefix):
            country, _, name = col[len(prefix) :].partition("__")
            out.append((country, name))
    return out


def _first_week(mask: pd.Series, weeks: pd.Series) -> float:
    hits = np.flatnonzero(mask.to_numpy())
    return float(weeks.iloc[hits[0]]) if len(hits) else math.nan


def _recovery_weeks(produced: np.ndarray, planned: np.ndarray, first_stop_index: int) -> float:
    """Weeks from the first stoppage to the start of a run of weeks at >= 95% of plan."""
    ok = produced >= RECOVERY_SHARE * planned - 1e-9
    run = 0
    for i in range(first_stop_index, len(ok)):
        run = run + 1 if ok[i] else 0
        if run >= RECOVERY_RUN_WEEKS:
            return float(i - RECOVERY_RUN_WEEKS + 1 - first_stop_index)
    return math.nan


def _max_yearly_rise(share: pd.Series) -> float:
    """Largest rise of a share over any 52 weeks (or the whole run if shorter), % points."""
    values = share.fillna(0.0).to_numpy()
    if len(values) == 0:
        return 0.0
    lag = min(52, len(values) - 1)
    if lag == 0:
        return 0.0
    return float(100 * max(0.0, (values[lag:] - values[:-lag]).max()))


def compute_kpis(steps: pd.DataFrame) -> dict[str, float]:
    """Summarise one run's weekly records into KPIs.

    Args:
        steps: the model-level DataFrame (one row per week) from the DataCollector.

    Returns:
        A flat dict of floats (NaN where undefined, e.g. no stoppage):

        * ``lost_production_pct__{C}`` – vehicles of the plan not built within the horizon,
          % of plan, per country C; it is the sum of the next two:
        * ``lost_for_good_pct__{C}`` – vehicles whose buyers stopped waiting
          (``max_deferral_weeks``), % of plan;
        * ``deferred_at_horizon_pct__{C}`` – vehicles still in the backlog at the end, % of plan;
        * ``deferred_recovered_pct__{C}`` – vehicles short in some week and built later
          (production deferred, not lost), % of plan;
        * ``priced_out_pct__{C}`` – vehicles dropped from the sales plan because magnet
          prices raised vehicle prices, % of the base plan (not counted as lost production);
        * ``lost_vehicles__{C}`` – vehicles not built;
        * ``weeks_to_first_stoppage__{C}`` – first week any firm of C stopped a line;
        * ``weeks_to_first_stoppage__{C}__{group}`` and ``weeks_to_recover__{C}__{group}``
          (from first stoppage until production is back to 95% of plan for 4 weeks);
        * ``substitution_max_pct_per_year`` – largest rise, over any 52 weeks, of the share
          of the OEMs' opening controlled-grade demand moved to low-HREE or magnet-free motors,
          % points (C-IN-5: at most ~10% of demand a year in 2010);
        * ``licences_issued``, ``peak_price_index``, ``peak_price_index_row``;
        * ``domestic_share_at_horizon`` – Indian magnet receipts from domestic plants, share,
          over the last 4 weeks;
        * ``subsidy_spent_usd``, ``subsidy_usd_per_domestic_magnet_vehicle`` – scheme spending
          per vehicle-equivalent of domestic magnets received by Indian OEMs (an upper bound on
          vehicles saved: the true saving needs a paired run without the scheme).
    """
    kpis: dict[str, float] = {}
    weeks = steps["week"]
    countries = sorted({c for c, _ in _groups(steps)})
    for c in countries:
        planned = steps[f"vehicles_planned__{c}"].sum()
        produced = steps[f"vehicles_produced__{c}"].sum()
        kpis[f"lost_vehicles__{c}"] = float(planned - produced)
        kpis[f"lost_production_pct__{c}"] = (
            float(100 * (planned - produced) / planned) if planned else 0.0
        )
        if f"vehicles_lost__{c}" in steps:  # absent from records without the backlog
            for key, value in (
                ("lost_for_good_pct", steps[f"vehicles_lost__{c}"].sum()),
                ("deferred_at_horizon_pct", steps[f"vehicles_backlog__{c}"].iloc[-1]),
                ("deferred_recovered_pct", steps[f"vehicles_recovered__{c}"].sum()),
            ):
                kpis[f"{key}__{c}"] = float(100 * value / planned) if planned else 0.0
        if f"vehicles_priced_out__{c}" in steps:
            out = steps[f"vehicles_priced_out__{c}"].sum()
            kpis[f"priced_out_pct__{c}"] = float(100 * out / (planned + out)) if planned else 0.0
        kpis[f"weeks_to_first_stoppage__{c}"] = _first_week(steps[f"firms_stopped__{c}"] > 0, weeks)
    for c, name in _groups(steps):
        key = f"{c}__{name}"
        stopped = steps[f"oem_firms_stopped__{key}"] > 0
        first = _first_week(stopped, weeks)
        kpis[f"weeks_to_first_stoppage__{key}"] = first
        if math.isnan(first):
            kpis[f"weeks_to_recover__{key}"] = math.nan
        else:
            index = int(np.flatnonzero(stopped.to_numpy())[0])
            kpis[f"weeks_to_recover__{key}"] = _recovery_weeks(
                steps[f"oem_produced__{key}"].to_numpy(),
                steps[f"oem_planned__{key}"].to_numpy(),
                index,
            )
    if "substituted_share" in steps:
        kpis["substitution_max_pct_per_year"] = _max_yearly_rise(steps["substituted_share"])
    kpis["licences_issued"] = float(steps["licences_issued_total"].iloc[-1])
    kpis["peak_price_index_row"] = float(steps["price_index_row"].max(skipna=True))
    peaks = steps[["price_index_china", "price_index_row"]].max(skipna=True)
    kpis["peak_price_index"] = float(peaks.max(skipna=True))
    if "receipts_t__IN__domestic" in steps:
        tail = steps.tail(HORIZON_WINDOW_WEEKS)
        # steps saved before a source existed lack its column: it carried nothing then
        sources = [f"receipts_t__IN__{s}" for s in MAGNET_TRADE_SOURCES]
        received = sum(tail[c].sum() for c in sources if c in tail)
        domestic = tail["receipts_t__IN__domestic"].sum()
        kpis["domestic_share_at_horizon"] = float(domestic / received) if received > 0 else 0.0
        planned_in = steps["vehicles_planned__IN"].sum()
        kg_per_vehicle = 1000 * steps["magnet_need_t__IN"].sum() / planned_in if planned_in else 0.0
        saved = (
            1000 * steps["receipts_t__IN__domestic"].sum() / kg_per_vehicle
            if kg_per_vehicle
            else 0.0
        )
        spent = float(steps["subsidy_spent_usd"].iloc[-1])
        kpis["subsidy_spent_usd"] = spent
        kpis["subsidy_usd_per_domestic_magnet_vehicle"] = spent / saved if saved > 0 else math.nan
    else:
        kpis["domestic_share_at_horizon"] = 0.0
        kpis["subsidy_spent_usd"] = float(steps["subsidy_spent_usd"].iloc[-1])
        kpis["subsidy_usd_per_domestic_magnet_vehicle"] = math.nan
    return kpis
