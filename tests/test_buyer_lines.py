"""A buyer's free-only line keeps going when controlled grades are cut off; its mixed line stops.

One aggregate buyer and one Chinese maker stub that ships uncontrolled grades the week after
they are ordered and never ships controlled grades (every controlled order waits for a
licence that never comes).
"""

from __future__ import annotations

import mesa
import pytest

from agents.buyer import line_shares
from agents.regional import RegionalBuyer
from simulation.market import Order, Shipment

DEMAND_T = 10.0
CONTROLLED_SHARE = 0.5


class _Model(mesa.Model):
    def __init__(self) -> None:
        super().__init__(rng=0)
        self.week = 0


class _ControlledCutOff:
    """A Chinese maker whose controlled grades never get a licence; free grades ship at once."""

    source = "china"
    lead_time_weeks = 1

    def __init__(self) -> None:
        self.unique_id = 1
        self.book: list[Order] = []
        self.free_ordered_t: dict[int, float] = {}

    def place_order(self, buyer, grade: str, tonnes: float, week: int) -> Order:
        order = Order(len(self.book), buyer, self, grade, tonnes, tonnes, week, week + 52)
        if grade == "controlled":
            order.licence = "pending"
        else:
            self.free_ordered_t[week] = self.free_ordered_t.get(week, 0.0) + tonnes
        self.book.append(order)
        return order

    def ship(self, week: int) -> None:
        for order in [o for o in self.book if o.grade == "free" and o.open_t > 0]:
            order.buyer.accept(Shipment("china", 1, order.open_t, week + 1, "free"))
            order.open_t = 0.0
            order.buyer.order_closed(order)
            self.book.remove(order)

    def close(self, order: Order, cancelled: bool = False, expired: bool = False) -> None:
        order.open_t = 0.0
        order.buyer.order_closed(order)
        self.book.remove(order)


def _run(free_only_share: float, weeks: int = 20) -> tuple[RegionalBuyer, _ControlledCutOff, list]:
    model = _Model()
    seller = _ControlledCutOff()
    buyer = RegionalBuyer(
        model,
        demand_t_per_week=DEMAND_T,
        name="b",
        country="DE",
        controlled_share=CONTROLLED_SHARE,
        free_only_share=free_only_share,
        china_share=1.0,
        initial_inventory_weeks=2.0,
        cover_target_weeks=2.0,
    )
    buyer.connect([(seller, 1.0)], [])
    history = []
    for week in range(weeks):
        model.week = week
        buyer.step()
        seller.ship(week)
        history.append((dict(buyer.line_output_share), buyer.output_share, dict(buyer.consumed_t)))
    return buyer, seller, history


def test_free_only_line_keeps_ordering_and_producing_when_controlled_grades_are_cut_off():
    buyer, seller, history = _run(free_only_share=0.4)
    lines, output, consumed = history[-1]
    assert lines["mixed"] == pytest.approx(0.0)
    assert lines["free_only"] == pytest.approx(1.0)
    assert output == pytest.approx(0.4)
    assert consumed["free"] == pytest.approx(0.4 * DEMAND_T)
    assert consumed["controlled"] == pytest.approx(0.0)
    # The free-only line's need is still ordered every week once the mixed line has stopped.
    late = [seller.free_ordered_t.get(w, 0.0) for w in range(10, 20)]
    assert min(late) == pytest.approx(0.4 * DEMAND_T)
    # need_t stays the full-output need of each grade (both lines).
    assert buyer.need_t("controlled") == pytest.approx(0.6 * CONTROLLED_SHARE * DEMAND_T)
    assert buyer.need_t("free") == pytest.approx((0.4 + 0.6 * (1 - CONTROLLED_SHARE)) * DEMAND_T)


def test_without_a_free_only_line_free_orders_and_output_stop_with_the_controlled_grades():
    _buyer, seller, history = _run(free_only_share=0.0)
    lines, output, consumed = history[-1]
    assert output == pytest.approx(0.0)
    assert lines["mixed"] == pytest.approx(0.0)
    assert consumed["free"] == pytest.approx(0.0)
    assert sum(seller.free_ordered_t.get(w, 0.0) for w in range(10, 20)) == pytest.approx(0.0)


def test_both_lines_run_in_full_before_the_cut_off_bites():
    _buyer, _seller, history = _run(free_only_share=0.4)
    lines, output, _ = history[0]
    assert lines == {"free_only": pytest.approx(1.0), "mixed": pytest.approx(1.0)}
    assert output == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("controlled", "free", "expected"),
    [
        (5.0, 5.0, {"free_only": 1.0, "mixed": 1.0}),
        (2.5, 5.0, {"free_only": 1.0, "mixed": 0.5}),
        (0.0, 1.0, {"free_only": 0.5, "mixed": 0.0}),
        # free stock short: shared pro rata over the need each line can use (2 + 3 * 1)
        (5.0, 2.5, {"free_only": 0.5, "mixed": 0.5}),
    ],
)
def test_line_shares_cap_the_mixed_line_by_controlled_grades_and_share_free_stock(
    controlled, free, expected
):
    shares = line_shares(controlled, free, 5.0, 3.0, 2.0)
    assert shares == {k: pytest.approx(v) for k, v in expected.items()}


@pytest.mark.parametrize(("controlled", "free"), [(1.0, 4.0), (4.0, 1.0), (0.0, 3.0), (5.0, 9.0)])
def test_line_shares_without_a_free_only_line_is_the_leontief_minimum(controlled, free):
    shares = line_shares(controlled, free, 5.0, 3.0, 0.0)
    assert shares["mixed"] == pytest.approx(min(1.0, controlled / 5.0, free / 3.0))
