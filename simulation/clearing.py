"""The weekly clearing of the magnet market (ODD §3 step 4, §7.12-7.17).

Every maker ships from its order book (:meth:`agents.seller.MagnetSeller.ship`); this module
routes what they ship: Chinese exports of uncontrolled grades to a controlled destination
wait in :class:`Customs` for identification (C-LIC-10) and count as exports when released,
everything else counts when it leaves the maker. It also keeps the week's tallies by
destination (exports, licensed exports, non-Chinese sales, China's home sales) and lets
Indian plants sell what they have to Indian buyers' uncovered need.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agents.buyer import HELD, MagnetBuyer
from agents.exporter import HOME
from simulation.market import EPS, GRADES, Shipment, allocate_pro_rata

if TYPE_CHECKING:
    from agents.seller import MagnetSeller
    from simulation.model import MagnetSupplyModel
    from simulation.scenario import CustomsConfig

#: EU member states (ISO 3166-1); ``XE`` is the rest of the EU as one aggregate buyer.
EU_CODES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "XE",
    ]
)


@dataclass(slots=True)
class _Held:
    shipment: Shipment
    buyer: MagnetBuyer
    lead_time_weeks: int
    entered_week: int


class Customs:
    """China's customs identification of uncontrolled grades (C-LIC-10).

    One customs code covers all rare-earth magnets, so while a destination's controlled
    grades need a licence, every uncontrolled consignment to it is held until its Dy/Tb
    content is identified: at least ``identification_weeks`` after it was declared, first
    come first served, up to a weekly identification capacity that starts at
    ``identification_t_per_week`` when the controls begin and grows by
    ``identification_growth_t_per_week_per_week`` each week (customs learning the new
    procedure). Consignments count as exports when released.

    Args:
        config: the scenario's ``[customs]`` table.
    """

    def __init__(self, config: CustomsConfig) -> None:
        self.config = config
        self.queue: deque[_Held] = deque()
        self.first_week: int | None = None
        self.released_t = 0.0

    def capacity_t(self, week: int) -> float:
        """Tonnes that can be identified in ``week``."""
        if self.first_week is None:
            return float("inf")
        cfg = self.config
        return cfg.identification_t_per_week + cfg.identification_growth_t_per_week_per_week * (
            week - self.first_week
        )

    def hold(self, shipment: Shipment, buyer: MagnetBuyer, lead: int, week: int) -> None:
        """Take a consignment for identification (the buyer sees it as held in transit)."""
        if self.first_week is None:
            self.first_week = week
        shipment.arrival_week = HELD
        self.queue.append(_Held(shipment, buyer, lead, week))

    @property
    def held_t(self) -> float:
        """Tonnes waiting for identification."""
        return sum(h.shipment.tonnes for h in self.queue)

    def release(self, week: int) -> list[_Held]:
        """Release identified consignments, oldest first, within this week's capacity."""
        left = self.capacity_t(week)
        out: list[_Held] = []
        while self.queue and left > EPS:
            held = self.queue[0]
            if held.entered_week + self.config.identification_weeks > week:
                break
            tonnes = held.shipment.tonnes
            if tonnes <= left + EPS:
                self.queue.popleft()
                left -= tonnes
                out.append(held)
            else:  # part of the consignment is released, the rest waits
                part = held.buyer.split_held(held.shipment, left)
                out.append(_Held(part, held.buyer, held.lead_time_weeks, held.entered_week))
                left = 0.0
        self.released_t = sum(h.shipment.tonnes for h in out)
        return out


