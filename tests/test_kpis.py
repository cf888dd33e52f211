"""KPIs computed from hand-made weekly records with known answers."""

import math

import pandas as pd
import pytest

from simulation import compute_kpis
from simulation.kpis import RECOVERY_RUN_WEEKS


def records(produced_in, planned=100.0):
    n = len(produced_in)
    frame = {
        "week": range(n),
        "vehicles_planned__IN": [planned] * n,
        "vehicles_produced__IN": produced_in,
        "firms_stopped__IN": [1 if p < 0.5 * planned else 0 for p in produced_in],
        "oem_planned__IN__g": [planned] * n,
        "oem_produced__IN__g": produced_in,
        "oem_firms_stopped__IN__g": [1 if p < 0.5 * planned else 0 for p in produced_in],
        "licences_issued_total": list(range(n)),
        "price_index_china": [1.0] * n,
        "price_index_row": [1.2] * (n - 1) + [3.0],
        "receipts_t__IN__china": [1.0] * n,
        "receipts_t__IN__row": [1.0] * n,
        "receipts_t__IN__domestic": [2.0] * n,
        "magnet_need_t__IN": [0.1] * n,
        "subsidy_spent_usd": [0.0] * (n - 1) + [1000.0],
    }
    return pd.DataFrame(frame)


def test_lost_production_first_stop_and_recovery():
    produced = [100, 100, 40, 0, 0, 60, 96, 97, 99, 100, 100]
    kpis = compute_kpis(records(produced))
    assert kpis["lost_vehicles__IN"] == pytest.approx(1100 - sum(produced))
    assert kpis["lost_production_pct__IN"] == pytest.approx(100 * (1100 - sum(produced)) / 1100)
    assert kpis["weeks_to_first_stoppage__IN"] == 2
    assert kpis["weeks_to_first_stoppage__IN__g"] == 2
    # back to >= 95% from week 6 and staying there 4 weeks: 6 - 2 = 4 weeks after the stop
    assert kpis["weeks_to_recover__IN__g"] == 4
    assert kpis["licences_issued"] == 10
    assert kpis["peak_price_index"] == 3.0
    assert kpis["domestic_share_at_horizon"] == pytest.approx(0.5)
    # 2 t a week of domestic magnets at 1 kg/vehicle = 2000 vehicles a week over 11 weeks
    assert kpis["subsidy_usd_per_domestic_magnet_vehicle"] == pytest.approx(1000 / (11 * 2000))


def test_no_stoppage_means_undefined_stop_and_recovery():
    kpis = compute_kpis(records([100.0] * 8))
    assert kpis["lost_production_pct__IN"] == 0
    assert math.isnan(kpis["weeks_to_first_stoppage__IN"])
    assert math.isnan(kpis["weeks_to_recover__IN__g"])


def test_never_recovering_is_undefined():
    kpis = compute_kpis(records([100, 0, 0] + [96] * (RECOVERY_RUN_WEEKS - 1) + [50]))
    assert kpis["weeks_to_first_stoppage__IN__g"] == 1
    assert math.isnan(kpis["weeks_to_recover__IN__g"])
