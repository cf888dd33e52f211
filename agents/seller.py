"""What every magnet maker does with orders: an order book, licences, shipping by priority.

Chinese exporters and non-Chinese makers share this behaviour (ODD §7.12-7.16):

* an order stays in the book until it is filled, cancelled by its buyer, denied a licence or
  expired (``market.order_expiry_weeks`` after it was placed; an order waiting for a licence
  decision does not expire: the application is the buyer's place in the queue);
* an order that needs a licence is shipped only against a usable licence. Applications are
  filed per shipment (one per order) or per contract (one per buyer, covering
  ``licence_request_weeks`` of its need) - ``market.licence_scope``, C-LIC-3;
* each week the maker ships from stock in priority order: contracted buyers first, then
  export before home sales (the export price is higher, C-MKT-10), then oldest first;
* it makes to order: output covers the shippable backlog, the backlog waiting for licences
  (held in stock for those buyers up to ``max_held_weeks`` of sales) and a safety stock of
  ``target_stock_weeks`` of expected sales, within capacity. Nothing is made for a sink.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from simulation.market import EPS, GRADES, HOME, Order, Shipment

if TYPE_CHECKING:
    from agents.buyer import MagnetBuyer
    from simulation.policies import Application

from simulation.policies import Licence

#: Weight of the latest week in the expected weekly sales (exponential smoothing; assumption).
SALES_SMOOTHING = 0.2
#: This week's new orders, t: from China's home market, from everyone else, and the part of
#: either that needs a Chinese licence when placed (the price board reads them).
ORDER_FLOWS = ("china_home", "ex_china", "licensed")


class MagnetSeller(Agent):
    """A magnet maker selling from an order book (base of Chinese and non-Chinese makers).

    Args:
        model: the model.
        name: label used in outputs.
        capacity_t_per_week: output capacity, t/week (both grades).
        lead_time_weeks: shipping time to buyers, weeks.
        initial_stock_weeks: opening stock, weeks of expected sales.
        target_stock_weeks: safety stock aimed for, weeks of expected sales.
        max_held_weeks: most stock held for buyers waiting for licences, weeks of expected
            sales.
        country: the maker's country (its home market).
    """

    source = "row"

    def __init__(
        self,
        model,
        name: str,
        capacity_t_per_week: float,
        lead_time_weeks: int,
        initial_stock_weeks: float = 2.0,
        target_stock_weeks: float = 2.0,
        max_held_weeks: float = 4.0,
        country: str = "XX",
    ) -> None:
        super().__init__(model)
        self.name = name
        self.capacity_t_per_week = capacity_t_per_week
        self.lead_time_weeks = lead_time_weeks
        self.initial_stock_weeks = initial_stock_weeks
        self.target_stock_weeks = target_stock_weeks
        self.max_held_weeks = max_held_weeks
        self.country = country
        self.contract_countries: set[str] = set()
        self.stock_t = dict.fromkeys(GRADES, 0.0)
        self.expected_sales_t = dict.fromkeys(GRADES, 0.0)
        self.book: list[Order] = []
        self.produced_t = dict.fromkeys(GRADES, 0.0)
        self.shipped_t = dict.fromkeys(GRADES, 0.0)
        self.expired_t = 0.0
        self.cancelled_t = 0.0
        self._by_application: dict[int, Order] = {}
        self._contract_licences: dict[int, list[Licence]] = {}
        self._contract_pending: set[int] = set()
        self._rank: dict[MagnetBuyer, int] = {}
        self.ordered_t = dict.fromkeys(ORDER_FLOWS, 0.0)
        self._required: dict[tuple[str, str, int], bool] = {}

    # ------------------------------------------------------------------ set-up
    def expect(self, sales_t: dict[str, float]) -> None:
        """Set expected weekly sales by grade (t/week) and the opening stock from them."""
        for grade in GRADES:
            self.expected_sales_t[grade] = sales_t.get(grade, 0.0)
            self.stock_t[grade] = self.initial_stock_weeks * self.expected_sales_t[grade]

    def start_week(self) -> None:
        """Reset this week's order flows (:data:`ORDER_FLOWS`) and licence answers."""
        self.ordered_t = dict.fromkeys(ORDER_FLOWS, 0.0)
        self._required = {}

    # ------------------------------------------------------------------ licences
    def licence_required(self, buyer: MagnetBuyer, grade: str, week: int) -> bool:
        """Whether a sale of ``grade`` to ``buyer`` in ``week`` needs a Chinese licence.

        Depends only on the buyer's country, the grade and the week (:meth:`ship` asks once
        per country and grade).
        """
        return False

    def needs_licence(self, buyer: MagnetBuyer, grade: str, week: int) -> bool:
        """:meth:`licence_required`, asked once per country, grade and week."""
        key = (buyer.country, grade, week)
        answer = self._required.get(key)
        if answer is None:
            answer = self._required[key] = self.licence_required(buyer, grade, week)
        return answer

    def place_order(self, buyer: MagnetBuyer, grade: str, tonnes: float, week: int) -> Order:
        """Book ``buyer``'s order; file a licence application for it if one is needed."""
        model = self.model
        market = model.market
        market.last_order_id += 1
        order = Order(
            market.last_order_id,
            buyer,
            self,
            grade,
            tonnes,
            tonnes,
            week,
            week + model.spec.market.order_expiry_weeks,
        )
        self.book.append(order)
        self.ordered_t["china_home" if buyer.country == HOME else "ex_china"] += tonnes
        if self.needs_licence(buyer, grade, week):
            self.ordered_t["licensed"] += tonnes
            self._apply(order, week)
        return order

    def _apply(self, order: Order, week: int) -> None:
        """File for ``order``: per shipment, or per contract when the buyer's cover is low."""
        authority = self.model.authority
        buyer = order.buyer
        order.licence = "pending"
        if self.model.spec.market.licence_scope == "shipment":
            app = authority.file(
                self,
                buyer.unique_id,
                buyer.country,
                buyer.end_use,
                order.open_t,
                week,
                order_id=order.id,
            )
            order.application_id = app.id
            self._by_application[app.id] = order
            return
        covered = self._contract_remaining_t(buyer.unique_id, week)
        if covered >= order.open_t:
            order.licence = "licensed"
        if buyer.unique_id in self._contract_pending:
            return
        weekly = buyer.need_t(order.grade) * buyer.china_share
        if covered < max(order.open_t, weekly * buyer.licence_request_weeks / 2):
            authority.file(
                self,
                buyer.unique_id,
                buyer.country,
                buyer.end_use,
                max(order.open_t, weekly * buyer.licence_request_weeks),
                week,
            )
            self._contract_pending.add(buyer.unique_id)

    def on_decision(self, app: Application, licence: Licence | None) -> None:
        """The authority decided ``app``: attach the licence, or cancel a denied shipment."""
        if app.order_id is None:  # a contract licence for the buyer
            self._contract_pending.discard(app.buyer_id)
            if licence is not None:
                self._contract_licences.setdefault(app.buyer_id, []).append(licence)
            for order in self.book:
                if order.buyer.unique_id == app.buyer_id and order.licence == "pending":
                    if licence is None:
                        order.licence = "denied"
                        self.close(order, cancelled=True)
                    else:
                        order.licence = "licensed"
            return
        order = self._by_application.pop(app.id, None)
        if order is None or order.open_t <= EPS:
            return  # filled, cancelled or expired meanwhile: the licence goes unused
        if licence is None:
            order.licence = "denied"
            self.close(order, cancelled=True)
            return
        order.licence = "licensed"
        order.licence_ref = licence
        if licence.granted_t < order.open_t - EPS:  # partial approval: the rest is refused
            self.cancelled_t += order.open_t - licence.granted_t
            order.open_t = licence.granted_t

    def on_moot(self, app: Application) -> None:
        """The destination no longer needs a licence: the order ships freely."""
        if app.order_id is None:
            self._contract_pending.discard(app.buyer_id)
            for order in self.book:
                if order.buyer.unique_id == app.buyer_id and order.licence == "pending":
                    order.licence = "none"
            return
        order = self._by_application.pop(app.id, None)
        if order is not None:
            order.licence = "none"

    def _contract_remaining_t(self, buyer_id: int, week: int) -> float:
        usable = self.model.authority.usable
        return sum(
            lic.remaining_t
            for lic in self._contract_licences.get(buyer_id, ())
            if usable(lic, week)
        )

    def _allowance_t(self, order: Order, week: int, needs_licence: bool) -> float:
        """Tonnes ``order`` may ship this week as far as licensing goes."""
        if not needs_licence:
            return order.open_t
        if order.licence == "none":  # placed before the controls: apply now
            self._apply(order, week)
        if self.model.spec.market.licence_scope == "shipment":
            lic = order.licence_ref
            if lic is None or not self.model.authority.usable(lic, week):
                return 0.0
            return min(order.open_t, lic.remaining_t)
        return min(order.open_t, self._contract_remaining_t(order.buyer.unique_id, week))

    def _draw_licence(self, order: Order, tonnes: float, week: int) -> None:
        if self.model.spec.market.licence_scope == "shipment":
            order.licence_ref.remaining_t -= tonnes
            return
        usable = self.model.authority.usable
        for lic in sorted(
            self._contract_licences.get(order.buyer.unique_id, ()), key=lambda x: x.expires_week
        ):
            if tonnes <= EPS:
                break
            if usable(lic, week):
                used = min(lic.remaining_t, tonnes)
                lic.remaining_t -= used
                tonnes -= used

    # ------------------------------------------------------------------ the order book
    def priority(self, order: Order) -> tuple:
        """Sort key: contracted buyers first, exports before home sales, oldest first."""
        buyer_country = order.buyer.country
        return (
            buyer_country not in self.contract_countries,
            buyer_country == self.country,
            order.placed_week,
            order.id,
        )

    def close(self, order: Order, cancelled: bool = False, expired: bool = False) -> None:
        """Take ``order`` off the book (its open tonnes are no longer owed)."""
        if cancelled:
            self.cancelled_t += order.open_t
        if expired:
            self.expired_t += order.open_t
        order.open_t = 0.0
        order.buyer.order_closed(order)

    def open_t(self, grade: str | None = None) -> float:
        """Tonnes on the book not yet shipped (of one grade, or all)."""
        return sum(o.open_t for o in self.book if grade is None or o.grade == grade)

    def pending_t(self, grade: str = "controlled") -> float:
        """Open tonnes waiting for a licence decision."""
        return sum(o.open_t for o in self.book if o.grade == grade and o.licence == "pending")

    def held_for_licences_t(self) -> float:
        """Stock held for buyers whose licences are pending (within ``max_held_weeks``), t."""
        cap = self.max_held_weeks * self.expected_sales_t["controlled"]
        return min(self.stock_t["controlled"], self.pending_t("controlled"), cap)

    def ship(self, week: int) -> None:
        """Expire stale orders, then ship in priority order as far as stock and licences allow."""
        market = self.model.market
        shipped = self.shipped_t = dict.fromkeys(GRADES, 0.0)
        stock = self.stock_t
        live, ready = self._sweep(week)
        queue, i = ready, 0
        while i < len(queue):
            order = queue[i]
            i += 1
            grade = order.grade
            left = stock[grade]
            if left <= EPS:  # this grade sold out: only the other grade's orders can ship
                if stock["controlled"] <= EPS and stock["free"] <= EPS:
                    break
                queue, i = [o for o in queue[i:] if o.grade != grade], 0
                continue
            buyer = order.buyer
            licensed = self.needs_licence(buyer, grade, week)
            if licensed:
                tonnes = min(order.open_t, left, self._allowance_t(order, week, True))
            else:
                tonnes = min(order.open_t, left)
            if tonnes <= EPS:
                continue
            if licensed:
                self._draw_licence(order, tonnes, week)
            stock[grade] = left - tonnes
            order.open_t -= tonnes
            shipped[grade] += tonnes
            market.dispatch(
                self,
                buyer,
                Shipment(self.source, self.unique_id, tonnes, week + self.lead_time_weeks, grade),
                week,
                licensed=licensed,
            )
            if order.open_t <= EPS:
                order.open_t = 0.0
                buyer.order_closed(order)
        self.book = [o for o in live if o.open_t > EPS]
        for grade in GRADES:
            self.expected_sales_t[grade] += SALES_SMOOTHING * (
                shipped[grade] - self.expected_sales_t[grade]
            )

    def _sweep(self, week: int) -> tuple[list[Order], list[Order]]:
        """Close stale orders; return the live book and the orders ready to ship, in priority.

        Stale: its licence expired, ran out or was revoked (cancelled), or past its expiry
        week and not waiting for a licence (expired). Ready: live, its grade in stock, and
        not waiting for a per-shipment licence decision. The book is in (placed_week, id)
        order, so bucketing by the first two keys of :meth:`priority` keeps that order inside
        each bucket: a stable sort in one pass.
        """
        in_stock = {grade: tonnes > EPS for grade, tonnes in self.stock_t.items()}
        per_shipment = self.model.spec.market.licence_scope == "shipment"
        live: list[Order] = []
        buckets: tuple[list[Order], ...] = ([], [], [], [])
        rank = self._rank
        for order in self.book:
            if order.open_t <= EPS:
                continue
            ref = order.licence_ref
            if ref is not None and _spent(ref, week):
                self.close(order, cancelled=True)
                continue
            licence = order.licence
            if week > order.expires_week and licence != "pending":
                self.close(order, expired=True)
                continue
            live.append(order)
            if in_stock[order.grade] and not (per_shipment and licence == "pending"):
                buyer = order.buyer
                r = rank.get(buyer)
                if r is None:
                    r = rank[buyer] = self._rank_of(buyer)
                buckets[r].append(order)
        return live, [*buckets[0], *buckets[1], *buckets[2], *buckets[3]]

    def _rank_of(self, buyer: MagnetBuyer) -> int:
        """Bucket of ``buyer``'s orders: the first two keys of :meth:`priority` (0-3)."""
        return 2 * (buyer.country not in self.contract_countries) + (buyer.country == self.country)

    # ------------------------------------------------------------------ production
    def wanted_output_t(self) -> dict[str, float]:
        """Output by grade this week before capacity: backlog + held + safety stock - stock."""
        wanted = {}
        for grade in GRADES:
            ready = pending = 0.0
            for order in self.book:
                if order.grade == grade:
                    if order.licence == "pending":
                        pending += order.open_t
                    else:
                        ready += order.open_t
            expected = self.expected_sales_t[grade]
            held = min(pending, self.max_held_weeks * expected)
            target = ready + held + self.target_stock_weeks * expected
            wanted[grade] = max(0.0, target - self.stock_t[grade])
        return wanted

    def make(self, limits: dict[str, float] | None = None) -> None:
        """Produce what the book asks for within capacity (and ``limits`` per grade, t)."""
        wanted = self.wanted_output_t()
        if limits:
            wanted = {g: min(t, limits.get(g, t)) for g, t in wanted.items()}
        total = sum(wanted.values())
        scale = min(1.0, self.capacity_t_per_week / total) if total > EPS else 0.0
        for grade in GRADES:
            self.produced_t[grade] = wanted[grade] * scale
            self.stock_t[grade] += self.produced_t[grade]

    @property
    def output_t(self) -> float:
        """This week's output, both grades, t."""
        return sum(self.produced_t.values())

    @property
    def total_stock_t(self) -> float:
        """Finished stock, both grades, t."""
        return sum(self.stock_t.values())


def _spent(licence: Licence, week: int) -> bool:
    """A licence that can never be used again (suspension is temporary, so not spent)."""
    return (
        licence.revoked_week is not None
        or week > licence.expires_week
        or (licence.remaining_t <= EPS)
    )
