"""IREL (India) Ltd: state-owned producer of rare-earth oxide, strategic users first."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

from mesa import Agent

from simulation.market import allocate_pro_rata


class IREL(Agent):
    """Produces NdPr oxide, reserves a strategic share, sells the rest to domestic magnet makers.

    Args:
        model: the model.
        capacity_steps: (week, t REO/yr) capacity levels; the first applies from week 0.
        strategic_reserve_share: share of output kept for atomic energy and defence.
    """

    def __init__(
        self,
        model,
        capacity_steps: list[tuple[int, float]],
        strategic_reserve_share: float,
    ) -> None:
        super().__init__(model)
        self.capacity_steps = sorted(capacity_steps)
        self.strategic_reserve_share = strategic_reserve_share
        self.stock_t = 0.0
        self.produced_t = 0.0
        self.reserved_t = 0.0
        self.sold_t = 0.0

    def capacity_t_per_week(self, week: int) -> float:
        """Oxide capacity in ``week``, t REO/week (the latest step that has come online)."""
        per_year = 0.0
        for start, capacity in self.capacity_steps:
            if start <= week:
                per_year = capacity
        return per_year / 52.0

    def produce(self, week: int) -> None:
        """Make oxide at capacity and set the strategic share aside."""
        self.produced_t = self.capacity_t_per_week(week)
        self.reserved_t = self.produced_t * self.strategic_reserve_share
        self.stock_t += self.produced_t - self.reserved_t
        self.sold_t = 0.0

    def sell(self, requests: Mapping[Hashable, float]) -> dict[Hashable, float]:
        """Sell available oxide to magnet makers pro rata to their requests (t)."""
        sold = allocate_pro_rata(self.stock_t, requests)
        self.sold_t = sum(sold.values())
        self.stock_t = max(0.0, self.stock_t - self.sold_t)
        return sold
