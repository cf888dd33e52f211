"""Vehicle maker (OEM): holds magnet stock, builds what magnets allow, reorders, adapts.

Indian and Japanese firms, and segments (ICE cars, EVs, e-2W …), differ only by parameters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from simulation.market import EPS, Shipment

if TYPE_CHECKING:
    from agents.authority import LicensingAuthority
    from agents.exporter import ChineseExporter
    from simulation.scenario import OEMConfig

SOURCES = ("china", "row", "domestic")


class OEM(Agent):
    """One vehicle-making firm.

    Args:
        model: the model.
        config: the firm's group parameters (:class:`simulation.scenario.OEMConfig`); the
            group's plan is split evenly over its ``count`` firms.
        exporter: the Chinese exporter it buys from.
        authority: the licensing authority it applies to (through the exporter).
        pipeline_weeks: expected magnet weeks in transit at steady state (order-up-to level).
    """

    def __init__(
        self,
        model,
        config: OEMConfig,
        exporter: ChineseExporter,
        authority: LicensingAuthority,
        pipeline_weeks: float,
    ) -> None:
        super().__init__(model)
        self.group = config.name
        self.country = config.country
        self.segment = config.segment
        self.planned_vehicles_per_week = config.planned_vehicles_per_week / config.count
        # Magnets in controlled grades are tracked (stock, orders, licences); free grades
        # (low-HREE, sub-assemblies: C-LIC-4, C-IN-4) flow from China as they are used.
        self.magnet_kg_per_vehicle = config.magnet_kg_per_vehicle * config.controlled_share
        self.free_kg_per_vehicle = config.magnet_kg_per_vehicle * (1 - config.controlled_share)
        self.cover_target_weeks = config.cover_target_weeks
        self.max_cover_weeks = config.max_cover_weeks
        self.stockpile_raise_weeks = config.stockpile_raise_weeks
        self.china_share = config.china_share
        self.row_contract_share = config.row_contract_share
        self.redesign_trigger_weeks = config.redesign_trigger_weeks
        self.redesign_lag_weeks = config.redesign_lag_weeks
        self.redesign_reduction_share = config.redesign_reduction_share
        self.redesign_cost_usd = config.redesign_cost_usd
        self.licence_request_weeks = config.licence_request_weeks
        self.end_use = config.end_use
        self.stop_threshold_share = model.spec.simulation.line_stop_threshold_share
        self.exporter = exporter
        self.authority = authority
        self.pipeline_weeks = pipeline_weeks

        self.inventory_t = self.need_t_per_week * config.initial_inventory_weeks
        self.in_transit: list[Shipment] = []
        self.produced_vehicles = 0.0
        self.consumed_t = 0.0
        self.free_need_t = 0.0
        self.free_received_t = 0.0
        self.received_t = dict.fromkeys(SOURCES, 0.0)
        self.order_t = 0.0
        self.china_order_t = 0.0
        self.unfilled_t = 0.0
        self.stopped = False
        self.short = False
        self._short_last_week = False
        self.weeks_short = 0
        self.redesign_done_week: int | None = None
        self.redesigned = False

    # ------------------------------------------------------------------ derived state
    @property
    def need_t_per_week(self) -> float:
        """Controlled-grade magnets needed to build the plan, t/week."""
        return self.planned_vehicles_per_week * self.magnet_kg_per_vehicle / 1000.0

    @property
    def in_transit_t(self) -> float:
        """Magnets shipped to us but not yet arrived, t."""
        return sum(s.tonnes for s in self.in_transit)

    @property
    def cover_weeks(self) -> float:
        """Inventory cover, weeks of need."""
        need = self.need_t_per_week
        return self.inventory_t / need if need > EPS else 0.0

    @property
    def row_contract_t(self) -> float:
        """Tonnes/week contracted with non-Chinese makers (served first by those honouring it)."""
        return self.row_contract_share * self.need_t_per_week

    # ------------------------------------------------------------------ weekly behaviour
    def step(self) -> None:
        """Receive, build, reorder, adapt: the OEM's week in ODD order."""
        self.receive_shipments()
        self.produce()
        self.reorder()
        self.adapt()

    def receive_shipments(self) -> None:
        """Move shipments due this week into inventory."""
        week = self.model.week
        self.received_t = dict.fromkeys(SOURCES, 0.0)
        arriving = [s for s in self.in_transit if s.arrival_week <= week]
        if arriving:
            self.in_transit = [s for s in self.in_transit if s.arrival_week > week]
            for shipment in arriving:
                self.inventory_t += shipment.tonnes
                self.received_t[shipment.source] += shipment.tonnes

    def produce(self) -> None:
        """Build min(plan, what the magnet stock allows) and use up those magnets."""
        plan = self.planned_vehicles_per_week
        kg = self.magnet_kg_per_vehicle
        possible = self.inventory_t * 1000.0 / kg if kg > 0 else plan
        self.produced_vehicles = min(plan, possible)
        self.consumed_t = min(self.inventory_t, self.produced_vehicles * kg / 1000.0)
        self.inventory_t -= self.consumed_t
        self.free_need_t = self.produced_vehicles * self.free_kg_per_vehicle / 1000.0
        self.free_received_t = 0.0
        self.short = self.produced_vehicles < plan * (1.0 - 1e-9)
        self.stopped = self.produced_vehicles < self.stop_threshold_share * plan

    def reorder(self) -> None:
        """Order up to (cover target + pipeline) weeks of need; apply for a licence if needed."""
        need = self.need_t_per_week
        target = need * (self.cover_target_weeks + self.pipeline_weeks)
        self.order_t = max(0.0, target - self.inventory_t - self.in_transit_t)
        self.china_order_t = self.order_t * self.china_share
        self.unfilled_t = self.order_t
        self.apply_for_licence()

    def apply_for_licence(self) -> None:
        """File an application when licences are required and coverage is running low."""
        week = self.model.week
        china_need = self.need_t_per_week * self.china_share
        if china_need <= EPS or not self.authority.requires_licence(self.country, week):
            return
        if self.authority.has_pending(self.unique_id):
            return
        covered = self.exporter.licensed_remaining_t(self.unique_id, week)
        if covered < china_need * self.licence_request_weeks / 2:
            self.authority.file(
                self.exporter,
                self.unique_id,
                self.country,
                self.end_use,
                china_need * self.licence_request_weeks,
                week,
            )

    def receive_free_grades(self, tonnes: float) -> None:
        """Take this week's uncontrolled-grade magnets from China; they go straight into use.

        They count in ``received_t`` (all magnets received) but not in the stock.
        """
        self.free_received_t += tonnes
        self.received_t["china"] += tonnes

    def accept(self, shipment: Shipment) -> None:
        """Take a shipment into the in-transit pipeline and reduce the open order."""
        self.in_transit.append(shipment)
        self.unfilled_t = max(0.0, self.unfilled_t - shipment.tonnes)
        if shipment.source == "china":
            self.china_order_t = max(0.0, self.china_order_t - shipment.tonnes)

    def adapt(self) -> None:
        """Raise the stockpile target after a shortage; redesign after long shortages."""
        week = self.model.week
        if self.short:
            if not self._short_last_week:  # a new shortage episode
                self.cover_target_weeks = min(
                    self.max_cover_weeks, self.cover_target_weeks + self.stockpile_raise_weeks
                )
            self.weeks_short += 1
        self._short_last_week = self.short
        if (
            self.redesign_done_week is None
            and self.redesign_reduction_share > 0
            and self.weeks_short >= self.redesign_trigger_weeks
        ):
            self.redesign_done_week = week + self.redesign_lag_weeks
            self.model.record_redesign_start(self)
        if (
            not self.redesigned
            and self.redesign_done_week is not None
            and week >= self.redesign_done_week
        ):
            self.magnet_kg_per_vehicle *= 1.0 - self.redesign_reduction_share
            self.free_kg_per_vehicle *= 1.0 - self.redesign_reduction_share
            self.redesigned = True
