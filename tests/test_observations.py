"""The observation file: valid, every number cites a catalogued id, roles follow the rule."""

from __future__ import annotations

import ast
import operator
import re
from pathlib import Path

import pytest

from experiments.observations import ObservationError, load_observations
from experiments.validation import FACTS

REPO = Path(__file__).resolve().parent.parent
CALIBRATION_MD = REPO.parent / "shared" / "CALIBRATION.md"  # outside the repo; optional here
DATA = REPO / "experiments" / "data" / "observations.toml"


@pytest.fixture(scope="module")
def obs():
    return load_observations()


def test_every_observation_and_band_cites_a_catalogued_id(obs):
    known = set(obs.catalogue.ids)
    cited = {o.id for o in obs.observation} | {b.id for b in obs.band}
    assert cited <= known, cited - known


@pytest.mark.skipif(not CALIBRATION_MD.exists(), reason="CALIBRATION.md is not beside the repo")
def test_catalogue_is_a_copy_of_the_ids_in_calibration_md(obs):
    text = CALIBRATION_MD.read_text(encoding="utf-8")
    ids = set(re.findall(r"^\| ((?:C-[A-Z]+|SF)-\d+) \|", text, flags=re.MULTILINE))
    assert set(obs.catalogue.ids) == ids


def _arithmetic(expression: str) -> float:
    """Evaluate + - * / on numbers only (the `derived` field)."""
    ops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}
    ops[ast.Div] = operator.truediv

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            return ops[type(node.op)](walk(node.left), walk(node.right))
        raise ValueError(f"not plain arithmetic: {expression!r}")

    return walk(ast.parse(expression, mode="eval").body)


def test_derived_numbers_equal_their_arithmetic(obs):
    derived = [o for o in obs.observation if o.derived]
    assert derived, "the year-earlier references are DERIVED from C-LIC-5's y/y changes"
    for o in derived:
        assert _arithmetic(o.derived) == pytest.approx(o.value, abs=0.05), o.key


def test_roles_follow_the_calibration_rule(obs):
    by_key = {o.key: o for o in obs.observation}
    for month in ("04", "05", "06", "07"):  # C-LIC-5 monthly, all destinations: calibration
        assert by_key[f"exports_all_2025_{month}"].role == "calibration"
    # facts that also size the model (ODD §7.2) cannot validate it: consistency checks
    inputs = {
        "exports_all_2024",
        "yoy_all_2024",
        "share_de_kr_us_2024_jan_jul",
        "exports_all_2025_h1",
        "yoy_all_2025_h1",
    }
    assert {by_key[k].role for k in inputs} == {"consistency"}
    others = {o.role for o in obs.observation if o.id == "C-MKT-8" and o.key not in inputs}
    assert others == {"validation"}
    stylised = [b for b in obs.band if b.id.startswith("SF-")]
    assert {b.role for b in stylised if b.id == "SF-5"} == {"consistency"}
    assert {b.role for b in stylised if b.id != "SF-5"} == {"calibration"}
    # the further outcome facts (experiments.checks) are never fitted
    assert {b.role for b in obs.band if not b.id.startswith("SF-")} == {"validation"}


def test_every_stylised_fact_and_check_takes_its_band_from_the_file(obs):
    from experiments.checks import CHECKS

    file_bands = {(b.id, b.metric): (b.low, b.high) for b in obs.band}
    fact_bands = {(f.id, f.metric): f.band for f in [*FACTS, *CHECKS]}
    assert fact_bands == file_bands


def test_observation_months_and_tolerance(obs):
    by_key = {o.key: o for o in obs.observation}
    h1 = by_key["exports_eu_2025_h1"]
    assert [str(m) for m in h1.months] == [f"2025-0{m}" for m in range(1, 7)]
    assert len(by_key["exports_all_2024"].months) == 12
    june = by_key["exports_all_2025_06"]
    assert june.within_tolerance(3188 * 1.15) and not june.within_tolerance(3188 * 1.16)
    share = by_key["share_eu_2025_07"]
    assert share.within_tolerance(43) and not share.within_tolerance(43.5)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('id = "C-LIC-5"', 'id = "C-LIC-99"', "exports_all_2025_03): id 'C-LIC-99' is not"),
        ('role = "calibration"', 'role = "fitted"', "(exports_all_2025_03).role: Input should be"),
        ("tolerance_pct = 15", "tolerance_points = 15\ntolerance_pct = 15", "exactly one of"),
        ('period = "2025-03"', 'period = "2025-3"', "(exports_all_2025_03).period: String should"),
        ('period = "2025-03"', 'period = "2025-05/2025-03"', "ends before it starts"),
        ('unit = "t"', 'unit = "kt"', "in t, not 'kt'"),
        ("value = 5361.2", "valeu = 5361.2", "(exports_all_2025_03).value: Field required"),
    ],
)
def test_a_bad_entry_gives_one_line_naming_it(tmp_path, old, new, message):
    bad = tmp_path / "observations.toml"
    bad.write_text(DATA.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ObservationError) as err:
        load_observations(bad)
    text = str(err.value)
    assert "\n" not in text and text.startswith(str(bad)) and message in text, text


def test_an_unreadable_file_is_one_line(tmp_path):
    with pytest.raises(ObservationError, match="cannot read"):
        load_observations(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[[observation]\n", encoding="utf-8")
    with pytest.raises(ObservationError, match="not valid TOML"):
        load_observations(broken)
