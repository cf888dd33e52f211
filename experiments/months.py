"""Calendar-month totals of weekly model flows, so the model meets the data on its aggregate.

Customs statistics count tonnes per calendar month; the model steps in 7-day weeks that start
on ``date`` (one DataCollector row per week). A week that straddles a month boundary is split
by days: a week of 70 t with 3 days in May and 4 in June gives May 30 t and June 40 t. A month
the run covers only in part (the first and last month, or a gap) is incomplete and reported
as NaN, never as a smaller number.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

WEEK_DAYS = 7
DAYS_COVERED = "days_covered"


def monthly_totals(
    steps: pd.DataFrame,
    columns: Sequence[str],
    date_column: str = "date",
    include_partial: bool = False,
) -> pd.DataFrame:
    """Turn weekly flows (tonnes per week) into calendar-month totals (tonnes per month).

    Each week's flow is spread evenly over its 7 days (``date`` is the first day), and the
    days are summed by calendar month. Every month from the first week's month to the last
    week's last day appears once.

    Args:
        steps: one row per week, with ``date_column`` (ISO date or datetime of the week's
            first day) and the flow ``columns`` in units per week (e.g. ``china_exports_t``).
        columns: flow columns to aggregate; their units become units per calendar month.
        date_column: the column with each week's first day.
        include_partial: keep the pro-rated sums of months the run covers only in part
            (for checks); by default they are NaN.

    Returns:
        Index: monthly ``pandas.Period`` (named ``month``); one column per flow, plus
        ``days_covered`` (days of the month inside the run). Months with fewer covered days
        than calendar days are NaN unless ``include_partial``.

    Raises:
        ValueError: if a column is missing or two weeks overlap (dates less than 7 days apart).

    Example:
        >>> weeks = pd.DataFrame({"date": ["2025-05-26", "2025-06-02"], "x_t": [70.0, 7.0]})
        >>> monthly_totals(weeks, ["x_t"], include_partial=True)["x_t"].round(1).to_dict()
        {Period('2025-05', 'M'): 60.0, Period('2025-06', 'M'): 17.0}
    """
    missing = [c for c in [date_column, *columns] if c not in steps.columns]
    if missing:
        raise ValueError(f"monthly_totals: no column {missing[0]!r} in the weekly records")
    starts = pd.to_datetime(steps[date_column]).to_numpy(dtype="datetime64[D]")
    if len(starts) > 1 and (np.diff(np.sort(starts)) < np.timedelta64(WEEK_DAYS, "D")).any():
        raise ValueError("monthly_totals: weeks overlap (two dates less than 7 days apart)")
    days = (starts[:, None] + np.arange(WEEK_DAYS).astype("timedelta64[D]")).ravel()
    daily = pd.DataFrame(
        np.repeat(steps[list(columns)].to_numpy(dtype=float) / WEEK_DAYS, WEEK_DAYS, axis=0),
        columns=list(columns),
    )
    month = pd.PeriodIndex(pd.DatetimeIndex(days), freq="M")
    daily[DAYS_COVERED] = 1
    totals = daily.groupby(month).sum()
    if len(totals):
        every = pd.period_range(totals.index.min(), totals.index.max(), freq="M")
        totals = totals.reindex(every, fill_value=0)
    totals.index.name = "month"
    if not include_partial:
        incomplete = totals[DAYS_COVERED] < totals.index.days_in_month
        totals.loc[incomplete, list(columns)] = np.nan
    return totals
