"""Magnet prices with memory: China's home price, its export price and the ex-China price.

Each price moves weekly part of the way towards a target set by excess demand in its own
market (partial adjustment, :func:`partially_adjusted`), so it can spike, stay high while
the excess lasts and decay once it is gone (ODD §7.30). Excess demand is a smoothed flow of
demand over a smoothed flow of supply, relative to the same ratio in the model's opening
steady state (every buyer's expected purchases from each maker: :func:`excess_demand`), so
every price starts at its base:

* **China's home price** (USD/kg): demand = new orders from China's home market; supply =
  Chinese output not exported (capacity less exports). Exports that cannot leave make more
  magnets available at home, so the home price sags rather than spikes (C-MKT-5: Chinese
  domestic prices flat in April-May 2025).
* **Chinese export price** (USD/kg): the home price, plus a compliance premium on the share
  of exports that needs a licence (documents, delays: ``compliance_premium_share``), plus
  scarcity: demand = new export orders; supply = exports released. Orders that wait for
  licences are demand that is not supplied.
* **Each non-Chinese maker's price** (USD/kg): its list price (the pre-shock Chinese price
  plus its premium) raised by scarcity: demand = new orders placed with it; supply = what it
  could make this week (capacity, controlled grades limited by its Dy/Tb stock). Below the
  reference ratio the price stays at list (makers do not discount below the contract price;
  assumption).

The **ex-China price** is what buyers outside China pay: Chinese export and non-Chinese
prices weighted by the tonnes each delivered to them this week. C-MKT-3 sets the non-Chinese
list premia (an input); C-MKT-10 (the ex-China premium after the controls) is a validation
fact no parameter here is set from. Non-Chinese makers invest on their price
(:meth:`agents.row.RestOfWorldSupplier.invest`), buyers source on them
(:meth:`agents.buyer.MagnetBuyer.review_sourcing`) and the scheme's bidders and plants
judge entry and exit on them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulation.market import EPS, HOME

if TYPE_CHECKING:
    from simulation.model import MagnetSupplyModel


def partially_adjusted(price: float, target: float, speed_per_week: float) -> float:
    """Next week's price: a share ``speed_per_week`` (0-1] of the way from ``price`` to ``target``.

    After ``n`` weeks at a fixed target the remaining gap is ``(1 - speed) ** n`` of the
    first: the half-life is ``log(0.5) / log(1 - speed)`` weeks.

    Example:
        >>> partially_adjusted(100.0, 60.0, 0.25)
        90.0
    """
    return price + speed_per_week * (target - price)


def excess_demand(demand_t: float, supply_t: float, reference_ratio: float) -> float:
    """Demand over supply relative to the reference ratio, less one (0 = as in the reference).

    Args:
        demand_t: smoothed demand flow, t/week (>= 0).
        supply_t: smoothed supply flow, t/week (>= 0).
        reference_ratio: demand/supply in the reference state (> 0).

    Returns:
        ``(demand / supply) / reference - 1``; with no supply and some demand, the ratio is
        taken against a supply of 1 kg/week (a large finite excess, never infinite).

    Example:
        >>> excess_demand(30.0, 20.0, reference_ratio=0.75)
        1.0
    """
    if demand_t <= EPS:
        return -1.0
    return demand_t / max(supply_t, 1e-3) / max(reference_ratio, EPS) - 1.0


def scarcity_target(base: float, excess: float, elasticity: float, floor: float) -> float:
    """Target price: ``base * (1 + elasticity * excess)``, never below ``floor`` (USD/kg).

    Example:
        >>> scarcity_target(60.0, excess=0.5, elasticity=0.2, floor=30.0)
        66.0
    """
    return max(floor, base * (1.0 + elasticity * excess))


class _Flow:
    """Smoothed demand and supply flows of one market, and their reference ratio.

    Args:
        demand_t: demand flow in the reference (opening steady) state, t/week.
        supply_t: supply flow in that state, t/week.
    """

    def __init__(self, demand_t: float, supply_t: float) -> None:
        self.demand_t, self.supply_t = demand_t, supply_t
        self.reference_ratio = demand_t / supply_t if demand_t > EPS and supply_t > EPS else 1.0

    def update(self, demand_t: float, supply_t: float, smoothing: float) -> float:
        """Smooth this week's flows in; return the excess demand."""
        self.demand_t = partially_adjusted(self.demand_t, demand_t, smoothing)
        self.supply_t = partially_adjusted(self.supply_t, supply_t, smoothing)
        return excess_demand(self.demand_t, self.supply_t, self.reference_ratio)


