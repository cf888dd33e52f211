"""What the model records each week: reporters for Mesa's DataCollector and the flow ledgers.

The fixed reporters are declared one per line in :func:`model_reporters`; the per-country,
per-segment and per-group figures are summed in one pass over the OEMs by :func:`aggregate`
and read back from ``model.stats`` (ODD §4 "Observation", §7.28-7.29).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

import numpy as np
from mesa import DataCollector

from agents import OEM
from agents.buyer import SOURCES
from agents.exporter import HOME
from simulation.clearing import EU_CODES
from simulation.market import EPS

if TYPE_CHECKING:
    from simulation.model import MagnetSupplyModel
    from simulation.scenario import Scenario

_COUNTRY_STATS = (
    "vehicles_produced",
    "vehicles_planned",
    "magnet_need_t",
    "firms_stopped",
    "vehicles_deferred",
    "vehicles_recovered",
    "vehicles_lost",
    "vehicles_backlog",
    "vehicles_priced_out",
)
#: Per-destination figures: China's exports (customs basis) and the licence desk.
_DESTINATION_STATS = (
    "china_exports_t",
    "china_licensed_exports_t",
    "row_sales_t",
    "applications_filed",
    "applications_pending",
    "applications_decided",
    "licences_approved",
    "licensed_t",
    "buyer_output_share",
)
_GROUP_STATS = ("oem_produced", "oem_planned", "oem_firms_stopped", "oem_cover_weeks")

#: Cumulative magnet, Dy/Tb and oxide flows, t (the mass-balance ledgers, ODD §7.28).
FLOWS = (
    "magnet_produced_t",
    "magnet_produced_controlled_t",
    "magnet_scrap_t",
    "magnet_consumed_t",
    "magnet_consumed_controlled_t",
    "dytb_received_row_t",
    "dytb_used_row_t",
    "oxide_produced_t",
    "oxide_imported_t",
    "oxide_reserved_t",
    "oxide_consumed_t",
    "motor_shipped_t",
    "transit_shipped_t",
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
        "china_exports_t": lambda m: m.market.exports_total_t,
        "china_controlled_exports_t": lambda m: m.market.controlled_exports_t,
        "china_licensed_exports_t": lambda m: sum(m.market.licensed_exports_t.values()),
        "china_domestic_sales_t": lambda m: m.market.home_sales_t,
        "china_home_output_share": lambda m: _weighted(
            [(b.output_share, b.full_need_t()) for b in m.regional_buyers if b.country == HOME]
        ),
        "china_output_t": lambda m: sum(e.output_t for e in m.exporters),
        "china_capacity_t": lambda m: sum(e.capacity_t_per_week for e in m.exporters),
        "china_stock_t": lambda m: sum(e.total_stock_t for e in m.exporters),
        "exporter_stock_held_t": lambda m: sum(e.held_for_licences_t() for e in m.exporters),
        "customs_held_t": lambda m: m.market.customs.held_t,
        "row_output_t": lambda m: sum(s.output_t for s in m.row_suppliers),
        "row_capacity_t": lambda m: sum(s.capacity_t_per_week for s in m.row_suppliers),
        "world_demand_t": lambda m: sum(b.full_need_t() for b in m.buyers),
        "row_capacity_pipeline_t": lambda m: sum(
            s.capacity_pipeline_t(m.week) for s in m.row_suppliers
        ),
        "row_capacity_ordered_t": lambda m: sum(s.capacity_ordered_t for s in m.row_suppliers),
        "row_dytb_stock_t": lambda m: sum(s.dytb_stock_t for s in m.row_suppliers),
        "orders_expired_t": lambda m: sum(s.expired_t for s in m.sellers),
        "orders_cancelled_t": lambda m: sum(s.cancelled_t for s in m.sellers),
        "magnet_shortfall_t": lambda m: sum(
            o.full_need_t() * (1.0 - o.output_share) for o in m.oems
        ),
        "unfilled_orders_t": lambda m: sum(o.open_orders_t() for o in m.oems),
        "domestic_capacity_t_per_week": lambda m: sum(
            p.capacity_t_per_week(m.week) for p in m.domestic_producers
        ),
        "domestic_output_t": lambda m: sum(p.output_t for p in m.domestic_producers),
        "domestic_exports_t": lambda m: m.market.domestic_exports_t,
        "china_sourcing_share": lambda m: _weighted(
            [(b.china_share, b.full_need_t()) for b in m.buyers if b.country != HOME]
        ),
        "domestic_plants_closed": lambda m: sum(p.stage == "closed" for p in m.domestic_producers),
        "india_import_price_usd_per_kg": lambda m: m.prices.india_import_usd_per_kg,
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
        "motor_imports_t": lambda m: m.motor_channel.shipped_total_t,
        "motor_premium_usd": lambda m: m.motor_channel.premium_usd,
        "transit_imports_t": lambda m: m.transit_route.shipped_total_t,
        "transit_detected": lambda m: m.transit_route.detected,
        "redesigns_started": "redesigns_started",
        "redesign_spent_usd": "redesign_spent_usd",
        "substituted_share": lambda m: _weighted(
            [(o.controlled_substituted_share, o.opening_controlled_t_per_week) for o in m.oems]
        ),
        "china_home_price_usd_per_kg": lambda m: m.prices.china_home_usd_per_kg,
        "china_export_price_usd_per_kg": lambda m: m.prices.china_export_usd_per_kg,
        "ex_china_price_usd_per_kg": lambda m: m.prices.ex_china_usd_per_kg,
        "price_index_china": lambda m: (
            m.prices.china_export_usd_per_kg / m.spec.market.china_price_usd_per_kg
        ),
        "price_index_row": lambda m: _weighted(
            [(s.price_index, s.capacity_t_per_week) for s in m.row_suppliers]
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


def destinations(spec: Scenario) -> list[str]:
    """Export destinations of a scenario: every buyer country but China.

    Plus ``EU`` when any EU member (or ``XE``, the rest of the EU) is one.
    """
    codes = {o.country for o in spec.oems} | {b.country for b in spec.buyers}
    codes.discard(HOME)
    if codes & EU_CODES:
        codes.add("EU")
    return sorted(codes)


def aggregate_keys(spec: Scenario) -> list[str]:
    """Names of the per-destination, per-country, per-segment and per-group reporters."""
    keys = []
    for d in destinations(spec):
        keys += [f"{k}__{d}" for k in _DESTINATION_STATS]
    for c in sorted({o.country for o in spec.oems}):
        keys += [f"{k}__{c}" for k in _COUNTRY_STATS]
        keys += [f"receipts_t__{c}__{source}" for source in SOURCES]
        keys += [f"demand_met_share__{c}__{source}" for source in SOURCES]
    for c, seg in sorted({(o.country, o.segment) for o in spec.oems}):
        keys += [f"vehicles_produced__{c}__{seg}", f"vehicles_planned__{c}__{seg}"]
    for cfg in spec.oems:
        keys += [f"{k}__{cfg.country}__{cfg.name}" for k in _GROUP_STATS]
    return keys


class Aggregator:
    """This week's sums by destination, country, segment and group (``aggregate_keys``).

    The key names each OEM adds to are worked out once, at construction (an OEM's country,
    segment and group never change); each week is one pass over the OEMs, then the market's
    and the desk's tallies by destination.

    Args:
        stat_keys: the names from :func:`aggregate_keys`.
    """

    def __init__(self, stat_keys: list[str]) -> None:
        self.stat_keys = stat_keys
        self._oem_keys: dict[OEM, tuple] = {}
        self._met_shares = [
            (key, f"magnet_need_t__{c}", f"receipts_t__{c}__{source}")
            for key in stat_keys
            if key.startswith("demand_met_share__")
            for _, c, source in [key.split("__")]
        ]

    def _keys(self, o: OEM) -> tuple:
        keys = self._oem_keys.get(o)
        if keys is None:
            c, g = o.country, f"{o.country}__{o.group}"
            keys = self._oem_keys[o] = (
                f"vehicles_produced__{c}",
                f"vehicles_planned__{c}",
                f"magnet_need_t__{c}",
                f"firms_stopped__{c}",
                {source: f"receipts_t__{c}__{source}" for source in SOURCES},
                f"vehicles_produced__{c}__{o.segment}",
                f"vehicles_planned__{c}__{o.segment}",
                f"oem_produced__{g}",
                f"oem_planned__{g}",
                f"oem_firms_stopped__{g}",
                f"oem_cover_weeks__{g}",
                (
                    f"vehicles_deferred__{c}",
                    f"vehicles_recovered__{c}",
                    f"vehicles_lost__{c}",
                    f"vehicles_backlog__{c}",
                    f"vehicles_priced_out__{c}",
                ),
            )
        return keys

    def __call__(self, model: MagnetSupplyModel) -> dict[str, float]:
        """The week's figures, keyed by the names in ``stat_keys``."""
        stats: dict[str, float] = dict.fromkeys(self.stat_keys, 0.0)
        need_by_group: dict[str, float] = {}
        for o in model.oems:
            (
                produced_c,
                planned_c,
                need_c,
                stopped_c,
                receipts,
                produced_seg,
                planned_seg,
                produced_g,
                planned_g,
                stopped_g,
                cover_g,
                (deferred_c, recovered_c, lost_c, backlog_c, priced_out_c),
            ) = self._keys(o)
            need = o.need_t("controlled")
            stats[produced_c] += o.produced_vehicles
            stats[planned_c] += o.planned_vehicles_per_week
            stats[need_c] += o.full_need_t()
            stats[stopped_c] += o.stopped
            stats[deferred_c] += o.deferred_vehicles
            stats[recovered_c] += o.recovered_vehicles
            stats[lost_c] += o.lost_vehicles
            stats[backlog_c] += o.backlog_vehicles
            stats[priced_out_c] += o.priced_out_vehicles
            for source, tonnes in o.received_t.items():
                stats[receipts[source]] += tonnes
            stats[produced_seg] += o.produced_vehicles
            stats[planned_seg] += o.planned_vehicles_per_week
            stats[produced_g] += o.produced_vehicles
            stats[planned_g] += o.planned_vehicles_per_week
            stats[stopped_g] += o.stopped
            stats[cover_g] += o.stock_t["controlled"]
            need_by_group[cover_g] = need_by_group.get(cover_g, 0.0) + need
        for key, need in need_by_group.items():
            stats[key] = stats[key] / need if need > EPS else 0.0
        for key, need_key, receipts_key in self._met_shares:  # all grades received / needed
            need = stats[need_key]
            stats[key] = stats[receipts_key] / need if need > EPS else 0.0
        market, authority = model.market, model.authority
        _add_by_destination(stats, "china_exports_t", market.exports_t)
        _add_by_destination(stats, "china_licensed_exports_t", market.licensed_exports_t)
        _add_by_destination(stats, "row_sales_t", market.row_sales_t)
        _add_by_destination(stats, "applications_filed", authority.filed_by_destination)
        _add_by_destination(stats, "applications_pending", authority.pending_by_destination())
        _add_by_destination(stats, "applications_decided", authority.decided_by_destination)
        _add_by_destination(stats, "licences_approved", authority.approved_by_destination)
        _add_by_destination(stats, "licensed_t", authority.approved_t_by_destination)
        output: dict[str, list[tuple[float, float]]] = {}
        for b in model.regional_buyers:
            for dest in _groups(b.country):
                output.setdefault(dest, []).append((b.output_share, b.full_need_t()))
        for dest, pairs in output.items():
            key = f"buyer_output_share__{dest}"
            if key in stats:
                stats[key] = _weighted(pairs)
        return stats


