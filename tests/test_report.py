"""`experiments.report`: summary statistics, figures and the HTML page of a sweep folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from scipy import stats

from experiments import report as report_mod
from experiments.report import ReportError, heatmap_table, load_sweep, write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# First appearance by run_id, deliberately not alphabetical / not sorted.
POLICIES = ["open", "case_by_case_50", "ban"]
RAMPUPS = [2.0, 0.5]
REPS = 5
FAILED_RUN_IDS = {8, 17}  # (open, 0.5, rep 3) and (case_by_case_50, 0.5, rep 2)
WEEKS = 12
POLICY_LOSS = {"open": 0.0, "case_by_case_50": 20.0, "ban": 40.0}
RAMPUP_LOSS = {2.0: 5.0, 0.5: 10.0}


def lost_in(policy: str, rampup: float, rep: int) -> float:
    return POLICY_LOSS[policy] + RAMPUP_LOSS[rampup] + 1.5 * rep


def make_runs() -> pd.DataFrame:
    rows = []
    run_id = 0
    for point, (policy, rampup) in enumerate((p, r) for p in POLICIES for r in RAMPUPS):
        for rep in range(REPS):
            ok = run_id not in FAILED_RUN_IDS
            value = lost_in(policy, rampup, rep)
            rows.append(
                {
                    "run_id": run_id,
                    "point": point,
                    "replication": rep,
                    "seed": 1000 + run_id,
                    "status": "ok" if ok else "error",
                    "error": None if ok else f"RuntimeError: boom in run {run_id}\ntraceback",
                    "wall_time_s": 0.5,
                    "policy": policy,
                    "rampup": rampup,
                    "lost_production_pct__IN": value if ok else np.nan,
                    "lost_production_pct__JP": value / 2 if ok else np.nan,
                    "lost_vehicles__IN": value * 1e5 if ok else np.nan,
                    # never stops under "open": NaN (undefined), not a failure
                    "weeks_to_first_stoppage__IN": (
                        np.nan if (policy == "open" or not ok) else 6.0 + rep
                    ),
                    "weeks_to_first_stoppage__IN__in-e2w": 7.0 if ok else np.nan,
                    "licences_issued": 100.0 - POLICY_LOSS[policy] if ok else np.nan,
                    "peak_price_index": 1.0 + POLICY_LOSS[policy] / 10 if ok else np.nan,
                    "subsidy_spent_usd": 1e8 * rampup if ok else np.nan,
                }
            )
            run_id += 1
    return pd.DataFrame(rows)


def by_destination(policy: str, rep: int) -> dict[str, np.ndarray]:
    """Weekly per-destination columns of the closed world market (t/week, applications)."""
    week = np.arange(WEEKS)
    india = np.full(WEEKS, 0.0 if policy == "ban" else 70.0 * (1 + rep))
    decided = (week >= 2).astype(float)
    columns = {
        "china_exports_t__DE": np.full(WEEKS, 7.0),
        "china_exports_t__IN": india,
        "china_exports_t__XE": np.full(WEEKS, 14.0),
        "china_exports_t__EU": np.full(WEEKS, 21.0),
        "china_exports_t": india + 21.0,
        "applications_filed__IN": np.ones(WEEKS),
        "applications_decided__IN": decided,
        "licences_approved__IN": decided * (policy != "ban"),
        # rises to 5 + rep in week 5, then falls
        "applications_pending__IN": np.minimum(week, 5.0) + rep * (week == 5),
    }
    for code in ("DE", "XE", "EU"):
        columns[f"applications_filed__{code}"] = np.full(WEEKS, 2.0 if code == "EU" else 1.0)
    return columns


def prices(policy: str, rep: int) -> dict[str, np.ndarray]:
    """Weekly prices of one run (USD/kg): the ex-China price rises with the policy's loss."""
    ex_china = 60.0 + POLICY_LOSS[policy] / 4 + rep + np.arange(WEEKS) / 10
    return {
        "china_home_price_usd_per_kg": np.full(WEEKS, 60.0 - rep / 10),
        "china_export_price_usd_per_kg": ex_china - 2.0,
        "ex_china_price_usd_per_kg": ex_china,
    }


