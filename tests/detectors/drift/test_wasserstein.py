"""Normed Wasserstein: parity with scipy and Evidently, the binned version's error, verdicts,
and the error of working from bounded samples.

Sampling error. With F^ the empirical CDF of a uniform sample of k values drawn without
replacement from N, ``Var F^(x) = F (1 - F) / k * (N - k) / (N - 1) <= F (1 - F) / k``; by
Minkowski's integral inequality the root mean square of ``W1(F^, F) = integral |F^ - F| dx`` is
at most ``J / sqrt(k)``, ``J = integral sqrt(F (1 - F)) dx`` (Bobkov and Ledoux 2019, Thm 3.5,
who bound the mean the same way). The triangle inequality gives
``|W1(F^_r, F^_c) - W1(F_r, F_c)| <= W1(F^_r, F_r) + W1(F^_c, F_c)``, so with J_r = 0 when the
reference is kept whole:

- in the mean over samples: ``|W1^ - W1| <= (J_r + J_c) / sqrt(k)``;
- in one sample, with probability at least 1 - alpha (Chebyshev):
  ``|W1^ - W1| <= (J_r + J_c) / sqrt(alpha k)``.

On these data (k = 1000; window N(0.3, 1.2), J_c = 1.937; reference N(0, 1)) the bounds are:
reference whole (1000 values, std 0.992), on the normed W: 0.062 in the mean, 0.276 at 95%;
reference sampled (100_000 values, J_r = 1.610), on W1: 0.112 in the mean, 0.502 at 95%.
Measured over 40 seeds: reference whole, mean error 0.026 and worst 0.067 (W = 0.303: 8.6% and
22% relative); reference sampled, mean 0.036 and worst 0.087 on W1 (W = 0.311; the normed
statistic's worst relative error is 27%, the sampled reference's std adding to it).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from detectors._base import DetectorError
from detectors.drift.wasserstein import (
    MIN_SCALE,
    Wasserstein,
    binned_wasserstein,
    wasserstein_statistic,
)
from detectors.profile import NumericProfile
from tests.detectors.drift._evidently_numeric import NUMERICAL, _wasserstein_distance_norm
from tests.detectors.drift._sampling import SEEDS, K, population, spread

REL = 1e-12  # the same scipy routine and the same standard deviation


def _evidently(ref: np.ndarray, cur: np.ndarray) -> float:
    value, drifted = _wasserstein_distance_norm(pd.Series(ref), pd.Series(cur), NUMERICAL, 0.1)
    assert bool(drifted) == (value >= 0.1)
    return float(value)


def test_equals_scipy_over_the_population_std_and_evidently() -> None:
    rng = np.random.default_rng(61)
    ref, cur = rng.normal(2, 3, 300), rng.normal(2.5, 3, 200)
    stat, p = wasserstein_statistic(ref, cur)
    assert p is None
    assert stat == pytest.approx(stats.wasserstein_distance(ref, cur) / np.std(ref), rel=REL)
    assert stat == pytest.approx(_evidently(ref, cur), rel=REL)
    # ddof = 0, like Evidently's np.std on a Series; ddof = 1 would be 0.17% smaller here
    with_ddof_1 = stats.wasserstein_distance(ref, cur) / np.std(ref, ddof=1)
    assert stat / with_ddof_1 == pytest.approx(math.sqrt(300 / 299), rel=1e-12)
    assert Wasserstein.statistic(ref, cur) == (stat, None)


def test_a_constant_reference_is_scaled_by_the_floor() -> None:
    ref, cur = np.full(100, 5.0), np.array([5.0, 5.002])
    assert wasserstein_statistic(ref, cur)[0] == pytest.approx(0.001 / MIN_SCALE, rel=1e-9)
    assert wasserstein_statistic(ref, cur)[0] == pytest.approx(_evidently(ref, cur), rel=REL)


def _bound(ref_counts: np.ndarray, cur_counts: np.ndarray, bounds: np.ndarray) -> float:
    """The stated error bound, unscaled: ``sum_j w_j (r_j + c_j) / 2``."""
    r, c = ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()
    return float(np.sum(np.diff(bounds) * (r + c)) / 2)


def test_binned_over_quantile_bins_is_within_the_stated_error() -> None:
    rng = np.random.default_rng(62)
    ref, cur = rng.normal(0, 1, 20_000), rng.normal(0.3, 1.2, 10_000)
    profile = NumericProfile(bins=10, resolution=10).fit(ref.tolist())
    window = profile.new_state()
    window.update(cur)
    edges = np.asarray(profile.bin_edges_)
    ref_counts = np.asarray(profile.reference_counts_, dtype=float)
    lo, hi, scale = profile.min_, profile.max_, profile.std_
    binned = binned_wasserstein(ref_counts, window.counts, edges, lo, hi, scale)
    exact = stats.wasserstein_distance(ref, cur) / np.std(ref)
    bounds = np.concatenate([[lo], edges, [hi]])
    beyond = float(np.mean(np.maximum(lo - cur, 0) + np.maximum(cur - hi, 0)))
    tolerance = (_bound(ref_counts, window.counts, bounds) + beyond) / scale
    largest = (np.diff(bounds).max() + beyond) / scale
    assert abs(binned - exact) <= tolerance <= largest
    # measured: error 0.0066 against W = 0.3304; bounds 0.1149 (mass-weighted), 1.83 (largest)
    assert (round(abs(binned - exact), 4), round(tolerance, 4), round(largest, 2)) == (
        0.0066, 0.1149, 1.83)


def test_binned_over_fine_equal_bins_is_within_one_bucket_width() -> None:
    rng = np.random.default_rng(63)
    ref = rng.normal(0, 1, 20_000)
    cur = rng.normal(0.3, 1.2, 10_000)
    cur = cur[(cur >= ref.min()) & (cur <= ref.max())]  # inside [lo, hi]: no extra term
    lo, hi, scale = float(ref.min()), float(ref.max()), float(np.std(ref))
    edges = np.linspace(lo, hi, 201)[1:-1]
    counts = [np.bincount(np.searchsorted(edges, x, side="right"), minlength=200)
              for x in (ref, cur)]
    binned = binned_wasserstein(counts[0], counts[1], edges, lo, hi, scale)
    exact = stats.wasserstein_distance(ref, cur) / scale
    width = (hi - lo) / 200 / scale
    assert abs(binned - exact) <= width
    assert (round(abs(binned - exact), 5), round(width, 4)) == (5e-05, 0.0367)  # measured


def test_binned_is_exact_when_the_mass_sits_at_bucket_midpoints() -> None:
    rng = np.random.default_rng(64)
    edges = np.sort(rng.uniform(0, 10, 12))
    lo, hi = -1.0, 11.5
    bounds = np.concatenate([[lo], edges, [hi]])
    mids = (bounds[:-1] + bounds[1:]) / 2
    ref_counts, cur_counts = rng.integers(0, 50, 13), rng.integers(0, 50, 13)
    exact = stats.wasserstein_distance(mids, mids, ref_counts, cur_counts) / 2.5
    binned = binned_wasserstein(ref_counts, cur_counts, edges, lo, hi, scale=2.5)
    assert binned == pytest.approx(exact, rel=1e-12)
    assert binned_wasserstein([3], [7], [], 0.0, 1.0, 1.0) == 0.0


def test_binned_refuses_mismatched_or_unordered_input() -> None:
    with pytest.raises(DetectorError, match="len"):
        binned_wasserstein([1, 2], [1, 2, 3], [0.0, 1.0], -1.0, 2.0, 1.0)
    with pytest.raises(DetectorError, match="increasing"):
        binned_wasserstein([1, 2, 3], [1, 2, 3], [1.0, 0.0], -1.0, 2.0, 1.0)
    with pytest.raises(DetectorError, match="increasing"):
        binned_wasserstein([1, 2], [1, 2], [0.0], 0.5, 2.0, 1.0)
    with pytest.raises(DetectorError, match="scale"):
        binned_wasserstein([1, 2], [1, 2], [0.0], -1.0, 2.0, 0.0)
    with pytest.raises(DetectorError, match="non-negative"):
        binned_wasserstein([1, -2], [1, 2], [0.0], -1.0, 2.0, 1.0)


def test_exact_verdicts_on_seeded_data() -> None:
    rng = np.random.default_rng(2024)
    ref, same, shifted = rng.normal(0, 1, 1000), rng.normal(0, 1, 800), rng.normal(0.5, 1, 800)
    results = []
    for cur in (same, shifted):
        det = Wasserstein().fit(ref)
        det.update(cur)
        results.append(det.score())
    assert [(round(r.statistic, 4), r.p_value, r.drifted) for r in results] == [
        (0.0661, None, False), (0.4467, None, True)]


def _sampled(reference: np.ndarray, window: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Per seed: |W1^ - W1| (the detector's statistic times its own scale) and |W^ - W|."""
    w1 = stats.wasserstein_distance(reference, window)
    ref_list, window_list = reference.tolist(), window.tolist()  # plain floats: the fast path
    raw, normed = [], []
    for seed in SEEDS:
        det = Wasserstein(sample_size=K, seed=seed).fit(ref_list)
        det.update(window_list)
        assert det.reference_ is not None
        stat = det.score().statistic
        raw.append(abs(stat * max(float(np.std(det.reference_)), MIN_SCALE) - w1))
        normed.append(abs(stat - w1 / np.std(reference)))
    return np.array(raw), np.array(normed), w1 / float(np.std(reference))


