"""Magnet buyers: stock by grade, orders with named sellers, receipts, use (ODD §7.1-7.6).

:class:`MagnetBuyer` holds what every buyer does; :class:`agents.regional.RegionalBuyer` is an
aggregate destination (the EU, the US, South Korea, China's home market, "other" …) whose
demand is a tonnage; :class:`agents.oem.OEM` is a vehicle maker whose demand follows its plan.

Decision rules (each documented in the ODD):

* **two lines**: a share ``free_only_share`` of demand goes into products that need only
  uncontrolled grades (consumer electronics, e-bikes, small motors: C-LIC-4), the *free-only
  line*; the rest, the *mixed line*, uses both grades in the ``controlled_share`` mix;
* **use**: the mixed line uses both grades in fixed proportion (a motor needs both kinds of
  magnet its design calls for: a Leontief rule, as in DisruptSC), so its output is capped by
  the controlled grades in stock; uncontrolled stock is then shared pro rata between the
  free-only line's need and the mixed line's need at that cap (:func:`line_shares`); output
  is the two lines' shares weighted by their magnet need;
* **ordering** (order-up-to, patience, cancel): :mod:`agents.ordering`;
* **sourcing**: the China share follows delivered costs (:mod:`agents.sourcing`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from agents.ordering import Ordering
from agents.sourcing import Sourcing
from simulation.market import EPS, GRADES, Order, Shipment, zeros

if TYPE_CHECKING:
    from agents.seller import MagnetSeller

#: Where a buyer's magnets come from; ``motor``: inside assembled motors, ``transit``: via a
#: third-country trader (:mod:`simulation.channels`).
SOURCES = ("china", "row", "domestic", "motor", "transit")
#: The sources trade statistics count as magnet imports (not magnets inside motors).
MAGNET_TRADE_SOURCES = ("china", "row", "domestic", "transit")
#: Arrival week of a shipment held by customs (not yet released).
HELD = 10**9


class MagnetBuyer(Ordering, Sourcing, Agent):
    """A buyer of magnets (base class).

    Args:
        model: the model.
        name: label (the group name for OEMs).
        country: ISO code of the destination (two capital letters; ``XE`` rest of the EU,
            ``XX`` rest of the world, ``CN`` China's home market).
        end_use: end use declared on licence applications.
        controlled_share: share of the mixed line's magnet mass in controlled (Dy/Tb) grades.
        free_only_share: share of magnet demand used in products that need only uncontrolled
            grades (the free-only line, C-LIC-4); 0 = every product needs both grades.
        china_share: share ordered from Chinese makers (the rest from non-Chinese makers).
        initial_inventory_weeks: opening stock, weeks of need.
        cover_target_weeks: cover aimed for, weeks of need.
        max_cover_weeks: ceiling above which open orders are cancelled, weeks of need.
        licence_patience_weeks: weeks an order may wait for a licence before the buyer orders
            again.
        licence_request_weeks: weeks of need one contract application covers.
        max_pending_orders: most orders (counted in the position) waiting for a licence
            with one seller; while that many wait, the China part of the gap is not ordered
            from that seller this week.
    """

    def __init__(
        self,
        model,
        name: str,
        country: str,
        end_use: str = "automotive",
        controlled_share: float = 1.0,
        free_only_share: float = 0.0,
        china_share: float = 0.9,
        initial_inventory_weeks: float = 2.5,
        cover_target_weeks: float = 2.5,
        max_cover_weeks: float = 12.0,
        licence_patience_weeks: float = 9.0,
        licence_request_weeks: float = 26.0,
        max_pending_orders: int = 1,
    ) -> None:
        super().__init__(model)
        self.group = name
        self.country = country
        self.end_use = end_use
        self.controlled_share = controlled_share
        self.free_only_share = free_only_share
        self.china_share = china_share
        self.initial_inventory_weeks = initial_inventory_weeks
        self.cover_target_weeks = cover_target_weeks
        self.max_cover_weeks = max(max_cover_weeks, cover_target_weeks)
        self.licence_patience_weeks = licence_patience_weeks
        self.licence_request_weeks = licence_request_weeks
        self.max_pending_orders = max_pending_orders
        self.china_sellers: list[tuple[MagnetSeller, float]] = []
        self.row_sellers: list[tuple[MagnetSeller, float]] = []
        self.pipeline_weeks = 0.0
        self.stock_t = dict.fromkeys(GRADES, 0.0)
        self.in_transit: list[Shipment] = []
        self._transit_t = dict.fromkeys(GRADES, 0.0)
        self.orders: list[Order] = []
        self.received_t = dict.fromkeys(SOURCES, 0.0)
        self.received_by_grade_t = dict.fromkeys(GRADES, 0.0)
        self.consumed_t = dict.fromkeys(GRADES, 0.0)
        self.sent_by_grade_t = dict.fromkeys(GRADES, 0.0)  # to motor makers (China's home)
        self.output_share = 1.0
        self.line_output_share = {"free_only": 1.0, "mixed": 1.0}
        self.ordered_t = 0.0
        self.blocked = False
        self._denied_recently: list[Order] = []
        self._needs_key: tuple[float, float, float] | None = None
        self._needs = (0.0, 0.0, 0.0, 0.0, 0.0)
        self.base_china_share = china_share
        self.availability = {"china": 1.0, "row": 1.0}
        self._shipped_from_t = dict.fromkeys(SOURCES, 0.0)
        self._base_price_usd_per_kg: dict[str, float] | None = None
        self._prices_week = -1
        self._prices: dict[str, float] = {}

    # ------------------------------------------------------------------ demand
    def full_need_t(self) -> float:
        """Magnets (both grades) the buyer needs this week at full output, t."""
        raise NotImplementedError

    def need_t(self, grade: str) -> float:
        """Need of one grade this week at full output (both lines), t."""
        needs = self.needs()
        return needs[1] if grade == "controlled" else needs[2]

    def needs(self) -> tuple[float, float, float, float, float]:
        """This week's needs at full output, t (five figures).

        All grades, controlled, uncontrolled (both lines), the free-only line's, and the
        mixed line's uncontrolled. Computed once per distinct full need and grade mix (the
        hot loops ask many times a week); the arithmetic is that of :meth:`grade_share`.
        """
        full = self.full_need_t()
        key = (full, self.free_only_share, self.controlled_share)
        if key != self._needs_key:
            self._needs_key = key
            self._needs = (
                full,
                full * self.grade_share("controlled"),
                full * self.grade_share("free"),
                full * self.free_only_share,
                full * (1.0 - self.free_only_share) * (1.0 - self.controlled_share),
            )
        return self._needs

    def grade_share(self, grade: str) -> float:
        """Share of the full need in ``grade`` (both lines)."""
        mixed = 1.0 - self.free_only_share
        if grade == "controlled":
            return mixed * self.controlled_share
        return self.free_only_share + mixed * (1.0 - self.controlled_share)

    def free_only_need_t(self) -> float:
        """Uncontrolled grades the free-only line needs this week at full output, t."""
        return self.needs()[3]

    def mixed_free_need_t(self) -> float:
        """Uncontrolled grades the mixed line needs this week at full output, t."""
        return self.needs()[4]

    # ------------------------------------------------------------------ set-up
    def connect(
        self,
        china: list[tuple[MagnetSeller, float]],
        row: list[tuple[MagnetSeller, float]],
    ) -> None:
        """Name the sellers (with weights) and fill the pipeline as in a steady state.

        Each source's lead time L holds L weekly shipments, arriving in weeks 0..L-1; the
        order-up-to level counts the share-weighted lead time (``pipeline_weeks``).
        """
        self.china_sellers = _normalised(china)
        self.row_sellers = _normalised(row)
        if not self.row_sellers:
            self.china_share = 1.0 if self.china_sellers else 0.0
        if not self.china_sellers:
            self.china_share = 0.0
        for grade in GRADES:
            self.stock_t[grade] = self.need_t(grade) * self.initial_inventory_weeks
        self._set_pipeline_weeks()
        for sellers, share in (
            (self.china_sellers, self.china_share),
            (self.row_sellers, 1.0 - self.china_share),
        ):
            for seller, weight in sellers:
                part = share * weight
                if part <= EPS:
                    continue
                for grade in GRADES:
                    tonnes = self.need_t(grade) * part
                    if tonnes <= EPS:
                        continue
                    for week in range(seller.lead_time_weeks):
                        self.accept(Shipment(seller.source, seller.unique_id, tonnes, week, grade))
        self.base_china_share = self.china_share
        self._shipped_from_t = dict.fromkeys(SOURCES, 0.0)

    def _set_pipeline_weeks(self) -> None:
        """The share-weighted lead time the order-up-to level counts, weeks."""
        china, row = self.china_share, 1.0 - self.china_share
        self.pipeline_weeks = sum(
            [china * weight * seller.lead_time_weeks for seller, weight in self.china_sellers]
            + [row * weight * seller.lead_time_weeks for seller, weight in self.row_sellers]
        )

    def expected_sales(self) -> dict[int, dict[str, float]]:
        """Weekly tonnes by grade this buyer expects to take from each seller (by unique_id)."""
        expected: dict[int, dict[str, float]] = {}
        for sellers, share in (
            (self.china_sellers, self.china_share),
            (self.row_sellers, 1.0 - self.china_share),
        ):
            for seller, weight in sellers:
                row = expected.setdefault(seller.unique_id, dict.fromkeys(GRADES, 0.0))
                for grade in GRADES:
                    row[grade] += self.need_t(grade) * share * weight
        return expected

    # ------------------------------------------------------------------ weekly behaviour
    def receive_shipments(self) -> None:
        """Move shipments due this week into stock."""
        week = self.model.week
        received = self.received_t = zeros(SOURCES)
        by_grade = self.received_by_grade_t = zeros(GRADES)
        self.sent_by_grade_t = zeros(GRADES)
        staying: list[Shipment] = []
        transit, stock = self._transit_t, self.stock_t
        for shipment in self.in_transit:
            if shipment.arrival_week > week:
                staying.append(shipment)
                continue
            grade, tonnes = shipment.grade, shipment.tonnes
            transit[grade] -= tonnes
            stock[grade] += tonnes
            received[shipment.source] += tonnes
            by_grade[grade] += tonnes
        self.in_transit = staying

    def use(self, scheduled_share: float = 1.0) -> None:
        """Run both lines on the stock in hand (module docstring, :func:`line_shares`).

        ``scheduled_share`` (0-1) of the full need is scheduled (an OEM's announced cut); the
        output share is of the full need.
        """
        full, controlled_need, _, free_only_t, mixed_free_t = self.needs()
        if scheduled_share < 1.0:
            q = max(scheduled_share, 0.0)
            full, controlled_need = full * q, controlled_need * q
            free_only_t, mixed_free_t = free_only_t * q, mixed_free_t * q
        stock = self.stock_t
        shares = line_shares(
            stock["controlled"], stock["free"], controlled_need, mixed_free_t, free_only_t
        )
        self.line_output_share = shares
        mixed_t = full - free_only_t
        line_mix = (
            (free_only_t * shares["free_only"] + mixed_t * shares["mixed"]) / full
            if full > EPS
            else 1.0
        )  # capped: the two lines' sum can round to one ulp above 1
        self.output_share = min(line_mix, 1.0) * min(scheduled_share, 1.0)
        uses = (
            ("controlled", controlled_need * shares["mixed"]),
            ("free", free_only_t * shares["free_only"] + mixed_free_t * shares["mixed"]),
        )
        for grade, used in uses:
            used = min(stock[grade], used)
            self.consumed_t[grade] = used
            stock[grade] -= used

    def in_transit_t(self, grade: str | None = None) -> float:
        """Magnets shipped to us (or held by customs) but not yet arrived, t."""
        if grade is None:
            return sum(self._transit_t.values())
        return self._transit_t[grade]

    def accept(self, shipment: Shipment) -> None:
        """Take a shipment (or a customs-held consignment) into the pipeline."""
        self.in_transit.append(shipment)
        self._transit_t[shipment.grade] += shipment.tonnes
        self._shipped_from_t[shipment.source] += shipment.tonnes

    def split_held(self, shipment: Shipment, tonnes: float) -> Shipment:
        """Split ``tonnes`` off a consignment held by customs; the part is released."""
        shipment.tonnes -= tonnes
        part = Shipment(shipment.source, shipment.supplier_id, tonnes, HELD, shipment.grade)
        self.in_transit.append(part)
        return part

    @property
    def inventory_t(self) -> float:
        """Magnet stock, both grades, t."""
        return sum(self.stock_t.values())

    @property
    def cover_weeks(self) -> float:
        """Cover of the scarcer grade, weeks of need."""
        covers = [self.stock_t[g] / self.need_t(g) for g in GRADES if self.need_t(g) > EPS]
        return min(covers) if covers else 0.0


def line_shares(
    controlled_t: float,
    free_t: float,
    controlled_need_t: float,
    mixed_free_need_t: float,
    free_only_need_t: float,
) -> dict[str, float]:
    """Output shares of the free-only and the mixed line from the stock in hand (0-1).

    The mixed line is capped by its controlled grades, ``cap = controlled / controlled need``
    (Leontief). Uncontrolled stock is shared pro rata between the free-only line's need and
    the mixed line's need at that cap: both lines get the same share ``r`` of the free need
    they can use, so no uncontrolled tonne idles while either line could use it, and neither
    line is served first (the aggregate stands for many firms, each holding its own stock;
    assumption). With no free-only line this is the Leontief rule ``min`` over grades.
    """
    cap = min(1.0, controlled_t / controlled_need_t) if controlled_need_t > EPS else 1.0
    usable = free_only_need_t + mixed_free_need_t * cap
    r = min(1.0, free_t / usable) if usable > EPS else 1.0
    return {"free_only": r, "mixed": cap * r}


def _normalised(sellers: list[tuple[MagnetSeller, float]]) -> list[tuple[MagnetSeller, float]]:
    total = sum(w for _, w in sellers)
    if total <= EPS:
        return [(s, 1.0 / len(sellers)) for s, _ in sellers] if sellers else []
    return [(s, w / total) for s, w in sellers if w > 0]