class Market:
    """Routes shipments and keeps the week's tallies.

    Args:
        model: the model; its makers ship to its buyers.
    """

    def __init__(self, model: MagnetSupplyModel) -> None:
        self.model = model
        self.customs = Customs(model.spec.customs)
        #: The latest order id given out (unique within the run; a seller booking counts on).
        self.last_order_id = 0
        self.start_week()

    def start_week(self) -> None:
        """Reset the week's tallies."""
        self.exports_t: dict[str, float] = {}
        self.licensed_exports_t: dict[str, float] = {}
        self.row_sales_t: dict[str, float] = {}
        self.controlled_exports_t = 0.0
        self.domestic_sales_t = 0.0
        self.domestic_exports_t = 0.0
        self.home_sales_t = 0.0

    def dispatch(
        self,
        seller: MagnetSeller,
        buyer: MagnetBuyer,
        shipment: Shipment,
        week: int,
        licensed: bool,
    ) -> None:
        """Route one shipment: home sale, export, customs hold, or a non-Chinese sale."""
        dest = buyer.country
        if seller.source != "china":
            _add(self.row_sales_t, dest, shipment.tonnes)
            buyer.accept(shipment)
            return
        if dest == HOME:
            self.home_sales_t += shipment.tonnes
            buyer.accept(shipment)
            return
        if shipment.grade == "free" and self.model.authority.requires_licence(dest, week):
            self.customs.hold(shipment, buyer, seller.lead_time_weeks, week)
            buyer.accept(shipment)
            return
        self._export(dest, shipment.tonnes, licensed, shipment.grade)
        buyer.accept(shipment)

    def _export(self, dest: str, tonnes: float, licensed: bool, grade: str) -> None:
        _add(self.exports_t, dest, tonnes)
        if grade == "controlled":
            self.controlled_exports_t += tonnes
        if licensed:
            _add(self.licensed_exports_t, dest, tonnes)

    def clear(self, week: int) -> None:
        """Makers ship from their books; customs releases; Indian plants sell their stock."""
        for seller in self.model.sellers:
            seller.ship(week)
        for held in self.customs.release(week):
            held.shipment.arrival_week = week + held.lead_time_weeks
            self._export(held.buyer.country, held.shipment.tonnes, licensed=False, grade="free")
        self.sell_domestic(week)

    def sell_domestic(self, week: int) -> None:
        """Indian plants sell their stock: to Indian buyers first, then scheme plants abroad.

        A buyer's uncovered need is its order-up-to level of controlled grades less its firm
        position (stock, in transit and open orders not waiting for a licence, which may never
        be granted); plants sell pro rata to it and the buyer's later orders shrink
        accordingly (assumption: domestic magnets are taken whenever available, the scheme
        closing the price gap, C-PLI-4). What Indian buyers do not take, scheme plants sell
        to buyers outside India and China on the same rule when ``market.domestic_exports``
        is on (IREL serves strategic users first and does not export, C-IRL-3). The
        incentive is paid on all sales (assumption).
        """
        producers = self.model.domestic_producers
        if not any(p.stock_t > EPS for p in producers):
            return  # nothing to sell
        for producer in producers:
            producer.sold_abroad_t = 0.0
        self._sell(producers, self._gaps(lambda c: c == "IN"), week, abroad=False)
        if self.model.spec.market.domestic_exports:
            exporters = [p for p in producers if p.subsidised and p.stock_t > EPS]
            if exporters:
                self._sell(exporters, self._gaps(lambda c: c not in ("IN", HOME)), week, True)
        for producer in producers:
            self.model.incentive.pay(producer)

    def _gaps(self, country_ok) -> dict[MagnetBuyer, float]:
        """Uncovered controlled-grade need of the buyers whose country passes the test, t."""
        gaps: dict[MagnetBuyer, float] = {}
        for buyer in self.model.buyers:
            if not country_ok(buyer.country):
                continue
            need = buyer.need_t("controlled")
            gap = need * (buyer.cover_target_weeks + buyer.pipeline_weeks) - buyer.firm_position_t(
                "controlled"
            )
            if gap > EPS:
                gaps[buyer] = gap
        return gaps

    def _sell(self, producers, gaps: dict[MagnetBuyer, float], week: int, abroad: bool) -> None:
        for producer in producers:
            if producer.stock_t <= EPS or not gaps:
                continue
            sold = allocate_pro_rata(producer.stock_t, gaps)
            for buyer, tonnes in sold.items():
                if tonnes <= EPS:
                    continue
                producer.stock_t -= tonnes
                producer.sold_t += tonnes
                gaps[buyer] -= tonnes
                self.domestic_sales_t += tonnes
                if abroad:
                    producer.sold_abroad_t += tonnes
                    self.domestic_exports_t += tonnes
                buyer.accept(
                    Shipment(
                        "domestic",
                        producer.unique_id,
                        tonnes,
                        week
                        + (producer.export_lead_time_weeks if abroad else producer.lead_time_weeks),
                        "controlled",
                    )
                )
            producer.stock_t = max(producer.stock_t, 0.0)

    @property
    def exports_total_t(self) -> float:
        """China's exports this week (customs basis), t."""
        return sum(self.exports_t.values())


def _add(tally: dict[str, float], key: str, value: float) -> None:
    tally[key] = tally.get(key, 0.0) + value


__all__ = ["EU_CODES", "GRADES", "Customs", "Market"]
