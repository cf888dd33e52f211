"""Chinese magnet exporter: ships abroad only against valid licences, sells the rest at home."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING

from mesa import Agent

from simulation.market import EPS, allocate_pro_rata
from simulation.policies import Licence

if TYPE_CHECKING:
    from agents.authority import LicensingAuthority
    from agents.oem import OEM


class ChineseExporter(Agent):
    """A Chinese NdFeB magnet maker's export-relevant output (t/week).

    Args:
        model: the model.
        name: label used in outputs.
        capacity_t_per_week: output, t/week.
        initial_stock_weeks: opening finished stock, weeks of capacity.
        target_stock_weeks: stock kept before surplus is sold domestically, weeks of capacity.
        lead_time_weeks: shipping time to foreign buyers, weeks.
        export_price_usd_per_kg: export price, USD/kg (flat: Chinese prices did not move, C-MKT-5).
    """

    source = "china"

    def __init__(
        self,
        model,
        name: str,
        capacity_t_per_week: float,
        initial_stock_weeks: float = 2.0,
        target_stock_weeks: float = 2.0,
        lead_time_weeks: int = 3,
        export_price_usd_per_kg: float = 60.0,
    ) -> None:
        super().__init__(model)
        self.name = name
        self.capacity_t_per_week = capacity_t_per_week
        self.stock_t = capacity_t_per_week * initial_stock_weeks
        self.target_stock_t = capacity_t_per_week * target_stock_weeks
        self.lead_time_weeks = lead_time_weeks
        self.export_price_usd_per_kg = export_price_usd_per_kg
        self.licences: dict[int, list[Licence]] = {}
        self.produced_t = 0.0
        self.exported_t = 0.0
        self.exported_by_country: dict[str, float] = {}
        self.licensed_by_country: dict[str, float] = {}
        self.free_exported_t = 0.0
        self.domestic_sales_t = 0.0

    def produce(self) -> None:
        """Make this week's output and add it to the finished stock."""
        self.produced_t = self.capacity_t_per_week
        self.stock_t += self.produced_t
        self.exported_t = 0.0
        self.exported_by_country = {}
        self.licensed_by_country = {}
        self.free_exported_t = 0.0
        self.domestic_sales_t = 0.0

    def add_licence(self, licence: Licence) -> None:
        """Keep a licence issued by the authority for one of our buyers."""
        self.licences.setdefault(licence.buyer_id, []).append(licence)

    def licensed_remaining_t(self, buyer_id: int, week: int) -> float:
        """Tonnes still licensed for ``buyer_id`` on unexpired licences."""
        return sum(
            lic.remaining_t for lic in self.licences.get(buyer_id, ()) if lic.expires_week >= week
        )

    def ship_free_grades(self, requests: Mapping[OEM, float]) -> dict[OEM, float]:
        """Ship uncontrolled grades (no licence ever needed) from stock, pro rata if short."""
        shipped = allocate_pro_rata(self.stock_t, requests)
        for oem, tonnes in shipped.items():
            self.stock_t -= tonnes
            self.exported_t += tonnes
            self.free_exported_t += tonnes
            self.exported_by_country[oem.country] = (
                self.exported_by_country.get(oem.country, 0.0) + tonnes
            )
        self.stock_t = max(self.stock_t, 0.0)
        return shipped

    def offer_price_usd_per_kg(self) -> float:
        """Export price, USD/kg."""
        return self.export_price_usd_per_kg

    def serves(self, oem: OEM) -> bool:
        """Sells to the OEMs that buy from it."""
        return oem.exporter is self

    def requested_t(self, oem: OEM) -> float:
        """What ``oem`` still wants from China this week (its China share of the order), t."""
        return min(oem.unfilled_t, oem.china_order_t)

    def allocate(self, requests: Mapping[OEM, float]) -> dict[OEM, float]:
        """Ship this week's requests as far as licences and stock allow (see :meth:`ship`)."""
        return self.ship(requests, self.model.week, self.model.authority)

    def ship(
        self, orders: Mapping[OEM, float], week: int, authority: LicensingAuthority
    ) -> dict[OEM, float]:
        """Ship controlled grades as far as licences (if required) and stock allow.

        Pro rata when stock is short. Returns tonnes shipped per buyer this week.
        """
        allowed: dict[Hashable, float] = {}
        needs_licence: set[Hashable] = set()
        for oem, tonnes in orders.items():
            if authority.requires_licence(oem.country, week):
                tonnes = min(tonnes, self.licensed_remaining_t(oem.unique_id, week))
                needs_licence.add(oem)
            if tonnes > EPS:
                allowed[oem] = tonnes
        shipped = allocate_pro_rata(self.stock_t, allowed)
        for oem, tonnes in shipped.items():
            if oem in needs_licence:
                self._draw_down(oem.unique_id, tonnes, week)
                self.licensed_by_country[oem.country] = (
                    self.licensed_by_country.get(oem.country, 0.0) + tonnes
                )
            self.stock_t -= tonnes
            self.exported_t += tonnes
            self.exported_by_country[oem.country] = (
                self.exported_by_country.get(oem.country, 0.0) + tonnes
            )
        self.stock_t = max(self.stock_t, 0.0)
        return shipped

    def _draw_down(self, buyer_id: int, tonnes: float, week: int) -> None:
        """Use licences soonest-expiring first; drop used-up and expired ones."""
        licences = sorted(self.licences.get(buyer_id, ()), key=lambda lic: lic.expires_week)
        for lic in licences:
            if lic.expires_week < week:
                continue
            used = min(lic.remaining_t, tonnes)
            lic.remaining_t -= used
            tonnes -= used
            if tonnes <= EPS:
                break
        self.licences[buyer_id] = [
            lic for lic in licences if lic.remaining_t > EPS and lic.expires_week >= week
        ]

    def sell_surplus(self) -> None:
        """Sell stock above the target on the Chinese domestic market (leaves the model)."""
        surplus = max(0.0, self.stock_t - self.target_stock_t)
        self.domestic_sales_t = surplus
        self.stock_t -= surplus
