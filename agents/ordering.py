"""How a buyer orders: order-up-to by grade, licence patience, cancelling (ODD §7.3-7.5).

* **order-up-to**: for each grade, order the gap between ``need x (cover target + pipeline
  weeks)`` and the position (stock + in transit + open orders), split over China and
  non-Chinese makers by ``china_share``; the uncontrolled need counted is the free-only
  line's plus the mixed line's times the share the controlled grades in hand or firmly on
  order support (:meth:`supported_share`);
* **patience**: an order waiting for a Chinese licence longer than
  ``licence_patience_weeks`` no longer counts in the position: the buyer orders again (a new
  application - why queues hold several applications per firm, C-LIC-6) and, while China is
  blocked, also asks non-Chinese makers for the China share (multi-sourcing); while
  ``max_pending_orders`` counted orders wait for a licence with a seller, no further order
  goes to that seller;
* **cancel**: open orders that would lift the position above ``max_cover_weeks`` are
  cancelled, newest first.
"""

from __future__ import annotations

from simulation.market import EPS, GRADES, Order, zeros


class Ordering:
    """The ordering rules of :class:`agents.buyer.MagnetBuyer` (a mixin).

    It reads and changes the buyer's open orders (``orders``), stock and pipeline, and places
    orders with the buyer's named sellers.
    """

    def _open_orders(self, week: int) -> tuple[dict, dict, dict, bool]:
        """One pass over the open orders.

        Returns tonnes per grade not waiting for a licence (firm) and counted in the position
        (firm + pending within patience), the number of counted pending orders per (seller,
        grade), and whether an order to China is overdue (China blocked).
        """
        firm = zeros(GRADES)
        counted = zeros(GRADES)
        waiting: dict[tuple[int, str], int] = {}
        overdue = False
        patience = self.licence_patience_weeks  # the patience rule (module docstring)
        for o in self.orders:
            if o.licence == "pending":
                if week - o.placed_week >= patience:
                    overdue = overdue or o.seller.source == "china"
                    continue
                counted[o.grade] += o.open_t
                key = (o.seller.unique_id, o.grade)
                waiting[key] = waiting.get(key, 0) + 1
            else:
                firm[o.grade] += o.open_t
                counted[o.grade] += o.open_t
        return firm, counted, waiting, overdue

    def reorder(self) -> None:
        """Review sourcing, cancel orders above the ceiling, order up to the target."""
        week = self.model.week
        self.review_sourcing()
        self.ordered_t = 0.0
        firm, counted, waiting, overdue = self._open_orders(week)
        self.blocked = overdue or bool(self._denied_recently)
        self._denied_recently = []
        supported = self._supported(firm["controlled"])
        _, controlled_need, _, free_only_t, mixed_free_t = self.needs()
        cover = self.cover_target_weeks + self.pipeline_weeks
        ceiling = self.max_cover_weeks + self.pipeline_weeks
        for grade in GRADES:
            need = free_only_t + mixed_free_t * supported if grade == "free" else controlled_need
            held = self.stock_t[grade] + self._transit_t[grade]
            excess = held + firm[grade] - need * ceiling
            if excess > EPS:
                cancelled = self._cancel(grade, excess)
                firm[grade] -= cancelled
                counted[grade] -= cancelled
            if need <= EPS:
                continue
            gap = need * cover - held - counted[grade]
            if gap <= EPS:
                continue
            self.ordered_t += gap
            china_part = gap * self.china_share
            row_part = gap - china_part
            if self.blocked and grade == "controlled":
                row_part += china_part  # multi-sourcing while China is blocked
            for seller, weight in self.china_sellers:
                if (
                    china_part * weight > EPS
                    and waiting.get((seller.unique_id, grade), 0) < self.max_pending_orders
                ):
                    self.orders.append(seller.place_order(self, grade, china_part * weight, week))
            for seller, weight in self.row_sellers:
                if row_part * weight > EPS:
                    self.orders.append(seller.place_order(self, grade, row_part * weight, week))

    def supported_share(self, week: int) -> float:
        """Share of planned use the controlled grades in hand or firmly on order support.

        Stock + in transit + open orders not waiting for a licence, over ``cover target``
        weeks of controlled need (1 when nothing is controlled). The mixed line's uncontrolled
        grades are ordered only for that share (a motor needs both; assumption); the
        free-only line's in full.
        """
        on_order = sum(
            o.open_t for o in self.orders if o.grade == "controlled" and o.licence != "pending"
        )
        return self._supported(on_order)

    def _supported(self, firm_on_order_t: float) -> float:
        need = self.need_t("controlled")
        if need <= EPS or self.controlled_share >= 1.0:
            return 1.0
        firm = self.stock_t["controlled"] + self._transit_t["controlled"] + firm_on_order_t
        return min(1.0, firm / (need * max(self.cover_target_weeks, 1.0)))

    def firm_position_t(self, grade: str) -> float:
        """Stock + in transit + open orders not waiting for a licence, t."""
        on_order = sum(o.open_t for o in self.orders if o.grade == grade and o.licence != "pending")
        return self.stock_t[grade] + self.in_transit_t(grade) + on_order

    def _cancel(self, grade: str, excess: float) -> float:
        """Cancel shippable open orders of ``grade`` worth ``excess`` t, newest first.

        Orders waiting for a licence are not cancelled: the application keeps the buyer's
        place in the queue and may never be granted. Returns the tonnes cancelled.
        """
        firm = [o for o in self.orders if o.grade == grade and o.licence != "pending"]
        cancelled = 0.0
        for order in sorted(firm, key=lambda o: -o.id):
            if excess <= EPS:
                break
            if order.open_t <= excess + EPS:
                excess -= order.open_t
                cancelled += order.open_t
                order.seller.close(order, cancelled=True)
            else:
                order.seller.cancelled_t += excess
                order.open_t -= excess
                cancelled += excess
                excess = 0.0
        return cancelled

    def order_closed(self, order: Order) -> None:
        """A seller closed ``order`` (filled, cancelled, denied or expired)."""
        if order.licence == "denied":
            self._denied_recently.append(order)
        self.orders.remove(order)

    def open_orders_t(self) -> float:
        """Tonnes on order and not yet shipped, t."""
        return sum(o.open_t for o in self.orders)

    def pending_orders(self) -> int:
        """Orders waiting for a licence decision."""
        return sum(o.licence == "pending" for o in self.orders)
