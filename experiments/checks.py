"""Validation checks beyond the monthly series: further outcome facts of CALIBRATION.md.

Each check is a metric of one history run (a :class:`experiments.validation.Context`) and a
band read from ``experiments/data/observations.toml`` (role ``validation``; each band's
``note`` says how the fact's words were read). None is fitted, and none is part of
``validate-history``'s exit code: they are reported beside SF-1..SF-5, passing or not.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np

from experiments.validation import Context, Fact, band_fact


def pending_indian_applications(ctx: Context) -> float:
    """C-LIC-6: Indian applications pending in the week of 27 Oct 2025."""
    week = ctx.weeks_in(date(2025, 10, 27), date(2025, 11, 2))
    values = ctx.steps.loc[week, "applications_pending__IN"]
    return float(values.iloc[0]) if len(values) else math.nan


def eu_applications_decided(ctx: Context) -> float:
    """C-LIC-11: EU applications decided April-June 2025, % of those filed."""
    window = ctx.weeks_in(date(2025, 4, 1), date(2025, 6, 30))
    filed = ctx.steps.loc[window, "applications_filed__EU"].sum()
    decided = ctx.steps.loc[window, "applications_decided__EU"].sum()
    return float(100 * decided / filed) if filed > 0 else math.nan


def non_chinese_utilisation(ctx: Context) -> float:
    """C-JP-5: non-Chinese makers' output over capacity in July 2025, %."""
    july = ctx.weeks_in(date(2025, 7, 1), date(2025, 7, 31))
    capacity = ctx.steps.loc[july, "row_capacity_t"].sum()
    return (
        float(100 * ctx.steps.loc[july, "row_output_t"].sum() / capacity) if capacity else math.nan
    )


def ex_china_premium(ctx: Context) -> float:
    """C-MKT-10: the ex-China price over China's home price in July 2025, % above."""
    july = ctx.weeks_in(date(2025, 7, 1), date(2025, 7, 31))
    ratio = (
        ctx.steps.loc[july, "ex_china_price_usd_per_kg"]
        / ctx.steps.loc[july, "china_home_price_usd_per_kg"]
    )
    return float(100 * (ratio.mean() - 1))


def first_indian_stop(ctx: Context) -> float:
    """C-IN-7: weeks after 4 April 2025 to the first week an Indian OEM firm stops."""
    cols = [c for c in ctx.steps.columns if c.startswith("oem_firms_stopped__IN__")]
    stopped = ctx.steps[cols].to_numpy().sum(axis=1) > 0
    after = ctx.steps["week"].to_numpy() >= ctx.shock_week
    hits = np.flatnonzero(stopped & after)
    return float(ctx.steps["week"].iloc[hits[0]] - ctx.shock_week) if len(hits) else math.nan


CHECKS: list[Fact] = [
    band_fact(
        "C-LIC-6",
        ">50 Indian applications pending at the first approvals",
        "IN applications pending, week of 27 Oct 2025",
        pending_indian_applications,
    ),
    band_fact(
        "C-LIC-11",
        "About a quarter of EU requests processed by June 2025",
        "EU applications decided Apr-Jun 2025, % of filed",
        eu_applications_decided,
    ),
    band_fact(
        "C-JP-5",
        "Non-Chinese (Shin-Etsu) plant at full capacity, July 2025",
        "non-Chinese magnet plants' output, July 2025, % of capacity",
        non_chinese_utilisation,
    ),
    band_fact(
        "C-MKT-10",
        "Ex-China prices 15-20% above Chinese prices",
        "ex-China over Chinese price, July 2025, % above",
        ex_china_premium,
    ),
    band_fact(
        "C-IN-7",
        "Indian OEMs' stocks could run out by mid-July 2025",
        "weeks to the first Indian OEM firm stop",
        first_indian_stop,
    ),
]
