"""Vehicle maker (OEM): holds magnet stock by grade, builds what magnets allow, reorders, adapts.

Indian and Japanese firms, and segments (ICE cars, EVs, e-2W …), differ only by parameters.
Stock, orders and licences: :class:`agents.buyer.MagnetBuyer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agents.buyer import SOURCES, MagnetBuyer
from simulation.market import GRADES

if TYPE_CHECKING:
    from simulation.scenario import OEMConfig

__all__ = ["OEM", "SOURCES"]


class OEM(MagnetBuyer):
    """One vehicle-making firm.

    Args:
        model: the model.
        config: the firm's group parameters (:class:`simulation.scenario.OEMConfig`); the
            group's plan is split evenly over its ``count`` firms.
    """

    def __init__(self, model, config: OEMConfig) -> None:
        super().__init__(
            model,
            name=config.name,
            country=config.country,
            end_use=config.end_use,
            controlled_share=config.controlled_share,
            china_share=config.china_share,
            initial_inventory_weeks=config.initial_inventory_weeks,
            cover_target_weeks=config.cover_target_weeks,
            max_cover_weeks=config.max_cover_weeks,
            licence_patience_weeks=config.licence_patience_weeks,
            licence_request_weeks=config.licence_request_weeks,
        )
        self.segment = config.segment
        self.planned_vehicles_per_week = config.planned_vehicles_per_week / config.count
        self.magnet_kg_per_vehicle = config.magnet_kg_per_vehicle
        self.stockpile_raise_weeks = config.stockpile_raise_weeks
        self.redesign_trigger_weeks = config.redesign_trigger_weeks
        self.redesign_lag_weeks = config.redesign_lag_weeks
        self.redesign_reduction_share = config.redesign_reduction_share
        self.redesign_cost_usd = config.redesign_cost_usd
        self.stop_threshold_share = model.spec.simulation.line_stop_threshold_share
        self.produced_vehicles = 0.0
        self.stopped = False
        self.short = False
        self._short_last_week = False
        self.weeks_short = 0
        self.redesign_done_week: int | None = None
        self.redesigned = False

    # ------------------------------------------------------------------ derived state
    def full_need_t(self) -> float:
        """Magnets (both grades) needed to build the plan, t/week."""
        return self.planned_vehicles_per_week * self.magnet_kg_per_vehicle / 1000.0

    @property
    def need_t_per_week(self) -> float:
        """Controlled-grade magnets needed to build the plan, t/week."""
        return self.need_t("controlled")

    @property
    def consumed_total_t(self) -> float:
        """Magnets of both grades used this week, t."""
        return sum(self.consumed_t[g] for g in GRADES)

    # ------------------------------------------------------------------ weekly behaviour
    def step(self) -> None:
        """Receive, build, reorder, adapt: the OEM's week in ODD order."""
        self.receive_shipments()
        self.produce()
        self.reorder()
        self.adapt()

    def produce(self) -> None:
        """Build the share of the plan the scarcer grade allows; use up those magnets."""
        self.use()
        plan = self.planned_vehicles_per_week
        self.produced_vehicles = plan * self.output_share
        self.short = self.output_share < 1.0 - 1e-9
        self.stopped = self.output_share < self.stop_threshold_share

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
            self.redesigned = True