class WeeklyCollector(DataCollector):
    """Mesa's DataCollector for this model's reporters, without a deepcopy per value.

    Every model reporter here returns a number or a string (immutable), so Mesa's defensive
    copy of each value each week changes nothing but the cost; the aggregates are read from
    ``model.stats`` in one pass. Agent-type reporters (opt-in) are collected as Mesa does.

    Args:
        stat_keys: the aggregate names (:func:`aggregate_keys`), read from ``model.stats``.
        agenttype_reporters: as for Mesa's DataCollector (or None).
        columns: record only these reporters (``week`` and ``date`` always; names that are
            not reporters are ignored); None records all of them.
    """

    def __init__(
        self,
        stat_keys: list[str],
        agenttype_reporters: dict | None = None,
        columns: Collection[str] | None = None,
    ) -> None:
        declared = model_reporters(stat_keys)
        if columns is not None:
            wanted = {"week", "date", *columns}
            declared = {name: r for name, r in declared.items() if name in wanted}
            stat_keys = [name for name in stat_keys if name in wanted]
        super().__init__(model_reporters=declared, agenttype_reporters=agenttype_reporters)
        stats = set(stat_keys)
        self._fixed = [
            (self.model_vars[name].append, name)
            for name in self.model_reporters
            if name not in stats
        ]
        self._stats = [(self.model_vars[name].append, name) for name in stat_keys]

    def collect(self, model: MagnetSupplyModel) -> None:
        """Record this week's model reporters (and agent-type reporters when declared)."""
        if hasattr(self, "_collection_steps"):
            self._collection_steps.append(model.time)
        reporters = self.model_reporters  # looked up each week: callers may swap one
        for append, name in self._fixed:
            reporter = reporters[name]
            append(getattr(model, reporter) if isinstance(reporter, str) else reporter(model))
        stats = model.stats
        for append, name in self._stats:
            append(stats[name])
        if self.agenttype_reporters:
            self._agenttype_records[model.time] = {
                agent_type: list(self._record_agenttype(model, agent_type))
                for agent_type in self.agenttype_reporters
            }


