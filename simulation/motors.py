"""Assembled motors from China: a workaround channel with its own capacity (ODD §7.8b).

Export licensing covers magnets, not the motors and sub-assemblies they are built into
(C-IN-4: magnets fitted into sub-assemblies in China; C-IN-7: firms importing fully assembled
motors). Chinese motor makers buy their magnets at home, without a licence, and ship motors.
The channel is one pool, ``market.motor_channel_t_per_week`` of magnet content a week
(assumption: the spare capacity of Chinese motor makers for foreign vehicle makers).

Each week, after the buyers' step, the firms' requests (:attr:`agents.oem.OEM.motor_request_t`)
share the capacity pro rata; the magnet tonnes leave the stock of China's home market (the
motor makers' magnets) and reach the firm ``market.motor_lead_time_weeks`` later as a
shipment of source ``"motor"``, in the grade mix of the firm's mixed line. China's home
market then reorders at home, so the tonnes are China's home sales, never magnet exports:
the customs series (C-LIC-5) and India's magnet receipts (SF-4) do not count them. The
firm pays ``market.motor_premium_usd_per_kg`` above the magnet price for the assembly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulation.market import EPS, HOME, Shipment, allocate_pro_rata

if TYPE_CHECKING:
    from simulation.model import MagnetSupplyModel

#: Supplier id of motor shipments (no seller agent ships them).
MOTOR_SUPPLIER_ID = -1


class MotorChannel:
    """Chinese motor makers' exports to foreign vehicle makers, as magnet content.

    Args:
        model: the model (its ``spec.market`` holds capacity, lead time and premium).

    Attributes:
        shipped_t: magnet tonnes shipped inside motors this week, by destination country.
        premium_usd: assembly premium paid this week, USD.
    """

    def __init__(self, model: MagnetSupplyModel) -> None:
        self.model = model
        cfg = model.spec.market
        self.capacity_t_per_week = cfg.motor_channel_t_per_week
        self.lead_time_weeks = cfg.motor_lead_time_weeks
        self.premium_usd_per_kg = cfg.motor_premium_usd_per_kg
        self.shipped_t: dict[str, float] = {}
        self.premium_usd = 0.0

    @property
    def shipped_total_t(self) -> float:
        """Magnet tonnes shipped inside motors this week, all destinations."""
        return sum(self.shipped_t.values())

    def ship(self, week: int) -> None:
        """Share the capacity over this week's requests and ship from China's home stock."""
        self.shipped_t = {}
        self.premium_usd = 0.0
        oems = {o.unique_id: o for o in self.model.oems if o.motor_request_t > EPS}
        homes = [b for b in self.model.regional_buyers if b.country == HOME]
        if not oems or not homes or self.capacity_t_per_week <= EPS:
            return
        grants = allocate_pro_rata(
            self.capacity_t_per_week, {uid: o.motor_request_t for uid, o in oems.items()}
        )
        for uid, tonnes in grants.items():
            oem = oems[uid]
            mix = {"controlled": oem.controlled_share, "free": 1.0 - oem.controlled_share}
            sent = 0.0
            for grade, share in mix.items():
                taken = _take(homes, grade, tonnes * share)
                if taken > EPS:
                    arrival = week + self.lead_time_weeks
                    oem.accept(Shipment("motor", MOTOR_SUPPLIER_ID, taken, arrival, grade))
                    sent += taken
            if sent > EPS:
                self.shipped_t[oem.country] = self.shipped_t.get(oem.country, 0.0) + sent
                self.premium_usd += sent * 1000.0 * self.premium_usd_per_kg


def _take(homes: list, grade: str, tonnes: float) -> float:
    """Take up to ``tonnes`` of ``grade`` from the home buyers' stocks, pro rata; the total."""
    held = sum(b.stock_t[grade] for b in homes)
    if held <= EPS or tonnes <= EPS:
        return 0.0
    taken = min(tonnes, held)
    for b in homes:
        part = taken * b.stock_t[grade] / held
        b.stock_t[grade] -= part
        b.sent_by_grade_t[grade] += part
    return taken
