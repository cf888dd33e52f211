"""The history scenario reproduces the stylised facts of CALIBRATION.md (SF-1..SF-5).

Each fact must hold in at least 80% of 20 seeds. A failing fact is a model finding: fix the
mechanism or the calibration (and say why), never the band. A fact the calibrated model
misses is listed in KNOWN_MISSES with the reason, as a strict expected failure.
"""

import pytest

from experiments.validation import DEFAULT_SEEDS, FACTS, PASS_SHARE, validate_history

pytestmark = pytest.mark.slow  # the history replay over many seeds


@pytest.fixture(scope="module")
def table():
    return validate_history(seeds=DEFAULT_SEEDS)


def test_every_stylised_fact_is_scored(table):
    assert len(table) == len(FACTS)
    assert set(table["id"]) == {"SF-1", "SF-2", "SF-3", "SF-4", "SF-5"}


KNOWN_MISSES = {
    "SF-4": "a calibration target the calibrated model meets only at its edge: at the "
    "posterior medians SF-4 is 40.1 [38.5-41.8] against 40-70, in band in half of the seeds. "
    "None of the eight free parameters moves it more than a point or two (the Indian OEMs' "
    "assumed free-only shares bound it; docs/VALIDATION.md). strict: a pass fails this test, "
    "so the docs must then be updated."
}


@pytest.mark.parametrize(
    "index",
    [
        pytest.param(i, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[f.id]))
        if f.id in KNOWN_MISSES
        else i
        for i, f in enumerate(FACTS)
    ],
    ids=[f"{f.id}: {f.metric}" for f in FACTS],
)
def test_stylised_fact_holds_in_most_seeds(table, index):
    row = table.iloc[index]
    assert row["share_in_band"] >= PASS_SHARE, row.to_dict()


def test_a_broken_mechanism_is_caught():
    # Without the controls nothing collapses: the same scoring must then fail SF-1 and SF-4.
    from simulation import load_scenario

    open_history = load_scenario("history_2025", licensing_policy="open")
    table = validate_history(open_history, seeds=3)
    failed = set(table.loc[table["result"] == "FAIL", "metric"])
    assert "May exports, % below pre-control" in failed
    assert "IN receipts Apr-Sep, % below no-controls" in failed
