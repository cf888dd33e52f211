"""Pure market arithmetic: allocation, ramp and learning curves (prices: test_prices.py)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulation.market import allocate_pro_rata, learning_curve_cost, s_curve

tonnes = st.floats(0, 1e4, allow_nan=False)
requests = st.dictionaries(st.integers(0, 50), tonnes, max_size=12)


@given(supply=tonnes, requests=requests)
def test_pro_rata_never_over_allocates(supply, requests):
    out = allocate_pro_rata(supply, requests)
    assert out.keys() == requests.keys()
    assert all(0 <= out[k] <= requests[k] + 1e-9 for k in requests)
    assert sum(out.values()) == pytest.approx(
        min(supply, sum(requests.values())), rel=1e-9, abs=1e-9
    )


@given(supply=tonnes, requests=requests)
def test_pro_rata_is_proportional_when_short(supply, requests):
    out = allocate_pro_rata(supply, requests)
    total = sum(requests.values())
    if supply < total and total > 1e-6:
        for k, want in requests.items():
            assert out[k] == pytest.approx(want * supply / total, rel=1e-9, abs=1e-9)


def test_s_curve_is_monotone_from_zero_to_one():
    values = [s_curve(x / 100) for x in range(-10, 111)]
    assert values == sorted(values)
    assert s_curve(0) == 0.0 and s_curve(1) == 1.0
    assert s_curve(0.25) < 0.25 < 0.75 < s_curve(0.75)  # slow start, fast middle


def test_learning_curve_falls_by_rate_per_doubling():
    assert learning_curve_cost(100, 5, 10, 0.2) == 100
    assert learning_curve_cost(100, 20, 10, 0.2) == pytest.approx(80)
    assert learning_curve_cost(100, 80, 10, 0.2) == pytest.approx(100 * 0.8**3)
    assert learning_curve_cost(100, 80, 10, 0.0) == 100
