"""Back-test against saved runs: a seeded baseline and a seeded disruption, 52 weeks each.

An intended model change regenerates them: ``MAGSHOCK_REGEN_GOLDEN=1 pytest tests/test_golden.py``
(and say why in the commit message).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from simulation import load_scenario, simulate

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = {"no_controls": 1, "baseline_2025": 1, "full_ban": 2}


@pytest.mark.parametrize("name", sorted(CASES))
def test_run_matches_saved_golden_csv(name):
    steps = simulate(load_scenario(name), rng=CASES[name], weeks=52).steps
    path = GOLDEN / f"{name}_seed{CASES[name]}_52w.csv"
    if os.environ.get("MAGSHOCK_REGEN_GOLDEN"):
        steps.to_csv(path, index=False, float_format="%.17g")
    saved = pd.read_csv(path)
    pd.testing.assert_frame_equal(steps, saved, check_dtype=False, rtol=1e-12, atol=1e-9)
