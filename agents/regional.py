"""Aggregate destination buyers: a country's or region's magnet users as one buyer (ODD §7.1)."""

from __future__ import annotations

from agents.buyer import MagnetBuyer


class RegionalBuyer(MagnetBuyer):
    """An aggregate destination: all magnet users of a country or region, as one buyer.

    Args:
        model: the model.
        demand_t_per_week: magnet use at full output at the reference date, t/week.
        growth_share_per_year: yearly growth of demand (C-MKT-8: +10% in 2024).
        reference_week: week at which demand equals ``demand_t_per_week`` (may be negative).
        **kwargs: see :class:`MagnetBuyer`.
    """

    def __init__(
        self,
        model,
        demand_t_per_week: float,
        growth_share_per_year: float = 0.0,
        reference_week: int = 0,
        **kwargs,
    ) -> None:
        super().__init__(model, **kwargs)
        self.demand_t_per_week = demand_t_per_week
        self.growth_share_per_year = growth_share_per_year
        self.reference_week = reference_week
        self._need_week: int | None = None
        self._need_t = 0.0

    def full_need_t(self) -> float:
        """Demand this week at full output, t/week (compound growth from the reference week).

        Computed once a week (the hot loops ask many times).
        """
        week = self.model.week
        if week != self._need_week:
            years = (max(week, 0) - self.reference_week) / 52.0
            self._need_week = week
            self._need_t = self.demand_t_per_week * (1.0 + self.growth_share_per_year) ** years
        return self._need_t

    def step(self) -> None:
        """Receive, use, order."""
        self.receive_shipments()
        self.use()
        self.reorder()
