"""Calendar-month totals of weekly flows: split by days, conserved, partial months NaN."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.months import DAYS_COVERED, monthly_totals


def weekly(start: date, flows: list[float]) -> pd.DataFrame:
    dates = [(start + timedelta(weeks=i)).isoformat() for i in range(len(flows))]
    return pd.DataFrame({"week": range(len(flows)), "date": dates, "x_t": flows})


starts = st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 12, 31))
flows = st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=1, max_size=120)


def test_a_week_straddling_a_month_boundary_is_split_by_days():
    # Week of Mon 28 Apr 2025: 3 days in April, 4 in May.
    months = monthly_totals(weekly(date(2025, 4, 28), [70.0]), ["x_t"], include_partial=True)
    assert months.loc[pd.Period("2025-04", "M"), "x_t"] == pytest.approx(30.0)
    assert months.loc[pd.Period("2025-05", "M"), "x_t"] == pytest.approx(40.0)
    assert months[DAYS_COVERED].tolist() == [3, 4]


@settings(max_examples=60, deadline=None)
@given(start=starts, values=flows)
def test_monthly_totals_conserve_the_weekly_total(start, values):
    months = monthly_totals(weekly(start, values), ["x_t"], include_partial=True)
    assert months["x_t"].sum() == pytest.approx(sum(values), rel=1e-9, abs=1e-6)
    assert months[DAYS_COVERED].sum() == 7 * len(values)


@settings(max_examples=60, deadline=None)
@given(start=starts, n=st.integers(min_value=1, max_value=120), rate=st.floats(0.1, 1e4))
def test_constant_weekly_flow_gives_months_proportional_to_days(start, n, rate):
    months = monthly_totals(weekly(start, [rate] * n), ["x_t"])
    complete = months["x_t"].dropna()
    expected = rate / 7 * complete.index.days_in_month.to_numpy()
    np.testing.assert_allclose(complete.to_numpy(), expected, rtol=1e-9)


@settings(max_examples=60, deadline=None)
@given(start=starts, n=st.integers(min_value=1, max_value=120))
def test_months_the_run_covers_only_in_part_are_nan(start, n):
    months = monthly_totals(weekly(start, [7.0] * n), ["x_t"])
    partial = months[DAYS_COVERED] < months.index.days_in_month
    assert months.loc[partial, "x_t"].isna().all()
    assert months.loc[~partial, "x_t"].notna().all()
    last_day = start + timedelta(weeks=n) - timedelta(days=1)
    inside = [m.start_time.date() >= start and m.end_time.date() <= last_day for m in months.index]
    assert (~partial).tolist() == inside


def test_a_gap_between_weeks_leaves_that_month_incomplete():
    steps = weekly(date(2025, 3, 1), [7.0] * 10).drop(index=6)  # the week of 12 April is missing
    months = monthly_totals(steps, ["x_t"])
    assert np.isnan(months.loc[pd.Period("2025-04", "M"), "x_t"])
    assert months.loc[pd.Period("2025-03", "M"), "x_t"] == pytest.approx(31.0)


def test_overlapping_weeks_and_missing_columns_are_refused():
    steps = weekly(date(2025, 3, 3), [7.0, 7.0])
    steps.loc[1, "date"] = "2025-03-05"
    with pytest.raises(ValueError, match="overlap"):
        monthly_totals(steps, ["x_t"])
    with pytest.raises(ValueError, match="no column 'y_t'"):
        monthly_totals(weekly(date(2025, 3, 3), [1.0]), ["y_t"])
