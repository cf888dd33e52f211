"""The targets table: known answers on synthetic runs, honest gaps, and the CLI prints it."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments.cli import app
from experiments.observations import Catalogue, Observation, Observations, load_observations
from experiments.targets import COMPARED, NOT_MODELLED, OUTSIDE_RUN, compare_targets


def daily_rate_run(start: date, weeks: int, rate_t_per_day, india_share: float) -> pd.DataFrame:
    """Weekly records whose flow is rate_t_per_day(day) summed over each week's 7 days."""
    rows = []
    for w in range(weeks):
        first = start + timedelta(weeks=w)
        total = sum(rate_t_per_day(first + timedelta(days=d)) for d in range(7))
        rows.append(
            {
                "week": w,
                "date": first.isoformat(),
                "china_exports_t": total,
                "china_exports_t__IN": india_share * total,
            }
        )
    return pd.DataFrame(rows)


def observation(key: str, **fields) -> Observation:
    base = dict(id="C-LIC-5", quantity="exports_t", destination="ALL", unit="t")
    base |= dict(role="calibration", statistic="total_t", tolerance_pct=15)
    return Observation(key=key, **(base | fields))


@pytest.fixture
def observations() -> Observations:
    return Observations(
        catalogue=Catalogue(source="test", ids=["C-LIC-5"]),
        observation=[
            observation("may", period="2025-05", value=62.0),
            observation("june_far", period="2025-06", value=100.0),
            observation(
                "india_share",
                destination="IN",
                period="2025-05",
                statistic="share_pct",
                value=25.0,
                unit="%",
                tolerance_pct=None,
                tolerance_points=5,
            ),
            observation(
                "yoy",
                period="2025-05",
                statistic="yoy_change_pct",
                value=100.0,
                unit="% y/y",
                tolerance_pct=None,
                tolerance_points=10,
            ),
            observation("germany", destination="DE", period="2025-05", value=10.0),
            observation("before_the_run", period="2023-05", value=10.0),
        ],
    )


@pytest.fixture
def runs() -> list[pd.DataFrame]:
    # Three seeds: k t/day in 2025 (k = 1, 2, 3) and 1 t/day in 2024; India gets 20%.
    def rate(k):
        return lambda day: float(k) if day.year == 2025 else 1.0

    return [daily_rate_run(date(2024, 1, 1), 80, rate(k), india_share=0.2) for k in (1, 2, 3)]


def test_a_synthetic_run_gives_the_known_rows(runs, observations):
    table = compare_targets(runs, observations).set_index("key")
    may = table.loc["may"]
    # May 2025 over seeds: 31, 62, 93 t; linear percentiles of three values.
    assert (may["median"], may["p5"], may["p95"]) == pytest.approx((62.0, 34.1, 89.9))
    assert may["rel_error"] == pytest.approx(0.0) and bool(may["within_tolerance"])
    assert may["status"] == COMPARED and may["id"] == "C-LIC-5" and may["role"] == "calibration"
    far = table.loc["june_far"]  # June 2025: 30, 60, 90 t against 100 t
    assert far["median"] == pytest.approx(60.0) and far["rel_error"] == pytest.approx(-0.4)
    assert not far["within_tolerance"]
    share = table.loc["india_share"]  # 20% in every seed against 25% +-5 points
    assert share["median"] == pytest.approx(20.0) and bool(share["within_tolerance"])
    yoy = table.loc["yoy"]  # May 2025 at k t/day vs May 2024 at 1 t/day: 0, +100, +200 %
    assert yoy["median"] == pytest.approx(100.0) and yoy["p5"] == pytest.approx(10.0)


def test_a_missing_column_is_not_modelled_yet_and_gets_no_number(runs, observations):
    row = compare_targets(runs, observations).set_index("key").loc["germany"]
    assert row["status"] == NOT_MODELLED
    assert row[["median", "p5", "p95", "rel_error"]].isna().all()
    assert pd.isna(row["within_tolerance"])


def test_months_the_run_does_not_cover_are_outside_the_run(runs, observations):
    row = compare_targets(runs, observations).set_index("key").loc["before_the_run"]
    assert row["status"] == OUTSIDE_RUN and pd.isna(row["median"])


def test_every_packaged_observation_gets_a_row(runs):
    table = compare_targets(runs)
    assert list(table["key"]) == [o.key for o in load_observations().observation]
    assert set(table["status"]) <= {COMPARED, NOT_MODELLED, OUTSIDE_RUN}
    assert table.loc[table["status"] != COMPARED, "median"].isna().all()


@pytest.mark.slow
def test_validate_history_prints_the_targets_table():
    result = CliRunner().invoke(app, ["validate-history", "--seeds", "1"])
    assert result.exit_code in (0, 1), result.output  # 1 = a stylised fact failed: allowed here
    out = result.output
    assert "stylised facts over 1 seeds" in out
    assert "targets: model median [5-95%]" in out
    assert "all 2025-06 total" in out and "3,188" in out
    assert "VN 2025-05 total" in out and NOT_MODELLED in out
    assert OUTSIDE_RUN in out  # 2024 lies before the history run's first week