def _groups(code: str) -> tuple[str, ...]:
    return (code, "EU") if code in EU_CODES else (code,)


def _add_by_destination(stats: dict[str, float], name: str, tally: dict[str, float]) -> None:
    for code, value in tally.items():
        for dest in _groups(code):
            key = f"{name}__{dest}"
            if key in stats:
                stats[key] += value


def agent_reporters() -> dict[type, dict[str, str]]:
    """Per-OEM state (opt-in)."""
    return {
        OEM: {
            "group": "group",
            "country": "country",
            "segment": "segment",
            "planned_vehicles": "planned_vehicles_per_week",
            "produced_vehicles": "produced_vehicles",
            "deferred_vehicles": "deferred_vehicles",
            "lost_vehicles": "lost_vehicles",
            "backlog_vehicles": "backlog_vehicles",
            "inventory_t": "inventory_t",
            "open_orders_t": lambda a: a.open_orders_t(),
            "pending_orders": lambda a: a.pending_orders(),
            "cover_weeks": "cover_weeks",
            "cover_target_weeks": "cover_target_weeks",
            "stopped": "stopped",
            "short": "short",
            "technology_state": "technology_state",
            "low_hree_share": "low_hree_share",
            "magnet_free_share": "magnet_free_share",
            "china_share": "china_share",
            "received_china_t": lambda a: a.received_t["china"],
            "received_row_t": lambda a: a.received_t["row"],
            "received_domestic_t": lambda a: a.received_t["domestic"],
            "received_motor_t": lambda a: a.received_t["motor"],
            "received_transit_t": lambda a: a.received_t["transit"],
            "motor_request_t": "motor_request_t",
            "transit_request_t": "transit_request_t",
        }
    }


