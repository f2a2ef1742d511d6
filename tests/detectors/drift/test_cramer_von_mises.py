"""Cramér-von Mises: parity with scipy and Evidently (exact and asymptotic p-values), verdicts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from detectors._base import DetectorError
from detectors.drift.cramer_von_mises import CramerVonMises, cramer_von_mises_statistic
from tests.detectors.drift._evidently_numeric import NUMERICAL, _cramer_von_mises, _cvm_2samp

REL = 1e-12  # scipy and Evidently's copy of the same algorithm: equal up to rounding
# except Evidently's exact p-value: its copy takes the counts' dtype from a float number of
# combinations, so it tallies the exact null distribution in float32 (scipy: integers), which
# moves its p-values in the 8th digit (measured: 5.7e-9 and 1.2e-8 relative below).
REL_EXACT_EVIDENTLY = 1e-6


@pytest.mark.parametrize(("n_ref", "n_cur", "shift", "ties"), [
    (15, 12, 0.8, False),  # both <= 20: exact p-value
    (20, 20, 0.3, True),  # exact, with ties (midranks)
    (600, 400, 0.12, False),  # asymptotic
    (600, 400, 0.3, True),  # asymptotic, with ties
])
def test_statistic_and_p_value_equal_scipy_and_evidently(n_ref: int, n_cur: int, shift: float,
                                                         ties: bool) -> None:
    rng = np.random.default_rng(41)
    ref, cur = rng.normal(0, 1, n_ref), rng.normal(shift, 1, n_cur)
    if ties:
        ref, cur = np.round(ref, 1), np.round(cur, 1)
    stat, p = cramer_von_mises_statistic(ref, cur)
    assert p is not None
    expected = stats.cramervonmises_2samp(ref, cur)
    assert stat == pytest.approx(expected.statistic, rel=REL)
    assert p == pytest.approx(expected.pvalue, rel=REL)
    evidently = _cvm_2samp(ref, cur)
    rel_p = REL_EXACT_EVIDENTLY if max(n_ref, n_cur) <= 20 else REL
    assert stat == pytest.approx(float(evidently.statistic), rel=REL)
    assert p == pytest.approx(float(evidently.pvalue), rel=rel_p)
    ev_p, ev_drift = _cramer_von_mises(pd.Series(ref), pd.Series(cur), NUMERICAL, 0.05)
    assert p == pytest.approx(float(ev_p), rel=rel_p)
    assert bool(ev_drift) == (p <= 0.05)  # Evidently decides with <=, we with <
    assert 0.0 < p < 1.0
    assert CramerVonMises.statistic(ref, cur) == (stat, p)


def test_statistic_matches_its_definition() -> None:
    rng = np.random.default_rng(42)
    ref, cur = rng.normal(0, 1, 40), rng.normal(0.5, 1, 30)
    n, m = len(ref), len(cur)
    ranks = stats.rankdata(np.concatenate([np.sort(ref), np.sort(cur)]))
    u = (n * np.sum((ranks[:n] - np.arange(1, n + 1)) ** 2)
         + m * np.sum((ranks[n:] - np.arange(1, m + 1)) ** 2))
    t = u / (n * m * (n + m)) - (4 * n * m - 1) / (6 * (n + m))
    assert cramer_von_mises_statistic(ref, cur)[0] == pytest.approx(t, rel=1e-12)


def test_needs_two_values_on_each_side() -> None:
    with pytest.raises(DetectorError, match="two values"):
        cramer_von_mises_statistic(np.array([1.0, 2.0]), np.array([1.0, np.nan]))
    det = CramerVonMises().fit([1.0, 2.0, 3.0])
    det.update([2.0])
    with pytest.raises(DetectorError):
        det.score()


def test_exact_verdicts_on_seeded_data() -> None:
    rng = np.random.default_rng(2024)
    ref, same, shifted = rng.normal(0, 1, 1000), rng.normal(0, 1, 800), rng.normal(0.5, 1, 800)
    results = []
    for cur in (same, shifted):
        det = CramerVonMises().fit(ref)
        det.update(cur)
        results.append(det.score())
    assert [(round(r.statistic, 4), r.drifted) for r in results] == [(0.1884, False),
                                                                      (8.5781, True)]
    assert results[0].p_value == pytest.approx(0.2913, abs=1e-4)
    assert results[1].p_value == pytest.approx(1.062e-10, rel=1e-3)
