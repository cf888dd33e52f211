"""What the model records each week: reporters for Mesa's DataCollector and the flow ledgers.

The fixed reporters are declared one per line in :func:`model_reporters`; the per-country,
per-segment and per-group figures are summed in one pass over the OEMs by :func:`aggregate`
and read back from ``model.stats`` (ODD §4 "Observation", §7.28-7.29).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from agents import OEM
from agents.oem import SOURCES
from simulation.market import EPS

if TYPE_CHECKING:
    from simulation.model import MagnetSupplyModel
    from simulation.scenario import Scenario

_COUNTRY_STATS = (
    "vehicles_produced",
    "vehicles_planned",
    "magnet_need_t",
    "firms_stopped",
    "china_exports_t",
    "china_licensed_exports_t",
    "licences_approved",
)
_GROUP_STATS = ("oem_produced", "oem_planned", "oem_firms_stopped", "oem_cover_weeks")

#: Cumulative magnet and oxide flows, t (the mass-balance ledgers, ODD §7.28).
FLOWS = (
    "magnet_produced_t",
    "magnet_sold_china_domestic_t",
    "magnet_scrap_t",
    "magnet_consumed_t",
    "oxide_produced_t",
    "oxide_imported_t",
    "oxide_reserved_t",
    "oxide_consumed_t",
)


def model_reporters(stat_keys: list[str]) -> dict[str, Any]:
    """Declare the weekly model reporters (fixed ones, then the aggregates in ``stat_keys``)."""
    reporters: dict[str, Any] = {
        "week": "week",
        "date": lambda m: m.date.isoformat(),
        "licence_queue_length": lambda m: len(m.authority.queue),
        "licence_applications": lambda m: m.authority.filed,
        "licences_approved": lambda m: m.authority.approved,
        "licences_denied": lambda m: m.authority.denied,
        "licensed_t": lambda m: m.authority.approved_t,
        "mean_licence_wait_weeks": lambda m: _mean(m.authority.waits_weeks),
        "licences_issued_total": lambda m: m.authority.licences_issued_total,
        "china_exports_t": lambda m: sum(e.exported_t for e in m.exporters),
        "china_controlled_exports_t": lambda m: sum(
            e.exported_t - e.free_exported_t for e in m.exporters
        ),
        "china_domestic_sales_t": lambda m: sum(e.domestic_sales_t for e in m.exporters),
        "magnet_shortfall_t": lambda m: sum(o.need_t_per_week - o.consumed_t for o in m.oems),
        "unfilled_orders_t": lambda m: sum(o.unfilled_t for o in m.oems),
        "domestic_capacity_t_per_week": lambda m: sum(
            p.capacity_t_per_week(m.week) for p in m.domestic_producers
        ),
        "domestic_output_t": lambda m: sum(p.output_t for p in m.domestic_producers),
        "domestic_plants_operating": lambda m: sum(
            p.stage in ("ramping", "operating") for p in m.domestic_producers
        ),
        "domestic_unit_cost_usd_per_kg": lambda m: _weighted(
            [(p.unit_cost_usd_per_kg, p.output_t) for p in m.domestic_producers]
        ),
        "irel_oxide_output_t": lambda m: m.irel.produced_t,
        "oxide_imported_t": "oxide_imported_t",
        "subsidy_paid_usd": lambda m: m.incentive.subsidy_paid_usd,
        "subsidy_spent_usd": lambda m: m.incentive.subsidy_spent_usd,
        "redesigns_started": "redesigns_started",
        "redesign_spent_usd": "redesign_spent_usd",
        "price_index_china": lambda m: _weighted(
            [
                (e.export_price_usd_per_kg / m.spec.market.china_price_usd_per_kg, e.produced_t)
                for e in m.exporters
            ]
        ),
        "price_index_row": lambda m: _weighted(
            [(s.price_index, s.available_t + s.produced_t) for s in m.row_suppliers]
        ),
        "price_index_domestic": lambda m: _weighted(
            [
                (p.offer_price_usd_per_kg() / m.spec.market.china_price_usd_per_kg, p.output_t)
                for p in m.domestic_producers
            ]
        ),
    }
    for name in stat_keys:
        reporters[name] = _stat(name)
    return reporters


def aggregate_keys(spec: Scenario) -> list[str]:
    """Names of the per-country, per-segment and per-group reporters of a scenario."""
    keys = []
    for c in sorted({o.country for o in spec.oems}):
        keys += [f"{k}__{c}" for k in _COUNTRY_STATS]
        keys += [f"receipts_t__{c}__{source}" for source in SOURCES]
        keys += [f"demand_met_share__{c}__{source}" for source in SOURCES]
    for c, seg in sorted({(o.country, o.segment) for o in spec.oems}):
        keys += [f"vehicles_produced__{c}__{seg}", f"vehicles_planned__{c}__{seg}"]
    for cfg in spec.oems:
        keys += [f"{k}__{cfg.country}__{cfg.name}" for k in _GROUP_STATS]
    return keys


def aggregate(model: MagnetSupplyModel, stat_keys: list[str]) -> dict[str, float]:
    """One pass over the OEMs: this week's sums per country, segment and group."""
    stats: dict[str, float] = dict.fromkeys(stat_keys, 0.0)
    need_by_group: dict[str, float] = {}
    for o in model.oems:
        c, g = o.country, f"{o.country}__{o.group}"
        need = o.need_t_per_week
        stats[f"vehicles_produced__{c}"] += o.produced_vehicles
        stats[f"vehicles_planned__{c}"] += o.planned_vehicles_per_week
        stats[f"magnet_need_t__{c}"] += need
        stats[f"firms_stopped__{c}"] += o.stopped
        for source, tonnes in o.received_t.items():
            stats[f"receipts_t__{c}__{source}"] += tonnes
        stats[f"vehicles_produced__{c}__{o.segment}"] += o.produced_vehicles
        stats[f"vehicles_planned__{c}__{o.segment}"] += o.planned_vehicles_per_week
        stats[f"oem_produced__{g}"] += o.produced_vehicles
        stats[f"oem_planned__{g}"] += o.planned_vehicles_per_week
        stats[f"oem_firms_stopped__{g}"] += o.stopped
        stats[f"oem_cover_weeks__{g}"] += o.inventory_t
        need_by_group[g] = need_by_group.get(g, 0.0) + need
    for g, need in need_by_group.items():
        key = f"oem_cover_weeks__{g}"
        stats[key] = stats[key] / need if need > EPS else 0.0
    free_by_country: dict[str, float] = {}
    for o in model.oems:
        free_by_country[o.country] = free_by_country.get(o.country, 0.0) + o.free_received_t
    for key in stats:
        if key.startswith("demand_met_share__"):  # controlled grades: received / needed
            _, c, source = key.split("__")
            need = stats[f"magnet_need_t__{c}"]
            got = stats[f"receipts_t__{c}__{source}"]
            if source == "china":
                got -= free_by_country.get(c, 0.0)
            stats[key] = got / need if need > EPS else 0.0
    for c, n in model.authority.approved_this_week_by_country.items():
        key = f"licences_approved__{c}"
        if key in stats:
            stats[key] = float(n)
    for e in model.exporters:
        for c, tonnes in e.exported_by_country.items():
            key = f"china_exports_t__{c}"
            if key in stats:
                stats[key] += tonnes
        for c, tonnes in e.licensed_by_country.items():
            key = f"china_licensed_exports_t__{c}"
            if key in stats:
                stats[key] += tonnes
    return stats


