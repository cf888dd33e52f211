"""Indian magnet maker: builds, ramps along an S-curve, learns, is limited by oxide, may close.

A scheme plant closes when the import price plus the incentive it earns stays below its unit
cost for ``exit_after_weeks`` weeks in a row (ODD §7.24); IREL's plant does not (C-IRL-3).
"""

from __future__ import annotations

from mesa import Agent

from simulation.market import learning_curve_cost, ramp_share

STAGES = ("planned", "building", "ramping", "operating", "closed")
OXIDE_COVER_WEEKS = 2.0  # oxide stock aimed for, weeks of capacity (assumption)


class DomesticProducer(Agent):
    """A sintered NdFeB plant in India (IREL's Vizag line, or an entrant under the scheme).

    Args:
        model: the model.
        name: label used in outputs.
        nameplate_t_per_year: nameplate capacity, t magnet/yr.
        stage: stage at creation: planned, building, ramping or operating.
        start_week: week building starts (planned) or started (building/ramping).
        build_weeks: construction time, weeks.
        ramp_weeks: S-curve ramp to nameplate, weeks.
        yield_share: good output per tonne processed (the rest is scrap).
        unit_cost_usd_per_kg: unit cost before learning, USD/kg.
        learning_rate: unit-cost fall per doubling of cumulative output.
        subsidised: whether sales earn the scheme's incentive.
        award_week: week of the scheme award (None if not a scheme beneficiary).
        learning_reference_t: cumulative output at which learning starts, t.
        exit_after_weeks: weeks in a row under water after which a scheme plant closes
            (None = never closes: IREL's plant serves strategic users first, C-IRL-3).
    """

    source = "domestic"

    def __init__(
        self,
        model,
        name: str,
        nameplate_t_per_year: float,
        stage: str = "operating",
        start_week: int = 0,
        build_weeks: int = 104,
        ramp_weeks: int = 52,
        yield_share: float = 0.72,
        unit_cost_usd_per_kg: float = 90.0,
        learning_rate: float = 0.1,
        subsidised: bool = False,
        award_week: int | None = None,
        learning_reference_t: float = 1200.0,
        exit_after_weeks: int | None = None,
    ) -> None:
        super().__init__(model)
        self.name = name
        self.nameplate_t_per_year = nameplate_t_per_year
        self.stage = stage
        self.build_weeks = build_weeks
        self.ramp_weeks = ramp_weeks
        self.yield_share = yield_share
        self.initial_unit_cost_usd_per_kg = unit_cost_usd_per_kg
        self.unit_cost_usd_per_kg = unit_cost_usd_per_kg
        self.learning_rate = learning_rate
        self.subsidised = subsidised
        self.award_week = award_week
        self.lead_time_weeks = 1  # delivery inside India, weeks (assumption)
        self.export_lead_time_weeks = 4  # sea freight to Europe or East Asia, weeks (assumption)
        self.build_start_week = start_week
        self.ramp_start_week = start_week if stage == "ramping" else start_week + build_weeks
        self.stock_t = 0.0
        self.oxide_stock_t = 0.0
        self.cumulative_output_t = 0.0
        self.gross_t = 0.0
        self.output_t = 0.0
        self.scrap_t = 0.0
        self.oxide_used_t = 0.0
        self.sold_t = 0.0
        self.sold_abroad_t = 0.0
        self.learning_reference_t = learning_reference_t
        self.exit_after_weeks = exit_after_weeks
        self.weeks_under_water = 0

    @property
    def nameplate_t_per_week(self) -> float:
        """Nameplate capacity, t/week."""
        return self.nameplate_t_per_year / 52.0

    def capacity_t_per_week(self, week: int) -> float:
        """Usable capacity in ``week``, t/week: 0 until built, then the S-curve, then nameplate."""
        if self.stage in ("planned", "building", "closed"):
            return 0.0
        if self.stage == "operating":
            return self.nameplate_t_per_week
        return self.nameplate_t_per_week * ramp_share(week, self.ramp_start_week, self.ramp_weeks)

    def advance(self, week: int) -> None:
        """Move through planned -> building -> ramping -> operating as the weeks pass."""
        if self.stage == "planned" and week >= self.build_start_week:
            self.stage = "building"
        if self.stage == "building" and week >= self.build_start_week + self.build_weeks:
            self.stage = "ramping"
            self.ramp_start_week = week
        if self.stage == "ramping" and week >= self.ramp_start_week + self.ramp_weeks:
            self.stage = "operating"

    def oxide_request_t(self, week: int, magnet_t_per_oxide_t: float) -> float:
        """Oxide wanted this week to hold OXIDE_COVER_WEEKS of capacity in stock, t REO."""
        target = OXIDE_COVER_WEEKS * self.capacity_t_per_week(week) / magnet_t_per_oxide_t
        return max(0.0, target - self.oxide_stock_t)

    def receive_oxide(self, tonnes: float) -> None:
        """Add purchased oxide to stock (t REO)."""
        self.oxide_stock_t += tonnes

    def produce(self, week: int, magnet_t_per_oxide_t: float) -> None:
        """Process oxide into magnets up to capacity; good output to stock, the rest is scrap."""
        self.gross_t = min(
            self.capacity_t_per_week(week), self.oxide_stock_t * magnet_t_per_oxide_t
        )
        self.oxide_used_t = self.gross_t / magnet_t_per_oxide_t
        self.oxide_stock_t = max(0.0, self.oxide_stock_t - self.oxide_used_t)
        self.output_t = self.gross_t * self.yield_share
        self.scrap_t = self.gross_t - self.output_t
        self.stock_t += self.output_t
        self.cumulative_output_t += self.output_t
        self.unit_cost_usd_per_kg = learning_curve_cost(
            self.initial_unit_cost_usd_per_kg,
            self.cumulative_output_t,
            reference_output_t=self.learning_reference_t,
            learning_rate=self.learning_rate,
        )
        self.sold_t = 0.0
        self.sold_abroad_t = 0.0

    def realised_price_usd_per_kg(self, india_usd_per_kg: float, abroad_usd_per_kg: float) -> float:
        """Price of last week's sales: India's import price at home, the ex-China price abroad.

        Weighted by the tonnes sold in each (the India price when nothing was sold), USD/kg.
        """
        if self.sold_t <= 0:
            return india_usd_per_kg
        abroad = min(self.sold_abroad_t, self.sold_t) / self.sold_t
        return (1.0 - abroad) * india_usd_per_kg + abroad * abroad_usd_per_kg

    def review_margin(self, import_usd_per_kg: float, incentive_usd_per_kg: float) -> None:
        """Close after ``exit_after_weeks`` weeks in a row of sales price + incentive < cost.

        ``import_usd_per_kg`` is the price the plant's sales fetch
        (:meth:`realised_price_usd_per_kg`). Only a plant that is producing (ramping or
        operating) is judged; a plant without an exit rule never closes.
        """
        if self.exit_after_weeks is None or self.stage not in ("ramping", "operating"):
            return
        if import_usd_per_kg + incentive_usd_per_kg < self.unit_cost_usd_per_kg:
            self.weeks_under_water += 1
        else:
            self.weeks_under_water = 0
        if self.weeks_under_water >= self.exit_after_weeks:
            self.stage = "closed"

    def offer_price_usd_per_kg(self) -> float:
        """Price to Indian OEMs: unit cost less the incentive while it is paid, USD/kg."""
        return max(0.0, self.unit_cost_usd_per_kg - self.model.incentive.usd_per_kg(self))