class PriceBoard:
    """The week's magnet prices (USD/kg), updated after the market clears.

    Args:
        model: the model (its makers' order flows and shipments feed the prices); its
            scenario's ``[market]`` table holds the price parameters.
    """

    def __init__(self, model: MagnetSupplyModel) -> None:
        self.model = model
        self.config = cfg = model.spec.market
        self.base_usd_per_kg = cfg.china_price_usd_per_kg
        self.cap_usd_per_kg = cfg.china_price_usd_per_kg * cfg.max_price_multiple
        self.china_home_usd_per_kg = self.base_usd_per_kg
        self.china_export_usd_per_kg = self.base_usd_per_kg
        self.ex_china_usd_per_kg = self.base_usd_per_kg
        self.expected_china_export_usd_per_kg = self.base_usd_per_kg
        self.india_import_usd_per_kg = self.base_usd_per_kg
        # The reference state is the opening steady state the buyers and makers are built in
        # (every buyer's expected weekly purchases from each maker).
        chinese = {e.unique_id for e in model.exporters}
        home_t = export_t = 0.0
        for buyer in model.buyers:
            for seller_id, by_grade in buyer.expected_sales().items():
                if seller_id in chinese:
                    tonnes = sum(by_grade.values())
                    if buyer.country == HOME:
                        home_t += tonnes
                    else:
                        export_t += tonnes
        capacity = sum(e.capacity_t_per_week for e in model.exporters)
        self._home = _Flow(home_t, max(capacity - export_t, 0.0))
        self._export = _Flow(export_t, export_t)
        self._makers = {
            m.unique_id: _Flow(sum(m.expected_sales_t.values()), m.effective_capacity_t())
            for m in model.row_suppliers
        }

    def _adjust(self, price: float, target: float) -> float:
        speed = self.config.price_adjustment_per_week
        return min(self.cap_usd_per_kg, partially_adjusted(price, target, speed))

    def update(self) -> None:
        """Move every price towards this week's target; then the ex-China price."""
        model, cfg, base = self.model, self.config, self.base_usd_per_kg
        market, smoothing = model.market, cfg.price_smoothing_per_week
        elasticity = cfg.scarcity_price_elasticity
        exporters = model.exporters
        capacity = sum(e.capacity_t_per_week for e in exporters)
        exports = market.exports_total_t
        home_orders = sum(e.ordered_t["china_home"] for e in exporters)
        x_home = self._home.update(home_orders, max(capacity - exports, 0.0), smoothing)
        floor = base * (1.0 - cfg.max_price_discount_share)
        home_target = scarcity_target(base, x_home, elasticity, floor)
        self.china_home_usd_per_kg = self._adjust(self.china_home_usd_per_kg, home_target)

        export_orders = sum(e.ordered_t["ex_china"] for e in exporters)
        licensed_orders = sum(e.ordered_t["licensed"] for e in exporters)
        x_export = self._export.update(export_orders, exports, smoothing)
        licensed_share = licensed_orders / export_orders if export_orders > EPS else 0.0
        export_target = self.china_home_usd_per_kg * (
            1.0 + cfg.compliance_premium_share * licensed_share + elasticity * max(x_export, 0.0)
        )
        self.china_export_usd_per_kg = self._adjust(self.china_export_usd_per_kg, export_target)

        paid_usd = exports * self.china_export_usd_per_kg
        paid_t = exports
        for maker in model.row_suppliers:
            flow = self._makers[maker.unique_id]
            x = flow.update(maker.ordered_t["ex_china"], maker.effective_capacity_t(), smoothing)
            list_price = maker.offer_price_usd_per_kg()
            target = scarcity_target(list_price, max(x, 0.0), elasticity, list_price)
            maker.price_usd_per_kg = self._adjust(maker.price_usd_per_kg, target)
            sold = sum(maker.shipped_t.values())
            paid_usd += sold * maker.price_usd_per_kg
            paid_t += sold
        if paid_t > EPS:
            self.ex_china_usd_per_kg = paid_usd / paid_t
        self.expected_china_export_usd_per_kg = partially_adjusted(
            self.expected_china_export_usd_per_kg,
            self.china_export_usd_per_kg,
            cfg.price_expectation_per_week,
        )
        self.india_import_usd_per_kg = self._india_import_price()

    def _india_import_price(self) -> float:
        """The Chinese export price to India, cut to a limit price while entrants produce.

        With ``limit_pricing_share`` s > 0 and any scheme plant ramping or operating, China
        prices exports to India at ``min(export price, (1 - s) x the lowest such plant's unit
        cost)`` (limit pricing: undercut the entrants; assumption, off by default).
        """
        price, share = self.china_export_usd_per_kg, self.config.limit_pricing_share
        if share <= 0:
            return price
        costs = [
            p.unit_cost_usd_per_kg
            for p in self.model.domestic_producers
            if p.subsidised and p.stage in ("ramping", "operating")
        ]
        return min(price, (1.0 - share) * min(costs)) if costs else price
