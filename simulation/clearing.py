"""The weekly clearing of the magnet market (ODD §3 step 4, §7.12-7.16).

China ships uncontrolled grades as they are used; then every source sells, in order of its
offer price, to the open orders it can serve. The arithmetic (pro-rata and contracts-first
allocation) is in :mod:`simulation.market`; the sellers decide what they can ship through the
:class:`Seller` interface.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from agents import OEM, DomesticProducer
from simulation.market import EPS, Shipment

if TYPE_CHECKING:
    from simulation.model import MagnetSupplyModel


class Seller(Protocol):
    """What the market needs from a magnet source (exporter, domestic plant, foreign maker)."""

    unique_id: int
    source: str  # "china", "domestic" or "row": the Shipment's source
    lead_time_weeks: int

    def offer_price_usd_per_kg(self) -> float:
        """Price that ranks the seller, USD/kg (lowest sells first)."""
        ...

    def serves(self, oem: OEM) -> bool:
        """Whether ``oem`` may buy from this seller."""
        ...

    def requested_t(self, oem: OEM) -> float:
        """What ``oem`` asks this seller for this week, t."""
        ...

    def allocate(self, requests: Mapping[OEM, float]) -> dict[OEM, float]:
        """Tonnes shipped per buyer against ``requests``."""
        ...


class Market:
    """Clears the market once a week.

    Args:
        model: the model; its exporters, domestic plants and rest-of-world makers sell to its
            OEMs, and its incentive scheme pays domestic plants for what they sell.
    """

    def __init__(self, model: MagnetSupplyModel) -> None:
        self.model = model
        self._customers: dict[int, list[OEM]] = {}

    def clear(self, week: int) -> None:
        """Ship free grades, then let sellers sell in order of price.

        Chinese exporters ship only against licences (when required) and only up to the share
        an OEM wants from China; domestic plants serve Indian OEMs; rest-of-world makers serve
        contracted buyers first. Ties go to China (exporters are listed first).
        """
        self.ship_free_grades()
        for seller in self.sellers_by_price():
            self.sell(seller, week)
            if isinstance(seller, DomesticProducer):
                self.model.incentive.pay(seller)

    def ship_free_grades(self) -> None:
        """Each exporter ships its OEMs' uncontrolled grades, which go straight into use."""
        for exporter in self.model.exporters:
            free = {o: o.free_need_t for o in self.customers(exporter) if o.free_need_t > EPS}
            for oem, tonnes in exporter.ship_free_grades(free).items():
                oem.receive_free_grades(tonnes)

    def sellers_by_price(self) -> list[Seller]:
        """Exporters, domestic plants, rest-of-world makers, sorted (stably) by offer price."""
        model = self.model
        return sorted(
            [*model.exporters, *model.domestic_producers, *model.row_suppliers],
            key=lambda s: s.offer_price_usd_per_kg(),
        )

    def sell(self, seller: Seller, week: int) -> None:
        """``seller`` ships to its customers' open orders; shipments arrive after its lead time."""
        requests = {}
        for oem in self.customers(seller):
            if oem.unfilled_t > EPS:
                wanted = seller.requested_t(oem)
                if wanted > EPS:
                    requests[oem] = wanted
        if not requests:
            return
        for oem, tonnes in seller.allocate(requests).items():
            if tonnes > EPS:
                oem.accept(
                    Shipment(seller.source, seller.unique_id, tonnes, week + seller.lead_time_weeks)
                )

    def customers(self, seller: Seller) -> list[OEM]:
        """The OEMs a seller can serve (computed once: OEMs never change suppliers)."""
        pool = self._customers.get(seller.unique_id)
        if pool is None:
            pool = self._customers[seller.unique_id] = [
                o for o in self.model.oems if seller.serves(o)
            ]
        return pool
