"""Chinese magnet maker: sells at home and abroad from one order book; exports need licences.

China makes ~90% of the world's magnets (C-MKT-1) and exported 58,152 t in 2024 (C-MKT-8);
its home market takes the rest. A Chinese maker ships controlled (Dy/Tb) grades abroad only
against a usable licence while the controls require one (C-LIC-1), holds stock for buyers
whose licences are pending, and sells at home to China's buyers (no licence). Uncontrolled
grades need no licence but are held by customs for identification (C-LIC-10; see
:class:`simulation.clearing.Customs`). Order-book behaviour: :mod:`agents.seller`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agents.seller import MagnetSeller
from simulation.market import HOME

if TYPE_CHECKING:
    from agents.buyer import MagnetBuyer

__all__ = ["HOME", "ChineseExporter"]


class ChineseExporter(MagnetSeller):
    """A Chinese NdFeB magnet maker (or a group of them).

    Args:
        model: the model.
        name: label used in outputs.
        capacity_t_per_week: output capacity, t/week.
        initial_stock_weeks: opening finished stock, weeks of expected sales.
        target_stock_weeks: safety stock, weeks of expected sales.
        max_held_weeks: most stock held for buyers with pending licences, weeks of sales.
        lead_time_weeks: shipping time to buyers, weeks (home buyers alike; assumption).

    Its prices are the market's (:class:`simulation.prices.PriceBoard`): China's home price
    and the Chinese export price.
    """

    source = "china"

    def __init__(
        self,
        model,
        name: str,
        capacity_t_per_week: float,
        initial_stock_weeks: float = 2.0,
        target_stock_weeks: float = 2.0,
        max_held_weeks: float = 4.0,
        lead_time_weeks: int = 3,
    ) -> None:
        super().__init__(
            model,
            name,
            capacity_t_per_week,
            lead_time_weeks,
            initial_stock_weeks=initial_stock_weeks,
            target_stock_weeks=target_stock_weeks,
            max_held_weeks=max_held_weeks,
            country=HOME,
        )

    def licence_required(self, buyer: MagnetBuyer, grade: str, week: int) -> bool:
        """Controlled grades to a destination the policy in force controls."""
        return (
            grade == "controlled"
            and buyer.country != HOME
            and self.model.authority.requires_licence(buyer.country, week)
        )

    def offer_price_usd_per_kg(self) -> float:
        """Export price this week, USD/kg (the market's Chinese export price)."""
        return self.model.prices.china_export_usd_per_kg
