"""Vehicle maker (OEM): holds magnet stock by grade, builds what magnets allow, reorders, adapts.

Indian and Japanese firms, and segments (ICE cars, EVs, e-2W …), differ only by parameters.
Stock, orders and licences: :class:`agents.buyer.MagnetBuyer`.

Production plan (ODD §7.3a):

* **price**: the firm passes the rise of its expected magnet price (adaptive, on the price it
  pays at its sourcing shares) into its vehicle price and its sales plan falls with
  ``demand_price_elasticity``; magnets are a small share of a vehicle's price, so this is a
  second-order channel;
* **deferral**: a vehicle of the plan not built this week joins a backlog (its buyer waits);
  the firm builds up to ``recovery_margin_share`` above plan to work it off, oldest first,
  and orders magnets for that; a vehicle still waiting after ``max_deferral_weeks`` is lost;
* **announced cuts**: before building, the firm checks the magnets in hand or on their way
  (stock, in transit) against ``plan_horizon_weeks`` of need; short of that, it schedules
  only the rate those magnets support over those weeks, spreading scarce magnets instead of
  building flat out until the stock is gone (C-JP-3: Suzuki announced the Swift stop).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from agents.buyer import SOURCES, MagnetBuyer
from simulation.market import EPS, GRADES
from simulation.prices import partially_adjusted

if TYPE_CHECKING:
    from simulation.scenario import OEMConfig

__all__ = ["OEM", "SOURCES"]


class OEM(MagnetBuyer):
    """One vehicle-making firm.

    Args:
        model: the model.
        config: the firm's group parameters (:class:`simulation.scenario.OEMConfig`).
        firm: this firm's own values of the group's drawable attributes and its share of
            the group plan (:meth:`simulation.scenario.OEMConfig.firm_values`).
    """

    def __init__(self, model, config: OEMConfig, firm: dict[str, float]) -> None:
        super().__init__(
            model,
            name=config.name,
            country=config.country,
            end_use=config.end_use,
            controlled_share=firm["controlled_share"],
            china_share=firm["china_share"],
            initial_inventory_weeks=firm["initial_inventory_weeks"],
            cover_target_weeks=firm["cover_target_weeks"],
            max_cover_weeks=config.max_cover_weeks,
            licence_patience_weeks=config.licence_patience_weeks,
            licence_request_weeks=config.licence_request_weeks,
        )
        self.segment = config.segment
        self.base_vehicles_per_week = firm["planned_vehicles_per_week"]
        self.planned_vehicles_per_week = self.base_vehicles_per_week
        self.vehicle_price_usd = config.vehicle_price_usd
        self.demand_price_elasticity = config.demand_price_elasticity
        self.expected_magnet_usd_per_kg: float | None = None
        self._opening_magnet_usd_per_kg = 0.0
        self.magnet_kg_per_vehicle = firm["magnet_kg_per_vehicle"]
        self.stockpile_raise_weeks = config.stockpile_raise_weeks
        self.redesign_trigger_weeks = config.redesign_trigger_weeks
        self.redesign_lag_weeks = config.redesign_lag_weeks
        self.redesign_reduction_share = config.redesign_reduction_share
        self.redesign_cost_usd = config.redesign_cost_usd
        self.stop_threshold_share = model.spec.simulation.line_stop_threshold_share
        self.plan_horizon_weeks = config.plan_horizon_weeks
        self.recovery_margin_share = config.recovery_margin_share
        self.max_deferral_weeks = config.max_deferral_weeks
        self.backlog: deque[list[float]] = deque()  # [week deferred, vehicles], oldest first
        self.backlog_vehicles = 0.0
        self._refresh_need()
        self.deferred_vehicles = 0.0
        self.recovered_vehicles = 0.0
        self.lost_vehicles = 0.0
        self.scheduled_share = 1.0
        self.produced_vehicles = 0.0
        self.stopped = False
        self.short = False
        self._short_last_week = False
        self.weeks_short = 0
        self.redesign_done_week: int | None = None
        self.redesigned = False

    # ------------------------------------------------------------------ derived state
    def wanted_vehicles(self) -> float:
        """Vehicles the firm wants to build this week: the plan plus backlog recovery."""
        return self._wanted_vehicles

    def full_need_t(self) -> float:
        """Magnets (both grades) needed to build the plan and the recovery, t/week."""
        return self._full_need_t

    def _refresh_need(self) -> None:
        """Recompute the wanted vehicles and full need after the plan, backlog or kg change.

        The hot loops ask for the need many times a week; it changes only here.
        """
        plan = self.planned_vehicles_per_week
        self._wanted_vehicles = plan + min(self.backlog_vehicles, self.recovery_margin_share * plan)
        self._full_need_t = self._wanted_vehicles * self.magnet_kg_per_vehicle / 1000.0

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

    def magnet_usd_per_kg(self) -> float:
        """The magnet price the firm pays at its sourcing shares this week, USD/kg."""
        prices = self.source_prices_usd_per_kg()
        if not self.row_sellers:
            return prices["china"]
        return self.china_share * prices["china"] + (1.0 - self.china_share) * prices["row"]

    def update_plan(self) -> None:
        """Set this week's sales plan from the expected magnet price (module docstring).

        ``plan = base x (1 + k (E[p] - p0) / vehicle price) ** -elasticity``, with ``k`` the
        magnet kg per vehicle, ``E[p]`` the adaptive expected magnet price (weight
        ``market.price_expectation_per_week``) and ``p0`` the price in the first week.
        """
        price = self.magnet_usd_per_kg()
        if self.expected_magnet_usd_per_kg is None:
            self.expected_magnet_usd_per_kg = self._opening_magnet_usd_per_kg = price
        if price == self.expected_magnet_usd_per_kg == self._opening_magnet_usd_per_kg:
            return  # prices at their opening level: the plan is the base plan
        weight = self.model.spec.market.price_expectation_per_week
        self.expected_magnet_usd_per_kg = partially_adjusted(
            self.expected_magnet_usd_per_kg, price, weight
        )
        if self.demand_price_elasticity <= 0:
            return
        rise = (
            self.magnet_kg_per_vehicle
            * (self.expected_magnet_usd_per_kg - self._opening_magnet_usd_per_kg)
            / self.vehicle_price_usd
        )
        self.planned_vehicles_per_week = self.base_vehicles_per_week * max(1.0 + rise, 0.01) ** (
            -self.demand_price_elasticity
        )
        self._refresh_need()

    @property
    def priced_out_vehicles(self) -> float:
        """Vehicles of the base plan not planned this week because of magnet prices."""
        return self.base_vehicles_per_week - self.planned_vehicles_per_week

    def schedule_share(self) -> float:
        """Share of the wanted output the firm schedules this week (the announced-cut rule).

        Magnets of each grade in hand or on their way (stock and in transit: open orders,
        even firm ones, may sit in an overbooked maker's book) over ``H`` weeks of need,
        where ``H`` is ``plan_horizon_weeks`` but at most the cover and pipeline the firm
        orders for (so a firm at its order-up-to level never cuts); 1 when that covers the
        need.
        """
        if self.plan_horizon_weeks <= 0:
            return 1.0
        horizon = min(self.plan_horizon_weeks, self.cover_target_weeks + self.pipeline_weeks)
        if horizon <= EPS:
            return 1.0
        _, controlled_need, free_need, _, _ = self.needs()
        share = 1.0
        for grade, need in (("controlled", controlled_need), ("free", free_need)):
            if need > EPS:
                coming = self.stock_t[grade] + self._transit_t[grade]
                share = min(share, coming / (need * horizon))
        return share

    def produce(self) -> None:
        """Schedule, build what stock allows of it, then settle the backlog (module docstring)."""
        self.update_plan()
        plan = self.planned_vehicles_per_week
        self._expire_backlog()
        wanted = self.wanted_vehicles()
        self.scheduled_share = self.schedule_share()
        self.use(self.scheduled_share)
        built = wanted * self.output_share
        self.produced_vehicles = built
        self._settle_backlog(plan, built)
        self.short = built < plan * (1.0 - 1e-9)
        self.stopped = built < self.stop_threshold_share * plan

    def _expire_backlog(self) -> None:
        """Vehicles deferred ``max_deferral_weeks`` ago or earlier are lost."""
        week, backlog = self.model.week, self.backlog
        self.lost_vehicles = 0.0
        if not backlog:
            return
        while backlog and week - backlog[0][0] >= self.max_deferral_weeks:
            self.lost_vehicles += backlog.popleft()[1]
        self.backlog_vehicles = sum([v for _, v in backlog])
        self._refresh_need()

    def _settle_backlog(self, plan: float, built: float) -> None:
        """Recover the oldest deferred vehicles with output above plan; defer the shortfall."""
        week, backlog = self.model.week, self.backlog
        self.recovered_vehicles = self.deferred_vehicles = 0.0
        if not backlog and plan - built <= EPS:
            return
        extra = max(0.0, built - plan)
        while backlog and extra > EPS:
            take = min(extra, backlog[0][1])
            backlog[0][1] -= take
            extra -= take
            self.recovered_vehicles += take
            if backlog[0][1] <= EPS:
                backlog.popleft()
        short = max(0.0, plan - built)
        if short > EPS:
            if self.max_deferral_weeks > 0:
                backlog.append([week, short])
                self.deferred_vehicles = short
            else:
                self.lost_vehicles += short
        self.backlog_vehicles = sum([v for _, v in backlog])
        self._refresh_need()

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
            self._refresh_need()
            self.redesigned = True
