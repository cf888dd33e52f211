"""Vehicle maker (OEM): holds magnet stock by grade, builds what magnets allow, reorders, adapts.

Indian and Japanese firms and segments (ICE cars, EVs, e-2W …) differ by parameters, and firms
of one group by their draws (:mod:`simulation.spread`).
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

Technology (ODD §7.8): the firm's output is split over three motor technologies - both
grades (the mixed line), uncontrolled grades only (low-HREE, the free-only line) and
ferrite or magnet-free motors. With an engineering slot free, the firm starts the redesign
project (``project_share`` of its output) of highest positive expected value
(:meth:`OEM.project_values_usd`), or waits; a project moves its share when it qualifies,
``low_hree_lag_weeks`` or ``magnet_free_lag_weeks`` later (C-IN-5).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agents.buyer import SOURCES, MagnetBuyer
from simulation.market import EPS, GRADES
from simulation.prices import partially_adjusted

if TYPE_CHECKING:
    from simulation.scenario import OEMConfig

__all__ = ["OEM", "SOURCES", "TECHNOLOGIES", "Project"]

#: Motor technologies a firm can move output to (ODD §7.8); waiting is keeping as is.
TECHNOLOGIES = ("low_hree", "magnet_free")


@dataclass
class Project:
    """A redesign: ``share`` of the firm's output moves to ``tech`` in week ``done_week``."""

    tech: str
    share: float
    start_week: int
    done_week: int


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
            free_only_share=firm["free_only_share"],
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
        self.anticipation_weeks = config.anticipation_weeks
        self.bought_ahead = False  # raised its cover on an announced control
        # Technology (ODD §7.8): shares of the firm's output by motor technology.
        self.low_hree_share = firm["free_only_share"]  # uncontrolled grades only
        self.magnet_free_share = 0.0  # ferrite or magnet-free motors
        self.opening_mixed_share = 1.0 - self.low_hree_share
        self.opening_controlled_t_per_week = (
            self.base_vehicles_per_week
            * self.magnet_kg_per_vehicle
            * self.opening_mixed_share
            * self.controlled_share
            / 1000.0
        )
        self.engineering_slots = int(firm["engineering_slots"])
        self.projects: list[Project] = []
        self.expected_short = {"mixed": 0.0, "free_only": 0.0}
        self._tech = config
        self.project_cost_usd = config.project_cost_usd
        self.switches: list[tuple[Project, float]] = []  # finished projects, share moved
        self.motor_request_t = 0.0  # magnet content asked of Chinese motor makers, t/week
        self.transit_request_t = 0.0  # controlled grades asked of third-country traders, t/week
        self.workarounds_qualified = False
        self.routes_lost: set[str] = set()  # channels closed to the firm after a detection
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
        self._full_need_t = (
            self._wanted_vehicles
            * self.magnet_kg_per_vehicle
            * (1.0 - self.magnet_free_share)
            / 1000.0
        )

    @property
    def mixed_share(self) -> float:
        """Share of the firm's output built with both grades (the rest: low-HREE, magnet-free)."""
        return max(0.0, 1.0 - self.low_hree_share - self.magnet_free_share)

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
            * (1.0 - self.magnet_free_share)
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
        magnet_free = self.magnet_free_share
        # written as 1 - short so a line with full output builds exactly ``wanted``
        built = wanted * (1.0 - (1.0 - magnet_free) * (1.0 - self.output_share))
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
        """Buy ahead, raise the cover, redesign, ask for motors (ODD §7.7, §7.8, §7.8b).

        Buy ahead of an announced control, raise the stockpile target after a shortage,
        choose and finish redesign projects, ask for assembled motors.
        """
        if not self.bought_ahead and self.anticipation_weeks > 0:
            week = self.model.week
            if self.model.authority.control_announced(self.country, week):
                self.bought_ahead = True
                self.cover_target_weeks = min(
                    self.max_cover_weeks, self.cover_target_weeks + self.anticipation_weeks
                )
        if self.short:
            if not self._short_last_week:  # a new shortage episode
                self.cover_target_weeks = min(
                    self.max_cover_weeks, self.cover_target_weeks + self.stockpile_raise_weeks
                )
            self.weeks_short += 1
        self._short_last_week = self.short
        weight = self.model.spec.market.price_expectation_per_week
        for line, expected in self.expected_short.items():
            self.expected_short[line] = partially_adjusted(
                expected, 1.0 - self.line_output_share[line], weight
            )
        self._finish_projects()
        if len(self.projects) < self.engineering_slots:
            self._start_project()
        self._request_workarounds()

    def _request_workarounds(self) -> None:
        """Ask for assembled motors and third-country magnets while short (ODD §7.8b, §7.8c).

        Once ``workaround_qualify_weeks`` short weeks have qualified a Chinese motor supplier
        and a trader, the firm asks each channel for the mixed line's expected shortfall, at
        most the channel's share of its need, if a vehicle's margin pays the channel's
        premium on its magnets (for the route: the premium over the chance of getting
        through). Motors carry the mixed line's grade mix; the route carries controlled
        grades and is used only while the firm's Chinese orders are blocked.
        """
        self.motor_request_t = self.transit_request_t = 0.0
        cfg, market = self._tech, self.model.spec.market
        if cfg.motor_import_max_share <= 0.0 and cfg.transit_max_share <= 0.0:
            return
        if not self.workarounds_qualified:
            if self.weeks_short < cfg.workaround_qualify_weeks:
                return
            self.workarounds_qualified = True
        margin = cfg.margin_share * self.vehicle_price_usd
        kg = self.magnet_kg_per_vehicle
        short = self.expected_short["mixed"]
        _, controlled_need, _, _, mixed_free_t = self.needs()
        if cfg.motor_import_max_share > 0.0 and margin > market.motor_premium_usd_per_kg * kg:
            share = min(cfg.motor_import_max_share, short)
            self.motor_request_t = share * (controlled_need + mixed_free_t)
        through = 1.0 - market.transit_detection_probability
        if (
            cfg.transit_max_share > 0.0
            and self.blocked
            and "transit" not in self.routes_lost
            and margin * through > market.transit_premium_usd_per_kg * kg
        ):
            self.transit_request_t = min(cfg.transit_max_share, short) * controlled_need

    def motor_request(self) -> dict[str, float]:
        """This week's motor request by grade (the mixed line's mix), t/week."""
        t, share = self.motor_request_t, self.controlled_share
        return {"controlled": t * share, "free": t * (1.0 - share)}

    def lose_route(self, source: str) -> None:
        """A consignment via ``source`` was detected: the firm loses that channel for good."""
        self.routes_lost.add(source)

    def project_values_usd(self) -> dict[str, float]:
        """Expected net value of starting one project of each technology now, USD (ODD §7.8).

        ``V x payback x gain - cost``: ``V`` vehicles a week move (``project_share`` of the
        base plan, at most the room left), each gaining, per week, the expected shortfall it
        escapes times the vehicle's margin (low-HREE: the mixed line's expected shortfall
        less the free-only line's; magnet-free: the mixed line's) plus, for magnet-free, the
        magnets it no longer buys above the opening price, less its extra cost per vehicle.
        Expected shortfalls are the lines' smoothed shortfalls (the firm's own experience,
        with the half-year memory of prices).
        """
        cfg = self._tech
        margin = cfg.margin_share * self.vehicle_price_usd
        short = self.expected_short
        price = self.expected_magnet_usd_per_kg or self._opening_magnet_usd_per_kg
        gains = {
            "low_hree": (short["mixed"] - short["free_only"]) * margin
            - cfg.low_hree_extra_usd_per_vehicle,
            "magnet_free": short["mixed"] * margin
            + self.magnet_kg_per_vehicle * (price - self._opening_magnet_usd_per_kg)
            - cfg.magnet_free_extra_usd_per_vehicle,
        }
        values = {}
        for tech, gain in gains.items():
            vehicles = self.project_room(tech) * self.base_vehicles_per_week
            values[tech] = vehicles * cfg.payback_weeks * gain - cfg.project_cost_usd
        return values

    def project_room(self, tech: str) -> float:
        """Share of output the next project of ``tech`` would move (0 when none is left)."""
        cfg = self._tech
        committed = {t: sum(p.share for p in self.projects if p.tech == t) for t in TECHNOLOGIES}
        mixed_left = self.mixed_share - sum(committed.values())
        if tech == "low_hree":
            ceiling = cfg.low_hree_max_share - self.low_hree_share
        else:
            ceiling = cfg.magnet_free_max_share - self.magnet_free_share
        room = min(cfg.project_share, mixed_left, ceiling - committed[tech])
        return room if room > EPS else 0.0

    def _start_project(self) -> None:
        """Start the technology of highest positive expected value; else wait (keep as is)."""
        if self.expected_short["mixed"] <= EPS:
            return
        values = self.project_values_usd()
        tech = max(TECHNOLOGIES, key=lambda t: values[t])
        if values[tech] <= 0.0:
            return
        cfg = self._tech
        lag = cfg.low_hree_lag_weeks if tech == "low_hree" else cfg.magnet_free_lag_weeks
        project = Project(tech, self.project_room(tech), self.model.week, self.model.week + lag)
        self.projects.append(project)
        self.model.record_redesign_start(self)

    def _finish_projects(self) -> None:
        """Qualified projects move their share of output to the new technology."""
        week = self.model.week
        done = [p for p in self.projects if week >= p.done_week]
        if not done:
            return
        for project in done:
            self.projects.remove(project)
            moved = min(project.share, self.mixed_share)
            if project.tech == "low_hree":
                self.low_hree_share += moved
            else:
                self.magnet_free_share += moved
            self.switches.append((project, moved))
        magnet_lines = self.low_hree_share + self.mixed_share
        self.free_only_share = self.low_hree_share / magnet_lines if magnet_lines > EPS else 0.0
        self._refresh_need()

    @property
    def technology_state(self) -> str:
        """``switching`` while a project runs, ``switched`` once one finished, else ``original``."""
        if self.projects:
            return "switching"
        return "switched" if self.switches else "original"

    @property
    def controlled_substituted_share(self) -> float:
        """Share of the firm's opening controlled-grade demand moved off controlled grades."""
        if self.opening_mixed_share <= EPS:
            return 0.0
        return 1.0 - self.mixed_share / self.opening_mixed_share