def make_steps(
    runs: pd.DataFrame, destinations: bool = False, with_prices: bool = False
) -> pd.DataFrame:
    frames = []
    dates = pd.date_range("2025-04-07", periods=WEEKS, freq="7D").strftime("%Y-%m-%d")
    for row in runs.itertuples():
        if row.status != "ok":
            continue
        dip = POLICY_LOSS[row.policy] / 100
        shape = np.sin(np.linspace(0, np.pi, WEEKS))
        noise = 0.02 * row.replication
        plan_in = np.full(WEEKS, 1000.0)
        frames.append(
            pd.DataFrame(
                {
                    "run_id": row.run_id,
                    "week": np.arange(WEEKS),
                    "date": dates,
                    "vehicles_produced__IN": plan_in * (1 - dip * shape - noise),
                    "vehicles_planned__IN": plan_in,
                    "vehicles_produced__JP": 500.0 * (1 - dip * shape / 2),
                    "vehicles_planned__JP": 500.0,
                    "vehicles_produced__IN__e2w": 10.0,
                    "vehicles_planned__IN__e2w": 10.0,
                    "licence_queue": 3.0,
                    **(by_destination(row.policy, row.replication) if destinations else {}),
                    **(prices(row.policy, row.replication) if with_prices else {}),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def make_sweep(
    tmp_path: Path,
    *,
    steps: bool = True,
    destinations: bool = False,
    with_prices: bool = False,
    runs: pd.DataFrame | None = None,
    factors: list[str] | None = None,
    report: dict | None = None,
    name: str = "licence policy x ramp-up",
) -> Path:
    folder = tmp_path / "sweep"
    folder.mkdir()
    runs = make_runs() if runs is None else runs
    # stored in reverse: first appearance must come from run_id order, not file order
    runs.iloc[::-1].to_parquet(folder / "runs.parquet", index=False)
    if steps:
        make_steps(runs, destinations, with_prices).to_parquet(
            folder / "steps.parquet", index=False
        )
    manifest: dict = {
        "experiment_name": name,
        "factors": ["policy", "rampup"] if factors is None else factors,
    }
    if report is not None:
        manifest["report"] = report
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def assert_valid_png(path: Path) -> None:
    assert path.is_file(), path
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert path.stat().st_size > 5_000
    pixels = mpimg.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert float(np.std(pixels[..., :3])) > 0


@pytest.fixture
def sweep_dir(tmp_path):
    return make_sweep(tmp_path)


@pytest.fixture
def report_dir(sweep_dir):
    return write_report(sweep_dir)


# --- statistics ---------------------------------------------------------------------------


def test_summary_mean_and_ci_match_scipy_t_interval(report_dir):
    summary = pd.read_csv(report_dir / "summary.csv")
    assert list(summary.columns) == [
        "factor",
        "level",
        "kpi",
        "n",
        "mean",
        "ci95_lo",
        "ci95_hi",
        "failed",
    ]
    # policy "ban": 2 rampups x 5 reps, no failures
    expected = [lost_in("ban", r, rep) for r in RAMPUPS for rep in range(REPS)]
    mean = np.mean(expected)
    lo, hi = stats.t.interval(0.95, len(expected) - 1, loc=mean, scale=stats.sem(expected))
    row = summary.query(
        "factor == 'policy' and level == 'ban' and kpi == 'lost_production_pct__IN'"
    )
    assert len(row) == 1
    row = row.iloc[0]
    assert row["n"] == 10 and row["failed"] == 0
    assert row["mean"] == pytest.approx(mean)
    assert row["ci95_lo"] == pytest.approx(lo)
    assert row["ci95_hi"] == pytest.approx(hi)


def test_failed_runs_are_counted_and_excluded(report_dir):
    summary = pd.read_csv(report_dir / "summary.csv")
    row = summary.query(
        "factor == 'policy' and level == 'open' and kpi == 'lost_production_pct__IN'"
    ).iloc[0]
    expected = [
        lost_in("open", r, rep)
        for i, (r, rep) in enumerate((r, rep) for r in RAMPUPS for rep in range(REPS))
        if i not in FAILED_RUN_IDS
    ]
    assert row["failed"] == 1 and row["n"] == 9
    assert row["mean"] == pytest.approx(np.mean(expected))
    rampup = summary.query("factor == 'rampup' and kpi == 'licences_issued'")
    assert dict(zip(rampup["level"], rampup["failed"], strict=True)) == {"2.0": 0, "0.5": 2}
    assert dict(zip(rampup["level"], rampup["n"], strict=True)) == {"2.0": 15, "0.5": 13}


def test_undefined_kpi_values_reduce_n_without_counting_as_failures(report_dir):
    summary = pd.read_csv(report_dir / "summary.csv")
    stop = summary.query("factor == 'policy' and kpi == 'weeks_to_first_stoppage__IN'")
    stop = stop.set_index("level")
    assert stop.loc["open", "n"] == 0 and np.isnan(stop.loc["open", "mean"])
    assert stop.loc["open", "failed"] == 1
    assert stop.loc["ban", "n"] == 10 and stop.loc["ban", "mean"] == pytest.approx(8.0)


def test_summary_only_has_headline_kpis_that_exist(report_dir):
    summary = pd.read_csv(report_dir / "summary.csv")
    assert list(dict.fromkeys(summary["kpi"])) == [
        "lost_production_pct__IN",
        "lost_production_pct__JP",
        "weeks_to_first_stoppage__IN",
        "licences_issued",
        "peak_price_index",
        "subsidy_spent_usd",
    ]
    # levels in order of first appearance by run_id, factors in manifest order
    policy_levels = list(dict.fromkeys(summary.query("factor == 'policy'")["level"]))
    assert policy_levels == POLICIES
    assert list(dict.fromkeys(summary["factor"])) == ["policy", "rampup"]


def test_single_value_gives_nan_interval():
    n, mean, lo, hi = report_mod.mean_ci([3.0, np.nan, np.inf])
    assert (n, mean) == (1, 3.0) and np.isnan(lo) and np.isnan(hi)
    n, mean, lo, hi = report_mod.mean_ci([2.0, 2.0, 2.0])
    assert (n, mean, lo, hi) == (3, 2.0, 2.0, 2.0)
    assert report_mod.mean_ci([])[0] == 0


def test_cells_has_one_row_per_design_point(report_dir):
    cells = pd.read_csv(report_dir / "cells.csv")
    assert len(cells) == len(POLICIES) * len(RAMPUPS)
    assert list(cells["point"]) == list(range(6))
    assert list(zip(cells["policy"], cells["rampup"], strict=True)) == [
        (p, r) for p in POLICIES for r in RAMPUPS
    ]
    cell = cells.query("policy == 'open' and rampup == 0.5").iloc[0]
    values = [lost_in("open", 0.5, rep) for rep in range(REPS) if rep != 3]
    lo, hi = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert cell["runs_ok"] == 4 and cell["failed"] == 1
    assert cell["lost_production_pct__IN__n"] == 4
    assert cell["lost_production_pct__IN__mean"] == pytest.approx(np.mean(values))
    assert cell["lost_production_pct__IN__ci95_lo"] == pytest.approx(lo)
    assert cell["lost_production_pct__IN__ci95_hi"] == pytest.approx(hi)


def test_markdown_has_one_table_per_factor(report_dir):
    text = (report_dir / "summary.md").read_text()
    assert text.startswith("# licence policy x ramp-up")
    assert "30 runs: 28 ok, 2 failed." in text
    assert "## By policy" in text and "## By rampup" in text
    header = next(line for line in text.splitlines() if line.startswith("| policy |"))
    assert "lost_production_pct__IN" in header and "failed" in header
    ban = next(line for line in text.splitlines() if line.startswith("| ban |"))
    assert re.search(r"\| 50.5 \[48, 53\] \|", ban), ban  # mean 50.5, CI to 3 sig. digits
    open_row = next(line for line in text.splitlines() if line.startswith("| open |"))
    assert "| 9 | 1 |" in open_row  # ok runs, failed


# --- figures ------------------------------------------------------------------------------


def test_pngs_are_written_and_not_blank(report_dir):
    assert_valid_png(report_dir / "heatmap_lost_production.png")
    assert_valid_png(report_dir / "fan_production_IN.png")
    assert_valid_png(report_dir / "fan_production_JP.png")
    # per-segment columns (vehicles_planned__IN__e2w) are not countries
    assert sorted(p.name for p in report_dir.glob("*.png")) == [
        "fan_production_IN.png",
        "fan_production_JP.png",
        "heatmap_lost_production.png",
    ]


def test_heatmap_levels_follow_first_appearance(sweep_dir):
    sweep = load_sweep(sweep_dir)
    assert (sweep.heatmap_rows, sweep.heatmap_cols) == ("policy", "rampup")
    table = heatmap_table(sweep.runs, "policy", "rampup", "lost_production_pct__IN")
    assert list(table.index) == POLICIES
    assert list(table.columns) == ["2.0", "0.5"]
    expected = np.mean([lost_in("ban", 0.5, rep) for rep in range(REPS)])
    assert table.loc["ban", "0.5"] == pytest.approx(expected)
    expected = np.mean([lost_in("open", 0.5, rep) for rep in range(REPS) if rep != 3])
    assert table.loc["open", "0.5"] == pytest.approx(expected)


def test_manifest_report_section_chooses_heatmap_axes(tmp_path):
    folder = make_sweep(
        tmp_path, report={"heatmap_rows": "rampup", "heatmap_cols": "policy"}, steps=False
    )
    sweep = load_sweep(folder)
    assert (sweep.heatmap_rows, sweep.heatmap_cols) == ("rampup", "policy")
    assert_valid_png(write_report(folder) / "heatmap_lost_production.png")


def test_one_factor_gives_one_row_heatmap(tmp_path):
    runs = make_runs().drop(columns="rampup")
    folder = make_sweep(tmp_path, runs=runs, factors=["policy"], steps=False)
    sweep = load_sweep(folder)
    assert (sweep.heatmap_rows, sweep.heatmap_cols) == (None, "policy")
    table = heatmap_table(sweep.runs, None, "policy", "lost_production_pct__JP")
    assert table.shape == (1, 3) and list(table.columns) == POLICIES
    assert_valid_png(write_report(folder) / "heatmap_lost_production.png")


def test_no_factors_skips_heatmap_but_summarises_all_runs(tmp_path):
    runs = make_runs().drop(columns=["policy", "rampup"])
    folder = make_sweep(tmp_path, runs=runs, factors=[], steps=False)
    out = write_report(folder)
    assert not (out / "heatmap_lost_production.png").exists()
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["level"]) == {"all runs"} and set(summary["failed"]) == {2}
    assert len(pd.read_csv(out / "cells.csv")) == 6  # still one row per design point


def test_fan_charts_read_only_needed_columns(sweep_dir, monkeypatch):
    seen = []
    real = pq.read_table

    def spy(source, *args, **kwargs):
        if Path(str(source)).name == "steps.parquet":
            seen.append(kwargs.get("columns"))
        return real(source, *args, **kwargs)

    monkeypatch.setattr(report_mod.pq, "read_table", spy)
    write_report(sweep_dir)
    assert seen, "steps.parquet was not read through pyarrow.parquet.read_table"
    for columns in seen:
        assert columns is not None
        assert "licence_queue" not in columns and "vehicles_planned__IN__e2w" not in columns


def test_missing_steps_skips_fan_charts_only(tmp_path):
    out = write_report(make_sweep(tmp_path, steps=False))
    assert not list(out.glob("fan_production_*.png"))
    for name in ["summary.csv", "summary.md", "cells.csv", "index.html"]:
        assert (out / name).is_file(), name
    assert_valid_png(out / "heatmap_lost_production.png")
    assert "fan_production" not in (out / "index.html").read_text()


# --- HTML ---------------------------------------------------------------------------------


def test_index_html_is_self_contained_and_shows_everything(report_dir):
    page = (report_dir / "index.html").read_text()
    for png in report_dir.glob("*.png"):
        assert f'src="{png.name}"' in page
    assert "http://" not in page and "https://" not in page
    assert "<h1>licence policy x ramp-up</h1>" in page
    assert "28 ok" in page and "2 failed" in page
    assert page.count("<table>") == 3  # policy, rampup, failed runs
    assert "<td>case_by_case_50</td>" in page
    assert "RuntimeError: boom in run 8" in page and "traceback" not in page


def test_index_html_escapes_text(tmp_path):
    runs = make_runs()
    runs["policy"] = runs["policy"].replace("ban", "<b>ban</b> & co")
    folder = make_sweep(tmp_path, runs=runs, name='<script>alert("x")</script>', steps=False)
    out = write_report(folder)
    page = (out / "index.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<b>ban</b>" not in page and "&lt;b&gt;ban&lt;/b&gt; &amp; co" in page


# --- China's exports and the licence desk by destination -----------------------------------

MAY_DAYS = 31  # the one calendar month the 12 weeks from 2025-04-07 cover whole


@pytest.fixture
def destinations_report(tmp_path):
    return write_report(make_sweep(tmp_path, destinations=True))


def test_exports_by_destination_are_monthly_medians_per_design_point(destinations_report):
    table = pd.read_csv(destinations_report / "exports_by_destination.csv")
    assert list(table.columns) == [
        "point",
        "policy",
        "rampup",
        "month",
        "destination",
        "exports_t",
        "runs",
    ]
    assert set(table["month"]) == {"2025-05"}  # April and June are covered only in part
    assert list(table["point"].unique()) == list(range(6))
    first = table[table["point"] == 0]
    assert list(first["destination"]) == ["DE", "IN", "XE", "EU", "all"]

    def may(policy: str, rampup: float, destination: str) -> pd.Series:
        rows = table.query(
            "policy == @policy and rampup == @rampup and destination == @destination"
        )
        assert len(rows) == 1
        return rows.iloc[0]

    per_week = 70.0 * np.arange(1, REPS + 1)  # India, by replication
    # a month's tonnes: each week spread over its 7 days (weeks straddle April/May, May/June)
    assert may("open", 2.0, "IN")["exports_t"] == pytest.approx(np.median(per_week) * MAY_DAYS / 7)
    # run 8 (open, 0.5, replication 3) failed: the median is over the other four
    without_failed = np.delete(per_week, 3)
    assert may("open", 0.5, "IN")["runs"] == REPS - 1
    assert may("open", 0.5, "IN")["exports_t"] == pytest.approx(
        np.median(without_failed) * MAY_DAYS / 7
    )
    assert may("ban", 2.0, "IN")["exports_t"] == 0.0
    assert may("ban", 2.0, "DE")["exports_t"] == pytest.approx(7.0 * MAY_DAYS / 7)
    assert may("ban", 2.0, "all")["exports_t"] == pytest.approx(21.0 * MAY_DAYS / 7)


def test_licence_desk_by_destination_totals_and_peaks(destinations_report):
    table = pd.read_csv(destinations_report / "licence_desk_by_destination.csv")
    india = table[table["destination"] == "IN"].set_index(["policy", "rampup"])
    assert len(india) == 6
    assert set(india["filed"]) == {WEEKS}  # one a week, summed over the run
    assert set(india["decided"]) == {WEEKS - 2}
    assert india.loc[("open", 2.0), "approved"] == WEEKS - 2
    assert india.loc[("ban", 2.0), "approved"] == 0
    peaks = 5.0 + np.arange(REPS)  # the most pending in any week, by replication
    assert india.loc[("ban", 2.0), "peak_pending"] == np.median(peaks)
    assert india.loc[("open", 0.5), "peak_pending"] == np.median(np.delete(peaks, 3))
    assert india.loc[("open", 0.5), "runs"] == REPS - 1
    eu = table[table["destination"] == "EU"]
    assert set(eu["filed"]) == {2 * WEEKS} and eu["decided"].isna().all()  # only filed recorded


def test_destination_section_in_index_html(destinations_report):
    page = (destinations_report / "index.html").read_text()
    assert "<h2>China's exports and the licence desk by destination</h2>" in page
    assert page.count("<details>") == 6  # one monthly table per design point
    assert "<summary>point = 5, policy = ban, rampup = 0.5</summary>" in page
    assert "<th>EU (total of DE, XE)</th>" in page
    assert 'href="exports_by_destination.csv"' in page
    assert 'href="licence_desk_by_destination.csv"' in page
    assert "Not available" not in page


@pytest.mark.parametrize("steps", [True, False])
def test_a_sweep_from_before_destinations_says_they_are_not_available(tmp_path, steps):
    out = write_report(make_sweep(tmp_path, steps=steps))  # no per-destination columns
    page = (out / "index.html").read_text()
    assert "<h2>China's exports and the licence desk by destination</h2>" in page
    assert page.count("Not available") == 2
    assert not (out / "exports_by_destination.csv").exists()
    assert not (out / "licence_desk_by_destination.csv").exists()
    assert (out / "summary.csv").is_file()  # the rest of the report is there


def test_without_design_points_all_runs_make_one_cell(tmp_path):
    runs = make_runs().drop(columns=["point"])
    out = write_report(make_sweep(tmp_path, runs=runs, factors=[], destinations=True))
    desk = pd.read_csv(out / "licence_desk_by_destination.csv")
    india = desk[desk["destination"] == "IN"]
    assert india[["cell", "runs"]].values.tolist() == [["all runs", len(runs) - 2]]
    assert "<summary>cell = all runs</summary>" in (out / "index.html").read_text()


def test_destination_order_puts_totals_and_all_last():
    assert report_mod.destination_order(["all", "EU", "XE", "DE", "IN"]) == [
        "XE",
        "DE",
        "IN",
        "EU",
        "all",
    ]


# --- the report folder ----------------------------------------------------------------------


def test_existing_report_is_replaced(sweep_dir):
    old = sweep_dir / "report"
    old.mkdir()
    (old / "fan_production_XX.png").write_text("a chart of a country no longer in the sweep")
    out = write_report(sweep_dir)
    assert out == old
    assert not (out / "fan_production_XX.png").exists() and (out / "index.html").is_file()
    assert sorted(p.name for p in sweep_dir.iterdir()) == [
        "manifest.json",
        "report",
        "runs.parquet",
        "steps.parquet",
    ]


def test_a_report_folder_holding_other_files_is_never_replaced(sweep_dir):
    old = sweep_dir / "report"
    old.mkdir()
    (old / "my_notes.md").write_text("mine")
    assert "my_notes.md" in _error(sweep_dir)
    assert sorted(p.name for p in old.iterdir()) == ["my_notes.md"]


def test_failure_keeps_the_old_report_and_leaves_no_temp_folder(sweep_dir, monkeypatch):
    write_report(sweep_dir)
    before = sorted(p.name for p in (sweep_dir / "report").iterdir())

    def broken(*args, **kwargs):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(report_mod, "_fan_charts", broken)
    with pytest.raises(RuntimeError, match="drawing failed"):
        write_report(sweep_dir)
    assert sorted(p.name for p in (sweep_dir / "report").iterdir()) == before
    assert not [p for p in sweep_dir.iterdir() if p.name.startswith(".")]


# --- user mistakes ----------------------------------------------------------------------------


def _error(folder: Path) -> str:
    with pytest.raises(ReportError) as info:
        write_report(folder)
    message = str(info.value)
    assert "\n" not in message
    assert isinstance(info.value, ValueError)
    return message


def test_error_missing_folder(tmp_path):
    assert "no such folder" in _error(tmp_path / "nope")


def test_error_not_a_sweep_folder(tmp_path):
    message = _error(tmp_path)
    assert "not a finished sweep folder" in message and "magshock sweep" in message


def test_error_heatmap_factor_not_a_column(tmp_path):
    folder = make_sweep(tmp_path, report={"heatmap_rows": "subsidy", "heatmap_cols": "policy"})
    assert "report.heatmap_rows = 'subsidy' is not a column" in _error(folder)
    assert not (folder / "report").exists()


def test_error_no_successful_runs(tmp_path):
    runs = make_runs()
    runs["status"] = "error"
    folder = make_sweep(tmp_path, runs=runs, steps=False)
    assert "no successful runs (30 failed)" in _error(folder)


def test_price_paths_are_weekly_medians_per_design_point_and_plotted(tmp_path):
    out = write_report(make_sweep(tmp_path, with_prices=True))
    table = pd.read_csv(out / "price_paths.csv")
    assert list(table.columns)[:4] == ["point", "policy", "rampup", "week"]
    assert len(table) == len(POLICIES) * len(RAMPUPS) * WEEKS
    runs = make_runs()
    for policy, rampup in table[["policy", "rampup"]].drop_duplicates().itertuples(index=False):
        ok = (runs["policy"] == policy) & (runs["rampup"] == rampup) & (runs["status"] == "ok")
        reps = runs[ok]
        expected = np.median(
            [prices(policy, r)["ex_china_price_usd_per_kg"] for r in reps.replication], axis=0
        )
        got = table[(table["policy"] == policy) & (table["rampup"] == rampup)].sort_values("week")
        np.testing.assert_allclose(got["ex_china_price_usd_per_kg"], expected)
    assert_valid_png(out / "price_paths.png")
    assert 'src="price_paths.png"' in (out / "index.html").read_text()


def test_a_sweep_without_price_columns_has_no_price_paths(report_dir):
    assert not (report_dir / "price_paths.csv").exists()
    assert not (report_dir / "price_paths.png").exists()
