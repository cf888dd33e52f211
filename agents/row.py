"""Rest-of-world magnet maker (Japan, EU, US, Lynas-fed): scarce spare capacity, contracts first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from mesa import Agent

from simulation.market import allocate_priority_then_pro_rata, scarcity_price_index

if TYPE_CHECKING:
    from agents.oem import OEM


class RestOfWorldSupplier(Agent):
    """Sells to the modelled OEMs what it can spare; contracted buyers are served first.

    Args:
        model: the model.
        name: label used in outputs.
        available_t_per_week: tonnes/week it can sell to the modelled OEMs at week 0.
        growth_t_per_week_per_year: yearly growth of that amount, t/week per year.
        premium_usd_per_kg: price premium over the pre-shock Chinese price, USD/kg.
        lead_time_weeks: delivery time, weeks.
        contract_countries: OEM countries whose contracts it honours first.
    """

    source = "row"

    def __init__(
        self,
        model,
        name: str,
        available_t_per_week: float,
        growth_t_per_week_per_year: float = 0.0,
        premium_usd_per_kg: float = 20.0,
        lead_time_weeks: int = 6,
        contract_countries: list[str] | None = None,
    ) -> None:
        super().__init__(model)
        self.name = name
        self.base_available_t_per_week = available_t_per_week
        self.growth_t_per_week_per_year = growth_t_per_week_per_year
        self.premium_usd_per_kg = premium_usd_per_kg
        self.lead_time_weeks = lead_time_weeks
        self.contract_countries = set(contract_countries or ())
        self.available_t = 0.0
        self.demand_t = 0.0
        self.produced_t = 0.0
        self.price_index = 1.0

    def available_t_per_week(self, week: int) -> float:
        """Capacity for the modelled OEMs in ``week``, t/week (grows linearly)."""
        return self.base_available_t_per_week + self.growth_t_per_week_per_year * week / 52.0

    def offer_price_usd_per_kg(self) -> float:
        """List price before scarcity pricing, USD/kg."""
        return self.model.spec.market.china_price_usd_per_kg + self.premium_usd_per_kg

    def serves(self, oem: OEM) -> bool:
        """Sells to every country."""
        return True

    def prepare(self, week: int) -> None:
        """Set this week's sellable amount."""
        self.available_t = self.available_t_per_week(week)
        self.demand_t = 0.0
        self.produced_t = 0.0

    def requested_t(self, oem: OEM) -> float:
        """What ``oem`` still wants this week, t."""
        return oem.unfilled_t

    def allocate(self, requests: Mapping[OEM, float]) -> dict[OEM, float]:
        """Contracted tonnes first, then pro rata; makes (to order) exactly what it ships."""
        caps = {
            oem: oem.row_contract_t for oem in requests if oem.country in self.contract_countries
        }
        shipped = allocate_priority_then_pro_rata(self.available_t, requests, caps)
        total = sum(shipped.values())
        self.demand_t += sum(requests.values())
        self.available_t -= total
        self.produced_t += total
        return shipped

    def update_price(self) -> None:
        """Scarcity price index against the pre-shock Chinese price (1.0)."""
        market = self.model.spec.market
        base = self.offer_price_usd_per_kg() / market.china_price_usd_per_kg
        capacity = self.available_t + self.produced_t
        self.price_index = scarcity_price_index(
            base,
            self.demand_t,
            capacity,
            market.scarcity_price_elasticity,
            market.max_price_multiple,
        )