def account_flows(model: MagnetSupplyModel) -> None:
    """Add this week's flows to the cumulative magnet, Dy/Tb and oxide ledgers."""
    f = model.flows
    producers = model.domestic_producers
    makers = model.sellers
    f["magnet_produced_t"] += sum(s.output_t for s in makers) + sum(p.gross_t for p in producers)
    f["magnet_produced_controlled_t"] += sum(s.produced_t["controlled"] for s in makers) + sum(
        p.gross_t for p in producers
    )
    f["magnet_scrap_t"] += sum(p.scrap_t for p in producers)  # domestic scrap: controlled
    f["magnet_consumed_t"] += sum(sum(b.consumed_t.values()) for b in model.buyers)
    f["magnet_consumed_controlled_t"] += sum(b.consumed_t["controlled"] for b in model.buyers)
    f["dytb_received_row_t"] += sum(s.dytb_received_t for s in model.row_suppliers)
    f["dytb_used_row_t"] += sum(s.dytb_used_t for s in model.row_suppliers)
    f["oxide_produced_t"] += model.irel.produced_t
    f["oxide_imported_t"] += model.oxide_imported_t
    f["oxide_reserved_t"] += model.irel.reserved_t
    f["oxide_consumed_t"] += sum(p.oxide_used_t for p in producers)
    f["motor_shipped_t"] += model.motor_channel.shipped_total_t
    f["transit_shipped_t"] += model.transit_route.shipped_total_t


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
