"""Workaround channels: assembled motors from China, third-country routes (ODD §7.8b, §7.8c).

A channel moves magnets from the stock of aggregate buyers in its origin countries to the
OEMs that ask for them, up to its capacity, and so conserves every tonne (the origin buyers
reorder what they gave up through their own channels).

* **Assembled motors** (`source` ``motor``): licensing covers magnets, not the motors and
  sub-assemblies they are built into (C-IN-4: magnets fitted into sub-assemblies in China;
  C-IN-7: firms importing fully assembled motors). Chinese motor makers buy their magnets at
  home without a licence: the origin is China's home market, and the tonnes are China's home
  sales, never magnet exports (the customs series, C-LIC-5, leaves them out).
* **Third-country route** (`source` ``transit``): a trader in a licensed third country sells
  on controlled-grade magnets its buyers imported under licence, against the licence's
  no-re-export condition (C-LIC-6). Each consignment is detected with
  ``transit_detection_probability``; a detected consignment is stopped (it stays with the
  trader) and the firm loses the route for good.

Requests share the capacity pro rata (:func:`simulation.market.allocate_pro_rata`); each
grant leaves the origin buyers' stocks pro rata to what they hold and arrives
``lead_time_weeks`` later as a shipment of the channel's source, in the grade mix the
request names. The firm pays ``premium_usd_per_kg`` above the magnet price.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simulation.market import EPS, Shipment, allocate_pro_rata

if TYPE_CHECKING:
    from agents.buyer import MagnetBuyer
    from agents.oem import OEM
    from simulation.model import MagnetSupplyModel

#: Supplier id of channel shipments (no seller agent ships them).
CHANNEL_SUPPLIER_ID = -1


@dataclass(frozen=True)
class ChannelTerms:
    """What a channel is.

    Attributes:
        source: the shipments' source label (``motor`` or ``transit``).
        origins: countries whose aggregate buyers' stocks supply the channel.
        capacity_t_per_week: most magnet tonnes a week, all firms together, t/week.
        lead_time_weeks: weeks from a grant to its arrival at the firm.
        premium_usd_per_kg: price above the magnet price, USD per kg of magnet.
        detection_probability: chance a consignment is detected and stopped (0-1).
    """

    source: str
    origins: tuple[str, ...]
    capacity_t_per_week: float
    lead_time_weeks: int
    premium_usd_per_kg: float
    detection_probability: float = 0.0


class Channel:
    """One workaround channel (module docstring).

    Args:
        model: the model.
        terms: the channel's terms.
        rng: the channel's own stream (detection draws); untouched while nothing is detected
            at probability 0.

    Attributes:
        shipped_t: magnet tonnes shipped this week, by destination country.
        premium_usd: premium paid this week, USD.
        detected: consignments detected and stopped so far.
    """

    def __init__(
        self, model: MagnetSupplyModel, terms: ChannelTerms, rng: np.random.Generator
    ) -> None:
        self.model = model
        self.terms = terms
        self.rng = rng
        self.shipped_t: dict[str, float] = {}
        self.premium_usd = 0.0
        self.detected = 0

    @property
    def shipped_total_t(self) -> float:
        """Magnet tonnes shipped this week, all destinations."""
        return sum(self.shipped_t.values())

    def ship(self, week: int, requests: dict[OEM, dict[str, float]]) -> None:
        """Share the capacity over this week's requests (t by grade per firm) and ship."""
        terms = self.terms
        self.shipped_t = {}
        self.premium_usd = 0.0
        requests = {o: r for o, r in requests.items() if sum(r.values()) > EPS}
        origins = [b for b in self.model.regional_buyers if b.country in terms.origins]
        if not requests or not origins or terms.capacity_t_per_week <= EPS:
            return
        firms = {o.unique_id: o for o in requests}
        grants = allocate_pro_rata(
            terms.capacity_t_per_week, {o.unique_id: sum(r.values()) for o, r in requests.items()}
        )
        for uid, tonnes in grants.items():
            oem = firms[uid]
            asked = requests[oem]
            if terms.detection_probability > 0 and self.rng.random() < terms.detection_probability:
                self.detected += 1
                oem.lose_route(terms.source)
                continue
            total = sum(asked.values())
            sent = 0.0
            for grade, want in asked.items():
                taken = _take(origins, grade, tonnes * want / total)
                if taken > EPS:
                    arrival = week + terms.lead_time_weeks
                    oem.accept(Shipment(terms.source, CHANNEL_SUPPLIER_ID, taken, arrival, grade))
                    sent += taken
            if sent > EPS:
                self.shipped_t[oem.country] = self.shipped_t.get(oem.country, 0.0) + sent
                self.premium_usd += sent * 1000.0 * terms.premium_usd_per_kg


def _take(origins: list[MagnetBuyer], grade: str, tonnes: float) -> float:
    """Take up to ``tonnes`` of ``grade`` from the origin buyers' stocks, pro rata; the total."""
    held = sum(b.stock_t[grade] for b in origins)
    if held <= EPS or tonnes <= EPS:
        return 0.0
    taken = min(tonnes, held)
    for b in origins:
        part = taken * b.stock_t[grade] / held
        b.stock_t[grade] -= part
        b.sent_by_grade_t[grade] += part
    return taken
