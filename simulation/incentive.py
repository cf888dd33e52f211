"""India's magnet incentive scheme: the tender, the capital subsidy and the sales incentive.

The scheme (modelled on C-PLI-1) runs one tender in its award week: the cheapest bidders
whose subsidised cost comes close enough to the Chinese price enter as new plants and share
the capital subsidy. From ``gestation_weeks`` after the award, their sales earn
``subsidy_usd_per_kg`` for ``incentive_weeks`` until the sales budget is spent (ODD §7.26-7.27).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from agents import DomesticProducer
from simulation.market import EPS
from simulation.scenario import IncentiveConfig

if TYPE_CHECKING:
    from simulation.model import MagnetSupplyModel


class IncentiveScheme:
    """The scheme's run state: its terms (which levers may change), budget and spending.

    Args:
        model: the model; its ``rng`` draws the bidders' costs and awarded plants join it.
            The terms at the start are the scenario's ``[incentive]`` table.
    """

    #: Terms fixed when the run starts (the award week and budget are derived once).
    FIXED_TERMS = frozenset({"enabled", "award_week", "award_date", "sales_budget_inr_crore"})

    def __init__(self, model: MagnetSupplyModel) -> None:
        self.model = model
        spec = model.spec
        self.terms: IncentiveConfig = spec.incentive
        self.award_week: int | None = spec.incentive_award_week()
        self.sales_budget_usd = (
            spec.incentive.sales_budget_inr_crore * 1e7 / spec.market.inr_per_usd
            if spec.incentive.enabled
            else 0.0
        )
        self.sales_subsidy_spent_usd = 0.0
        self.capital_subsidy_spent_usd = 0.0
        self.subsidy_paid_usd = 0.0  # this week's payments

    @property
    def subsidy_spent_usd(self) -> float:
        """Scheme spending so far (sales incentive + capital subsidy), USD."""
        return self.sales_subsidy_spent_usd + self.capital_subsidy_spent_usd

    def start_week(self) -> None:
        """Reset this week's payments."""
        self.subsidy_paid_usd = 0.0

    def set_terms(self, **changes: Any) -> None:
        """Change the terms from the next week on; see ``MagnetSupplyModel.set_incentive``.

        Raises:
            ValueError: an unknown field, one fixed at the start of the run, or a value out
                of the field's range (pydantic's ValidationError is a ValueError).
        """
        fixed = sorted(self.FIXED_TERMS & changes.keys())
        if fixed:
            raise ValueError(f"incentive {', '.join(fixed)} cannot change during a run")
        self.terms = IncentiveConfig.model_validate({**self.terms.model_dump(), **changes})
        if "ramp_weeks" in changes:
            for plant in self.model.domestic_producers:
                if plant.stage in ("planned", "building"):
                    plant.ramp_weeks = self.terms.ramp_weeks

    def award(self, week: int) -> None:
        """Run the tender: cheapest bidders whose subsidised cost closes the expected gap enter.

        Bidders compare their cost less the incentive with the import price they expect: the
        expected Chinese export price at the award (:class:`simulation.prices.PriceBoard`),
        so controls that raise it bring more entrants (myopic: bidders do not foresee a
        price response to their entry; assumption).
        """
        model, inc = self.model, self.terms
        price = model.prices.expected_china_export_usd_per_kg
        costs = np.sort(
            model.rng.uniform(
                inc.bidder_cost_min_usd_per_kg, inc.bidder_cost_max_usd_per_kg, inc.n_bidders
            )
        )
        awarded = []
        for cost in costs:
            enough = len(awarded) >= inc.n_awards
            full = (
                len(awarded) + 1
            ) * inc.award_capacity_t_per_year > inc.capacity_target_t_per_year + EPS
            if (
                enough
                or full
                or cost - inc.subsidy_usd_per_kg > price * (1 + inc.entry_margin_share)
            ):
                break
            awarded.append(float(cost))
        for i, cost in enumerate(awarded):
            DomesticProducer(
                model,
                name=f"scheme-{i + 1}",
                nameplate_t_per_year=inc.award_capacity_t_per_year,
                stage="building",
                start_week=week,
                build_weeks=inc.build_weeks,
                ramp_weeks=inc.ramp_weeks,
                yield_share=inc.yield_share,
                unit_cost_usd_per_kg=cost,
                learning_rate=inc.learning_rate,
                subsidised=True,
                award_week=week,
                learning_reference_t=inc.learning_reference_t,
                exit_after_weeks=inc.exit_after_weeks,
            )
        if awarded:  # the capital subsidy is shared out per award slot (C-PLI-1)
            capital = inc.capital_subsidy_inr_crore * 1e7 / model.spec.market.inr_per_usd
            capital *= len(awarded) / max(inc.n_awards, 1)
            self.capital_subsidy_spent_usd += capital
            self.subsidy_paid_usd += capital

    def usd_per_kg(self, producer: DomesticProducer) -> float:
        """Sales incentive a producer earns this week, USD/kg (0 outside the payment window)."""
        inc = self.terms
        award_week = producer.award_week if producer.award_week is not None else self.award_week
        if not (inc.enabled and producer.subsidised and award_week is not None):
            return 0.0
        start = award_week + inc.gestation_weeks
        if not start <= self.model.week < start + inc.incentive_weeks:
            return 0.0
        return inc.subsidy_usd_per_kg if self._sales_budget_left_usd() > 0 else 0.0

    def pay(self, producer: DomesticProducer) -> None:
        """Pay the sales incentive on what ``producer`` sold this week, up to the budget left."""
        rate = self.usd_per_kg(producer)
        if rate <= 0 or producer.sold_t <= 0:
            return
        pay = min(producer.sold_t * 1000.0 * rate, self._sales_budget_left_usd())
        self.sales_subsidy_spent_usd += pay
        self.subsidy_paid_usd += pay

    def _sales_budget_left_usd(self) -> float:
        return max(0.0, self.sales_budget_usd - self.sales_subsidy_spent_usd)
