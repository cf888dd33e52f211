"""Where a buyer buys: the China share follows delivered costs (ODD §7.6).

The China share moves each week part of the way (``market.supplier_switching_per_week``)
towards a target set by delivered cost, price over availability, of Chinese and non-Chinese
magnets relative to the opening state, in the Armington form with elasticity
``market.sourcing_elasticity`` (:func:`target_china_share`); availability is the smoothed
share of what the buyer planned to buy from a source that the source shipped
(:meth:`Sourcing.review_sourcing`).
"""

from __future__ import annotations

from simulation.market import EPS, HOME
from simulation.prices import partially_adjusted


class Sourcing:
    """The sourcing rule of :class:`agents.buyer.MagnetBuyer` (a mixin).

    It reads the buyer's sellers, shares, need and the week's prices, and sets
    ``china_share``.
    """

    def source_prices_usd_per_kg(self) -> dict[str, float]:
        """This week's price of Chinese and of non-Chinese magnets to this buyer, USD/kg.

        Chinese: China's home price at home, the price of exports to India for Indian buyers
        (limit pricing, :class:`simulation.prices.PriceBoard`), else the export price.
        Non-Chinese: the buyer's non-Chinese makers' prices, weighted as it orders. Prices
        move only after the market clears, so the figures are computed once a week.
        """
        week = self.model.week
        if self._prices_week == week:
            return self._prices
        board = self.model.prices
        if self.country == HOME:
            china = board.china_home_usd_per_kg
        elif self.country == "IN":
            china = board.india_import_usd_per_kg
        else:
            china = board.china_export_usd_per_kg
        row = sum(weight * seller.price_usd_per_kg for seller, weight in self.row_sellers)
        self._prices_week, self._prices = week, {"china": china, "row": row}
        return self._prices

    def review_sourcing(self) -> None:
        """Update availability of each source, then move the China share (module docstring).

        Availability of a source = tonnes it shipped to the buyer last week over the tonnes
        the buyer planned to buy there (full need x share), at most 1, smoothed with
        ``market.availability_smoothing_per_week``. Only buyers with both Chinese and
        non-Chinese makers switch. The first call (before anything has shipped) records the
        opening prices the costs are relative to.
        """
        shipped, self._shipped_from_t = (
            self._shipped_from_t,
            dict.fromkeys(self._shipped_from_t, 0.0),
        )
        if not (self.china_sellers and self.row_sellers):
            return
        prices = self.source_prices_usd_per_kg()
        if self._base_price_usd_per_kg is None:
            self._base_price_usd_per_kg = prices
            return
        cfg = self.model.spec.market
        full = self.full_need_t()
        for source, share in (("china", self.china_share), ("row", 1.0 - self.china_share)):
            planned = full * share
            if planned > EPS:
                seen = min(1.0, shipped[source] / planned)
                self.availability[source] = partially_adjusted(
                    self.availability[source], seen, cfg.availability_smoothing_per_week
                )
        if cfg.sourcing_elasticity <= 0 and self.china_share == self.base_china_share:
            return
        base = self._base_price_usd_per_kg
        target = target_china_share(
            self.base_china_share,
            {s: prices[s] / base[s] for s in ("china", "row")},
            self.availability,
            cfg.sourcing_elasticity,
        )
        share = partially_adjusted(self.china_share, target, cfg.supplier_switching_per_week)
        if share != self.china_share:
            self.china_share = share
            self._set_pipeline_weeks()


#: Lowest availability a delivered cost is computed with (a source that ships nothing costs
#: 20 times its price, not infinitely much; assumption).
MIN_AVAILABILITY = 0.05


def target_china_share(
    base_share: float,
    relative_price: dict[str, float],
    availability: dict[str, float],
    elasticity: float,
) -> float:
    """Target China share from delivered costs (Armington form, anchored at the opening).

    Delivered cost of a source = its price relative to the opening price over its
    availability (0-1, at least :data:`MIN_AVAILABILITY`); the target is
    ``s0 c_china^-e / (s0 c_china^-e + (1 - s0) c_row^-e)``, so at opening prices and full
    availability it is the opening share ``s0``.

    Example:
        >>> round(target_china_share(0.9, {"china": 1.0, "row": 1.0},
        ...                          {"china": 0.5, "row": 1.0}, 2.0), 3)
        0.692
    """
    weights = {}
    for source, share in (("china", base_share), ("row", 1.0 - base_share)):
        cost = relative_price[source] / max(availability[source], MIN_AVAILABILITY)
        weights[source] = share * cost ** (-elasticity)
    total = weights["china"] + weights["row"]
    return weights["china"] / total if total > EPS else base_share
