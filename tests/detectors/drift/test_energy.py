"""Energy distance: its definition, parity with scipy and Evidently, verdicts at the threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from detectors.drift.energy import EnergyDistance, energy_statistic
from tests.detectors.drift._evidently_numeric import NUMERICAL, _energy_dist

REL = 1e-12  # the same scipy routine on the same values
REL_DEFINITION = 1e-9  # pairwise means of ~10^5 terms against scipy's CDF integral


def test_equals_scipy_evidently_and_the_pairwise_definition() -> None:
    rng = np.random.default_rng(51)
    ref, cur = rng.normal(0, 1, 400), rng.normal(0.3, 1.5, 300)
    stat, p = energy_statistic(ref, cur)
    assert p is None
    assert stat == pytest.approx(stats.energy_distance(ref, cur), rel=REL)
    ev_stat, ev_drift = _energy_dist(pd.Series(ref), pd.Series(cur), NUMERICAL, 0.1)
    assert stat == pytest.approx(float(ev_stat), rel=REL)
    assert bool(ev_drift) == (stat > 0.1)

    def mean_gap(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.abs(a[:, None] - b[None, :]).mean())

    definition = np.sqrt(2 * mean_gap(ref, cur) - mean_gap(ref, ref) - mean_gap(cur, cur))
    assert stat == pytest.approx(definition, rel=REL_DEFINITION)
    assert EnergyDistance.statistic(ref, cur) == (stat, None)


def test_zero_on_identical_samples_and_grows_with_the_square_root_of_scale() -> None:
    rng = np.random.default_rng(52)
    ref, cur = rng.normal(0, 1, 300), rng.normal(0.2, 1, 300)
    assert energy_statistic(ref, ref.copy())[0] == 0.0
    assert energy_statistic(100 * ref, 100 * cur)[0] == pytest.approx(
        10 * energy_statistic(ref, cur)[0], rel=1e-12)


def test_exact_verdicts_on_seeded_data() -> None:
    rng = np.random.default_rng(2024)
    ref, same, shifted = rng.normal(0, 1, 1000), rng.normal(0, 1, 800), rng.normal(0.5, 1, 800)
    results = []
    for cur in (same, shifted):
        det = EnergyDistance().fit(ref)
        det.update(cur)
        results.append(det.score())
    assert [(round(r.statistic, 4), r.p_value, r.drifted) for r in results] == [
        (0.052, None, False), (0.3453, None, True)]
    at_threshold = EnergyDistance(threshold=results[0].statistic)
    assert at_threshold.decide(results[0].statistic, None)  # drift from the threshold on (>=)
