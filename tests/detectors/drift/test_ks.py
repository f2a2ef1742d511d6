"""Kolmogorov-Smirnov: parity with scipy and Evidently, exact verdicts, and the sampling error.

Error of working from bounded samples. The detector computes ``D^ = sup |F^_r - F^_c|`` from
uniform samples (without replacement) of k_r reference and k_c window values instead of
``D = sup |F_r - F_c|`` over all of them, so by the triangle inequality

    |D^ - D| <= sup |F^_r - F_r| + sup |F^_c - F_c|.

DKW with Massart's constant, ``P(sup |F^_k - F| > e) <= 2 exp(-2 k e²)``, is proven for k i.i.d.
draws; a sample without replacement from a window of N values has every variance shrunk by
(N - k) / (N - 1) (0.99 here) and Greene and Wellner (2017) give DKW-type bounds for it, so we
take the i.i.d. bound and check its calibration below. With probability at least 1 - alpha:

- reference kept whole (at most ``sample_size`` values, so ``F^_r = F_r``):
  ``|D^ - D| <= sqrt(ln(2 / alpha) / (2 k_c))`` = 0.0429 for k_c = 1000, alpha = 0.05;
- reference sampled as well (union bound, alpha / 2 per side):
  ``|D^ - D| <= sqrt(ln(4 / alpha) / (2 k_r)) + sqrt(ln(4 / alpha) / (2 k_c))`` = 0.0936.

Each bound is asserted for the seed-0 sample, at alpha = 0.001 for all 40 seeds, and at
alpha = 0.05 for at least 90% of them. Measured on these data: whole reference, worst of 40 =
0.0329 (none above 0.0429); sampled reference, worst = 0.0552 (one above 0.0429, none above
0.0936).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from detectors.drift.ks import KolmogorovSmirnov, ks_statistic
from tests.detectors.drift._evidently_numeric import NUMERICAL, _ks_stat_test
from tests.detectors.drift._sampling import SEEDS, K, population

REL = 1e-12  # parity: the same scipy routine on the same values, so equal up to rounding


def test_statistic_and_p_value_equal_scipy_and_evidently() -> None:
    rng = np.random.default_rng(21)
    for ref, cur in [(rng.normal(0, 1, 700), rng.normal(0.1, 1, 500)),  # asymptotic p-value
                     (rng.normal(0, 1, 30), rng.normal(0.8, 1, 25))]:  # exact p-value
        stat, p = ks_statistic(ref, cur)
        assert p is not None
        expected = stats.ks_2samp(ref, cur)
        assert stat == pytest.approx(expected.statistic, rel=REL)
        assert p == pytest.approx(expected.pvalue, rel=REL)
        ev_p, ev_drift = _ks_stat_test(pd.Series(ref), pd.Series(cur), NUMERICAL, 0.05)
        assert p == pytest.approx(ev_p, rel=REL)
        assert KolmogorovSmirnov.statistic(ref, cur) == (stat, p)
        assert bool(ev_drift) == (p < 0.05)


def test_missing_values_are_dropped() -> None:
    assert ks_statistic(np.array([1.0, np.nan, 2.0, 3.0]), np.array([2.5, np.nan, 4.0])) == (
        ks_statistic(np.array([1.0, 2.0, 3.0]), np.array([2.5, 4.0])))


def test_exact_verdicts_on_seeded_data() -> None:
    rng = np.random.default_rng(2024)
    ref, same, shifted = rng.normal(0, 1, 1000), rng.normal(0, 1, 800), rng.normal(0.5, 1, 800)
    results = []
    for cur in (same, shifted):
        det = KolmogorovSmirnov().fit(ref)
        det.update(cur)
        results.append(det.score())
    assert [(round(r.statistic, 4), r.drifted) for r in results] == [(0.0395, False),
                                                                      (0.203, True)]
    assert results[0].p_value == pytest.approx(0.4801, abs=1e-4)
    assert (results[1].n_reference, results[1].n_current) == (1000, 800)


def _errors(reference: np.ndarray, window: np.ndarray) -> np.ndarray:
    full = stats.ks_2samp(reference, window).statistic
    ref_list, window_list = reference.tolist(), window.tolist()  # plain floats: the fast path
    out = []
    for seed in SEEDS:
        det = KolmogorovSmirnov(sample_size=K, seed=seed).fit(ref_list)
        det.update(window_list)
        result = det.score()
        assert result.n_current == K
        out.append(abs(result.statistic - full))
    return np.array(out)


def _dkw(k: int, alpha: float) -> float:
    return math.sqrt(math.log(2 / alpha) / (2 * k))


def test_sampled_window_stays_within_the_dkw_bound() -> None:
    small_ref, _, window = population()
    errors = _errors(small_ref, window)
    assert _dkw(K, 0.05) == pytest.approx(0.0429, abs=1e-4)
    assert errors[0] <= _dkw(K, 0.05)
    assert errors.max() <= _dkw(K, 0.001)
    assert np.mean(errors > _dkw(K, 0.05)) <= 0.1
    assert errors.max() == pytest.approx(0.0329, abs=1e-4)  # measured, see the module docstring


def test_sampled_reference_and_window_stay_within_twice_the_bound() -> None:
    _, large_ref, window = population()
    errors = _errors(large_ref, window)

    def bound(alpha: float) -> float:
        return 2 * _dkw(K, alpha / 2)

    assert bound(0.05) == pytest.approx(0.0936, abs=1e-4)
    assert errors[0] <= bound(0.05)
    assert errors.max() <= bound(0.001)
    assert np.mean(errors > bound(0.05)) <= 0.1
    assert errors.max() == pytest.approx(0.0552, abs=1e-4)