def agent_reporters() -> dict[type, dict[str, str]]:
    """Per-OEM state (opt-in)."""
    return {
        OEM: {
            "group": "group",
            "country": "country",
            "produced_vehicles": "produced_vehicles",
            "inventory_t": "inventory_t",
            "cover_weeks": "cover_weeks",
            "cover_target_weeks": "cover_target_weeks",
            "stopped": "stopped",
            "redesigned": "redesigned",
        }
    }


def account_flows(model: MagnetSupplyModel) -> None:
    """Add this week's flows to the cumulative magnet and oxide ledgers in ``model.flows``."""
    f = model.flows
    producers = model.domestic_producers
    f["magnet_produced_t"] += (
        sum(e.produced_t for e in model.exporters)
        + sum(s.produced_t for s in model.row_suppliers)
        + sum(p.gross_t for p in producers)
    )
    f["magnet_sold_china_domestic_t"] += sum(e.domestic_sales_t for e in model.exporters)
    f["magnet_scrap_t"] += sum(p.scrap_t for p in producers)
    f["magnet_consumed_t"] += sum(o.consumed_t + o.free_received_t for o in model.oems)
    f["oxide_produced_t"] += model.irel.produced_t
    f["oxide_imported_t"] += model.oxide_imported_t
    f["oxide_reserved_t"] += model.irel.reserved_t
    f["oxide_consumed_t"] += sum(p.oxide_used_t for p in producers)


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def _weighted(pairs: list[tuple[float, float]]) -> float:
    total = sum(w for _, w in pairs)
    if total <= EPS:
        return float("nan")
    return sum(v * w for v, w in pairs) / total


def _stat(name: str) -> Callable[[MagnetSupplyModel], float]:
    def reporter(model: MagnetSupplyModel) -> float:
        return model.stats[name]

    return reporter
