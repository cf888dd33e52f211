"""Non-Chinese magnet maker (Japan's makers, the EU, the US, Lynas-fed).

It sells to every destination from an order book, contracted buyers first, and needs Dy/Tb
for controlled grades.

Japan makes about half of all non-Chinese NdFeB and depends 100% on China for heavy rare
earths (C-JP-5); Dy/Tb are themselves under China's licensing (C-LIC-1). Non-Chinese Dy/Tb
appears from May 2025 (C-JP-2). A maker makes controlled grades only as far as its Dy/Tb
stock allows (kg Dy+Tb per tonne of magnet, ``market.dytb_kg_per_t_controlled``); it keeps
``dytb_cover_weeks`` of Dy/Tb use in stock and orders the gap from China each week, under a
licence (product ``heavy_re``) while the controls require one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agents.seller import MagnetSeller
from simulation.market import EPS, ramp_share
from simulation.prices import partially_adjusted

if TYPE_CHECKING:
    from agents.buyer import MagnetBuyer
    from simulation.policies import Application, Licence

#: Shipping time of Dy/Tb from China to a non-Chinese maker, weeks (assumption).
DYTB_LEAD_WEEKS = 4


class RestOfWorldSupplier(MagnetSeller):
    """A non-Chinese magnet maker.

    Args:
        model: the model.
        name: label used in outputs.
        capacity_t_per_week: output capacity at week 0, t/week.
        growth_t_per_week_per_year: yearly capacity growth, t/week per year.
        premium_usd_per_kg: price premium over the pre-shock Chinese price, USD/kg.
        lead_time_weeks: delivery time, weeks.
        contract_countries: destinations whose contracts it serves first.
        country: the maker's country.
        dytb_cover_weeks: Dy/Tb stock aimed for (and held at the start), weeks of use.
        dytb_china_share: share of its Dy/Tb bought from China.
        non_china_dytb_t_per_week: Dy/Tb available from non-Chinese sources, t/week.
        non_china_dytb_from_week: first week non-Chinese Dy/Tb is available.
        initial_stock_weeks, target_stock_weeks: finished stock, weeks of expected sales.
        capacity_response_share: target capacity per unit of expected margin above the
            hurdle (0 = never invests); see :meth:`invest`.
        investment_hurdle_share: expected price above list needed to invest, share.
        price_expectation_per_week: weight of the latest price in the expected price.
        expansion_build_weeks: time to build an expansion, weeks (C-RMP-1).
        expansion_ramp_weeks: S-curve ramp of an expansion to its full size, weeks (C-RMP-1).
    """

    source = "row"

    def __init__(
        self,
        model,
        name: str,
        capacity_t_per_week: float,
        growth_t_per_week_per_year: float = 0.0,
        premium_usd_per_kg: float = 20.0,
        lead_time_weeks: int = 6,
        contract_countries: list[str] | None = None,
        country: str = "XX",
        dytb_cover_weeks: float = 12.0,
        dytb_china_share: float = 1.0,
        non_china_dytb_t_per_week: float = 0.0,
        non_china_dytb_from_week: int = 0,
        initial_stock_weeks: float = 2.0,
        target_stock_weeks: float = 2.0,
        capacity_response_share: float = 0.0,
        investment_hurdle_share: float = 0.05,
        price_expectation_per_week: float = 1 / 26,
        expansion_build_weeks: int = 104,
        expansion_ramp_weeks: int = 52,
    ) -> None:
        super().__init__(
            model,
            name,
            capacity_t_per_week,
            lead_time_weeks,
            initial_stock_weeks=initial_stock_weeks,
            target_stock_weeks=target_stock_weeks,
            country=country,
        )
        self.base_capacity_t_per_week = capacity_t_per_week
        self.growth_t_per_week_per_year = growth_t_per_week_per_year
        self.premium_usd_per_kg = premium_usd_per_kg
        self.contract_countries = set(contract_countries or ())
        self.dytb_cover_weeks = dytb_cover_weeks
        self.dytb_china_share = dytb_china_share
        self.non_china_dytb_t_per_week = non_china_dytb_t_per_week
        self.non_china_dytb_from_week = non_china_dytb_from_week
        self.dytb_stock_t = 0.0
        self.dytb_in_transit: list[tuple[int, float]] = []  # (arrival week, t)
        self.dytb_received_t = 0.0
        self.dytb_used_t = 0.0
        self.dytb_pending: dict[int, float] = {}  # application id -> t
        self.price_usd_per_kg = self.offer_price_usd_per_kg()
        self.capacity_response_share = capacity_response_share
        self.investment_hurdle_share = investment_hurdle_share
        self.price_expectation_per_week = price_expectation_per_week
        self.expansion_build_weeks = expansion_build_weeks
        self.expansion_ramp_weeks = expansion_ramp_weeks
        self.expected_price_usd_per_kg = self.price_usd_per_kg
        self.expansions: list[tuple[int, float]] = []  # (decision week, t/week at full size)
        self.capacity_ordered_t = 0.0  # expansions decided this week, t/week

    # ------------------------------------------------------------------ Dy/Tb
    def _dytb_per_t(self) -> float:
        return self.model.spec.market.dytb_kg_per_t_controlled / 1000.0

    def dytb_use_t_per_week(self) -> float:
        """Dy/Tb used at the expected controlled-grade sales, t/week."""
        return self.expected_sales_t["controlled"] * self._dytb_per_t()

    def expect(self, sales_t: dict[str, float]) -> None:
        """Expected sales and opening stocks (finished magnets and Dy/Tb)."""
        super().expect(sales_t)
        self.dytb_stock_t = self.dytb_cover_weeks * self.dytb_use_t_per_week()
        # steady state: the last DYTB_LEAD_WEEKS weeks' Chinese Dy/Tb is on its way
        weekly = self.dytb_use_t_per_week() * self.dytb_china_share
        self.dytb_in_transit = [(w, weekly) for w in range(DYTB_LEAD_WEEKS)]

    def buy_dytb(self, week: int) -> None:
        """Receive Dy/Tb due, take non-Chinese Dy/Tb, order the gap from China."""
        self.dytb_received_t = 0.0
        arrived = [t for w, t in self.dytb_in_transit if w <= week]
        self.dytb_in_transit = [(w, t) for w, t in self.dytb_in_transit if w > week]
        self.dytb_received_t += sum(arrived)
        if week >= self.non_china_dytb_from_week:
            self.dytb_received_t += self.non_china_dytb_t_per_week
        self.dytb_stock_t += self.dytb_received_t
        use = self.dytb_use_t_per_week()
        target = use * (self.dytb_cover_weeks + DYTB_LEAD_WEEKS * self.dytb_china_share)
        position = (
            self.dytb_stock_t
            + sum(t for _, t in self.dytb_in_transit)
            + sum(self.dytb_pending.values())
        )
        gap = min(target - position, use * self.dytb_china_share * 4)
        if gap <= EPS or self.dytb_china_share <= 0:
            return
        authority = self.model.authority
        if authority.requires_licence(self.country, week, product="heavy_re"):
            app = authority.file(
                self, self.unique_id, self.country, "magnet making", gap, week, product="heavy_re"
            )
            self.dytb_pending[app.id] = gap
        else:
            self.dytb_in_transit.append((week + DYTB_LEAD_WEEKS, gap))

    def on_decision(self, app: Application, licence: Licence | None) -> None:
        """Dy/Tb applications are ours; magnet applications go to the order book."""
        if app.product != "heavy_re":
            super().on_decision(app, licence)
            return
        self.dytb_pending.pop(app.id, None)
        if licence is not None:
            self.dytb_in_transit.append((self._week() + DYTB_LEAD_WEEKS, licence.remaining_t))
            licence.remaining_t = 0.0

    def on_moot(self, app: Application) -> None:
        """A Dy/Tb application no longer needed: the Dy/Tb ships freely."""
        if app.product != "heavy_re":
            super().on_moot(app)
            return
        tonnes = self.dytb_pending.pop(app.id, 0.0)
        if tonnes > EPS:
            self.dytb_in_transit.append((self._week() + DYTB_LEAD_WEEKS, tonnes))

    def _week(self) -> int:
        return max(self.model.week, 0)

    # ------------------------------------------------------------------ the week
    def capacity_at(self, week: int) -> float:
        """Capacity in ``week``, t/week: the trend (projects already under way) plus expansions.

        An expansion decided in week ``d`` adds nothing while it is built
        (``expansion_build_weeks``), then ramps along an S-curve to its full size over
        ``expansion_ramp_weeks`` (C-RMP-1).
        """
        trend = self.base_capacity_t_per_week + self.growth_t_per_week_per_year * week / 52.0
        return trend + sum(size * self._online_share(d, week) for d, size in self.expansions)

    def _online_share(self, decided_week: int, week: int) -> float:
        start = decided_week + self.expansion_build_weeks
        return ramp_share(week, start, self.expansion_ramp_weeks)

    def capacity_pipeline_t(self, week: int) -> float:
        """Expansions decided but not yet producing at full size, t/week."""
        return sum(size * (1.0 - self._online_share(d, week)) for d, size in self.expansions)

    def invest(self, week: int) -> None:
        """Decide expansions from the expected margin (ODD §7.18; after prices move).

        The expected price follows the price adaptively; its excess over the list price
        beyond the hurdle, ``e``, sets a target capacity ``K (1 + capacity_response_share e)``;
        the maker commits the gap between that target and its capacity plus expansions
        already under way (so it does not re-order capacity it is building). With the price
        at list, ``e <= 0``: no expansion. A maker whose Dy/Tb stock limits its output below
        capacity does not expand: it could not feed the new lines (assumption).
        """
        self.expected_price_usd_per_kg = partially_adjusted(
            self.expected_price_usd_per_kg, self.price_usd_per_kg, self.price_expectation_per_week
        )
        self.capacity_ordered_t = 0.0
        if self.capacity_response_share <= 0:
            return
        margin = self.expected_price_usd_per_kg / self.offer_price_usd_per_kg() - 1.0
        excess = margin - self.investment_hurdle_share
        if excess <= 0 or self.effective_capacity_t() < self.capacity_t_per_week - EPS:
            return
        online = self.capacity_t_per_week  # capacity_at(week), set by this week's produce
        target = online * (1.0 + self.capacity_response_share * excess)
        gap = target - online - self.capacity_pipeline_t(week)
        if gap > EPS:
            self.expansions.append((week, gap))
            self.capacity_ordered_t = gap

    def produce(self, week: int) -> None:
        """Buy Dy/Tb, then make to order within capacity and the Dy/Tb stock."""
        self.capacity_t_per_week = self.capacity_at(week)
        self.buy_dytb(week)
        per_t = self._dytb_per_t()
        limit = self.dytb_stock_t / per_t if per_t > 0 else float("inf")
        self.make({"controlled": limit})
        self.dytb_used_t = self.produced_t["controlled"] * per_t
        self.dytb_stock_t = max(0.0, self.dytb_stock_t - self.dytb_used_t)

    def effective_capacity_t(self) -> float:
        """What it could make this week, t: capacity, with controlled grades limited by Dy/Tb.

        Controlled output is at most its Dy/Tb stock over the Dy/Tb content; uncontrolled
        output needs none (counted at its expected sales). The price board takes this as the
        maker's supply, so a Dy/Tb shortage raises its price (ODD §7.20).
        """
        per_t = self._dytb_per_t()
        if per_t <= 0:
            return self.capacity_t_per_week
        return min(
            self.capacity_t_per_week,
            self.dytb_stock_t / per_t + self.expected_sales_t["free"],
        )

    def licence_required(self, buyer: MagnetBuyer, grade: str, week: int) -> bool:
        """Controlled grades need a Chinese licence only under an extraterritorial rule."""
        return (
            grade == "controlled"
            and buyer.country != self.country
            and self.model.authority.extraterritorial(week)
        )

    def offer_price_usd_per_kg(self) -> float:
        """List (contract) price, USD/kg: the pre-shock Chinese price plus the premium."""
        return self.model.spec.market.china_price_usd_per_kg + self.premium_usd_per_kg

    @property
    def price_index(self) -> float:
        """This week's price over the pre-shock Chinese price (set by the price board)."""
        return self.price_usd_per_kg / self.model.spec.market.china_price_usd_per_kg
