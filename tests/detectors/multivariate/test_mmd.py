from __future__ import annotations

import numpy as np
import pytest
import torch

from detectors._base import DetectorError
from detectors.multivariate.mmd import MMDDrift, median_bandwidth, mmd_estimate, mmd_test


def numpy_unbiased_mmd2(x: np.ndarray, y: np.ndarray, sigma: float) -> float:
    """Gretton et al. (2012) eq. 3, written out with loops over the three kernel blocks."""
    def gram(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return np.asarray(np.exp(-d2 / (2 * sigma**2)))

    m, n = len(x), len(y)
    kxx, kyy, kxy = gram(x, x), gram(y, y), gram(x, y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1))
                 + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean())


def test_statistic_is_the_unbiased_estimator() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(40, 3)), rng.normal(0.4, 1.2, size=(31, 3))
    for sigma in (0.7, 2.0):
        stat, _ = mmd_test(x, y, bandwidth=sigma, n_permutations=10, device="cpu")
        assert stat == pytest.approx(numpy_unbiased_mmd2(x, y, sigma), abs=1e-9)
    est = mmd_estimate(x, y, n_permutations=10, device="cpu")
    pooled = np.vstack([x, y])
    dist = np.sqrt(((pooled[:, None] - pooled[None]) ** 2).sum(-1))
    assert est.bandwidth == pytest.approx(np.median(dist[np.triu_indices(len(pooled), 1)]))
    assert est.statistic == pytest.approx(numpy_unbiased_mmd2(x, y, est.bandwidth), abs=1e-9)
    assert (est.estimator, est.n_blocks, est.block_rows) == ("exact", 1, 71)


def test_permutation_p_values_give_exact_verdicts() -> None:
    rng = np.random.default_rng(11)
    ref = rng.normal(size=(200, 5))
    stat, p = mmd_test(ref, rng.normal(size=(200, 5)) + 1.0, seed=1, device="cpu")
    assert p == 1 / 201
    assert stat > 0.1
    stat, p = mmd_test(ref, rng.normal(size=(200, 5)), seed=1, device="cpu")
    assert p > 0.05
    assert abs(stat) < 0.01
    assert mmd_test(ref, ref[::-1] + 1.0, seed=4, device="cpu") == mmd_test(
        ref, ref[::-1] + 1.0, seed=4, device="cpu")


def test_bandwidth_uses_a_bounded_subsample() -> None:
    rng = np.random.default_rng(0)
    pooled = rng.normal(size=(5000, 4))
    sigma = median_bandwidth(pooled, 400, np.random.default_rng(1))
    other = pooled[-1500:]
    dist = np.sqrt(((other[:, None] - other[None]) ** 2).sum(-1))
    assert sigma == pytest.approx(np.median(dist[np.triu_indices(len(other), 1)]), rel=0.03)
    assert median_bandwidth(np.zeros((10, 2)), 400, np.random.default_rng(1)) == 1.0


def chunked_exact_p_value(x: np.ndarray, y: np.ndarray, sigma: float, n_perm: int) -> float:
    """The exact (one-block) permutation test on all rows, 2,000 kernel rows at a time.

    float32 kernels keep it fast; sums are float64, far finer than the permutation spread.
    """
    data = torch.as_tensor(np.vstack([x, y]), dtype=torch.float32)
    sq = (data * data).sum(1)
    base = np.r_[np.ones(len(x)), np.zeros(len(y))]
    perms = np.random.default_rng(0).permuted(np.tile(base, (n_perm, 1)), axis=1)
    labels = torch.as_tensor(np.vstack([base, perms]).T.copy(), dtype=torch.float32)
    s_xx = torch.zeros(n_perm + 1, dtype=torch.float64)
    s_x_all = torch.zeros(n_perm + 1, dtype=torch.float64)
    total = 0.0
    k = torch.empty(2000, len(data))
    for start in range(0, len(data), 2000):
        rows = slice(start, start + 2000)
        torch.mm(data[rows], data.T, out=k)
        k.mul_(-2.0).add_(sq[rows, None]).add_(sq[None, :]).clamp_(min=0)
        k.mul_(-1 / (2 * sigma**2)).exp_()
        k[:, rows].fill_diagonal_(0.0)
        s_xx += (labels[rows] * (k @ labels)).sum(0).double()
        s_x_all += (labels[rows].T @ k.sum(1)).double()
        total += float(k.sum(dtype=torch.float64))
    m, n = len(x), len(y)
    s_xy = s_x_all - s_xx
    stats = s_xx / (m * (m - 1)) + (total - s_xx - 2 * s_xy) / (n * (n - 1)) - 2 * s_xy / (m * n)
    return (1 + int((stats[1:] >= stats[0]).sum())) / (n_perm + 1)


@pytest.mark.parametrize(("shift", "drifted"), [(0.06, True), (0.0, False)])
def test_block_estimator_agrees_with_exact_on_20k_rows(shift: float, drifted: bool) -> None:
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(10_000, 5)), rng.normal(size=(10_000, 5)) + shift
    est = mmd_estimate(x, y, n_permutations=50, seed=2, device="cpu")
    assert (est.estimator, est.n_blocks, est.block_rows) == ("block", 10, 2000)
    exact_p = chunked_exact_p_value(x, y, est.bandwidth, 19)
    assert (est.p_value < 0.05, exact_p < 0.06) == (drifted, drifted)


def test_blocks_stay_bounded_when_one_side_is_tiny() -> None:
    rng = np.random.default_rng(6)
    est = mmd_estimate(rng.normal(size=(5000, 3)), rng.normal(size=(5, 3)) + 3.0,
                       max_exact=500, n_permutations=50, device="cpu")
    assert est.block_rows <= 500
    assert est.n_blocks == 2
    assert est.p_value < 0.05


def test_rejects_bad_inputs() -> None:
    with pytest.raises(DetectorError, match="2-D"):
        mmd_test(np.zeros(5), np.zeros(5))
    with pytest.raises(DetectorError, match="column counts"):
        mmd_test(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(DetectorError, match="2\\+ rows"):
        mmd_test(np.zeros((5, 2)), np.array([[1.0, np.nan], [0.0, 1.0]]))


def test_standardize_makes_the_detector_scale_free() -> None:
    rng = np.random.default_rng(8)
    scale = np.array([1.0, 1000.0, 0.001])
    ref, cur = rng.normal(size=(300, 3)), rng.normal(size=(300, 3)) + np.array([0.5, 0, 0])
    plain = MMDDrift(device="cpu").fit(ref * scale)
    plain.update(cur * scale)
    raw = MMDDrift(standardize=False, device="cpu").fit(ref * scale)
    raw.update(cur * scale)
    assert plain.score().drifted is True
    assert raw.score().drifted is False  # the 1000x feature sets the bandwidth and hides the shift
