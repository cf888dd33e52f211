"""Targets: each observation beside the model's value on the same aggregate, over seeds.

For every observation in ``experiments/data/observations.toml`` the model's weekly records are
turned into calendar-month totals (:func:`experiments.months.monthly_totals`) and the
observation's statistic is computed on them, per seed. The table gives the median and the 5th
and 95th percentiles over seeds, the relative error of the median and whether it is within the
observation's tolerance. Where the model has no column for the aggregate (e.g. exports to a
destination it does not model) the row says "not modelled yet"; where the run does not cover
all the months (e.g. 2024 in a run that starts in 2025) it says "outside the run". No number
is invented for either.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from experiments.months import monthly_totals
from experiments.observations import Observation, Observations, load_observations

ALL_EXPORTS = "china_exports_t"
COMPARED = "compared"
NOT_MODELLED = "not modelled yet"
OUTSIDE_RUN = "outside the run"
YEAR_MONTHS = 12


def model_columns(obs: Observation) -> list[str]:
    """Model columns (tonnes per week) that sum to the observation's destination.

    ``ALL`` is ``china_exports_t``; a destination code ``XX`` (a country, or ``EU``) is
    ``china_exports_t__XX``; a group ``A+B`` sums the columns of its members.

    Example:
        >>> from experiments.observations import load_observations
        >>> obs = {o.key: o for o in load_observations().observation}
        >>> model_columns(obs["share_de_kr_us_2024_jan_jul"])
        ['china_exports_t__DE', 'china_exports_t__KR', 'china_exports_t__US']
    """
    if obs.destination == "ALL":
        return [ALL_EXPORTS]
    return [f"{ALL_EXPORTS}__{code}" for code in obs.destination.split("+")]


def _needed_columns(obs: Observation) -> list[str]:
    needed = model_columns(obs)
    return [*needed, ALL_EXPORTS] if obs.statistic == "share_pct" else needed


def _total(monthly: pd.DataFrame, months: pd.PeriodIndex, columns: list[str]) -> float:
    """Tonnes over ``months`` summed over ``columns``; NaN if any month is not fully covered."""
    if not months.isin(monthly.index).all():
        return np.nan
    values = monthly.loc[months, columns]
    return np.nan if values.isna().to_numpy().any() else float(values.to_numpy().sum())


def model_value(obs: Observation, monthly: pd.DataFrame) -> float:
    """One run's value of the observation's statistic, in the observation's unit.

    Args:
        obs: the observation (its destination, months and statistic).
        monthly: calendar-month totals of one run (:func:`experiments.months.monthly_totals`)
            with the columns of :func:`model_columns`; incomplete months are NaN.

    Returns:
        Tonnes (``total_t``), % of all destinations (``share_pct``) or % change against the
        same months a year earlier (``yoy_change_pct``); NaN where a month is not covered.
    """
    columns = model_columns(obs)
    total = _total(monthly, obs.months, columns)
    if obs.statistic == "total_t":
        return total
    if obs.statistic == "share_pct":
        everything = _total(monthly, obs.months, [ALL_EXPORTS])
        return 100 * total / everything if everything > 0 else np.nan
    before = _total(monthly, obs.months - YEAR_MONTHS, columns)
    return 100 * (total / before - 1) if before > 0 else np.nan


def compare_targets(
    runs: Sequence[pd.DataFrame], observations: Observations | None = None
) -> pd.DataFrame:
    """Compare every observation with the model over seeds, on the observation's aggregate.

    Args:
        runs: one weekly table per seed (DataCollector model records with ``date`` and flow
            columns in tonnes per week), all of one scenario.
        observations: the observations; None loads the packaged file.

    Returns:
        One row per observation: ``key``, ``id``, ``role``, ``aggregate``, ``unit``, ``data``,
        ``median``, ``p5``, ``p95`` (model, over seeds), ``rel_error`` ((median - data) /
        |data|), ``tolerance``, ``within_tolerance`` (True/False, or NA when not compared) and
        ``status`` (``compared``, ``not modelled yet`` or ``outside the run``).
    """
    observations = observations or load_observations()
    present = set.intersection(*(set(r.columns) for r in runs)) if runs else set()
    wanted = sorted({c for o in observations.observation for c in _needed_columns(o)} & present)
    monthly = [monthly_totals(run, wanted) for run in runs]
    rows = []
    for obs in observations.observation:
        values = pd.Series(np.nan, index=range(len(runs)), dtype=float)
        if set(_needed_columns(obs)) <= present:
            values = pd.Series([model_value(obs, m) for m in monthly], dtype=float)
            status = OUTSIDE_RUN if values.isna().all() else COMPARED
        else:
            status = NOT_MODELLED
        p5, median, p95 = values.quantile([0.05, 0.5, 0.95]).to_numpy()
        compared = status == COMPARED and obs.value != 0
        rows.append(
            {
                "key": obs.key,
                "id": obs.id,
                "role": obs.role,
                "aggregate": obs.aggregate_text,
                "unit": obs.unit,
                "data": obs.value,
                "median": median,
                "p5": p5,
                "p95": p95,
                "rel_error": (median - obs.value) / abs(obs.value) if compared else np.nan,
                "tolerance": obs.tolerance_text,
                "within_tolerance": obs.within_tolerance(median) if compared else pd.NA,
                "status": status,
            }
        )
    table = pd.DataFrame(rows)
    table["within_tolerance"] = table["within_tolerance"].astype("boolean")
    return table