def test_sampled_window_stays_within_the_stated_bounds() -> None:
    small_ref, _, window = population()
    raw, normed, full = _sampled(small_ref, window)
    scale = float(np.std(small_ref))
    mean_bound = spread(window) / math.sqrt(K) / scale
    np.testing.assert_allclose(raw / scale, normed, rtol=1e-9)  # reference whole: same scale
    assert normed.mean() <= mean_bound
    assert normed[0] <= spread(window) / math.sqrt(0.05 * K) / scale
    assert normed.max() <= spread(window) / math.sqrt(0.001 * K) / scale
    measured = (round(mean_bound, 3), round(normed.mean(), 3), round(normed.max(), 3),
                round(normed.max() / full, 2))
    assert measured == (0.062, 0.026, 0.067, 0.22)


def test_sampled_reference_and_window_stay_within_the_stated_bounds() -> None:
    _, large_ref, window = population()
    raw, normed, full = _sampled(large_ref, window)
    total = spread(large_ref) + spread(window)
    assert raw.mean() <= total / math.sqrt(K)
    assert raw[0] <= total / math.sqrt(0.05 * K)
    assert raw.max() <= total / math.sqrt(0.001 * K)
    measured = (round(total / math.sqrt(K), 3), round(raw.mean(), 3), round(raw.max(), 3),
                round(normed.max() / full, 2))
    assert measured == (0.112, 0.036, 0.087, 0.27)
