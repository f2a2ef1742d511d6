"""Maximum mean discrepancy (MMD) with an RBF kernel and a permutation test.

The statistic is the **unbiased** estimate of MMD² (Gretton et al. 2012, eq. 3: the U-statistic
that leaves out the ``k(x_i, x_i)`` terms), so it can be slightly negative when nothing changed.
The kernel is ``k(x, y) = exp(-||x - y||² / (2 s²))`` with ``s`` the median pairwise distance of
at most ``bandwidth_sample`` pooled rows (median heuristic), found afresh for each test; as a
symmetric function of the pooled rows it leaves the permutation test exact. The p-value is
``(1 + #{null >= observed}) / (1 + n_permutations)`` over seeded permutations of the
reference/current labels, so the smallest p-value is ``1 / (n_permutations + 1)``.

Large inputs use **block MMD** (Zaremba, Gretton & Blaschko 2013): when
``n_reference + n_current > max_exact`` the shuffled rows are cut into blocks of at most
``max_exact`` rows, each with the same share of reference and current rows; the statistic is the
mean of the blocks' unbiased MMD², and each permutation shuffles labels inside every block.
Only one ``block x block`` kernel matrix lives at a time, so memory is O(max_exact²), never
O(n²), and time is O(n · max_exact · n_permutations). Block MMD was chosen over the linear-time
MMD (blocks of 2), whose variance is about ``max_exact / 2`` times larger and so needs far more
rows for the same power, and over subsampling, which throws rows away; the exact test keeps
more power still but needs O(n²) time. When one side is too small to cut into blocks, the larger
side is subsampled to fit. Arithmetic is float64; results are exactly repeatable on the CPU.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> ref = rng.normal(size=(200, 5))
>>> mmd_test(ref, rng.normal(size=(200, 5)) + 0.5, n_permutations=100, device="cpu")[1]
0.009900990099009901
>>> det = MMDDrift(n_permutations=100, device="cpu").fit(ref)
>>> det.update(rng.normal(size=(150, 5)))
>>> r = det.score()
>>> round(r.p_value, 2), r.drifted
(0.67, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from detectors._base import DetectorError
from detectors.multivariate._base import (
    MultivariateDriftDetector,
    as_rows,
    check_two_samples,
    resolve_device,
    standardize,
)

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class MMDEstimate:
    """One MMD test in full: the numbers behind ``mmd_test``'s ``(statistic, p_value)``."""

    statistic: float
    p_value: float
    bandwidth: float
    estimator: str  # "exact" (one block) or "block"
    n_blocks: int
    block_rows: int  # rows of the largest block: its kernel matrix is block_rows x block_rows


def median_bandwidth(pooled: np.ndarray, max_rows: int, rng: np.random.Generator,
                     device: str = "cpu") -> float:
    """Median pairwise Euclidean distance of at most ``max_rows`` rows (1.0 if it is 0)."""
    import torch

    if len(pooled) > max_rows:
        pooled = pooled[np.sort(rng.choice(len(pooled), size=max_rows, replace=False))]
    x = torch.as_tensor(pooled, dtype=torch.float64, device=device)
    upper = torch.triu_indices(len(x), len(x), offset=1, device=device)
    dist = _sq_dist(x, x)[upper[0], upper[1]].sqrt().cpu().numpy()
    median = float(np.median(dist)) if len(dist) else 0.0
    return median if median > 0 else 1.0


def _sq_dist(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances, built in place in one ``len(x) x len(y)`` buffer."""
    sq = (x @ y.T).mul_(-2.0)
    return sq.add_((x * x).sum(1)[:, None]).add_((y * y).sum(1)[None, :]).clamp_min_(0.0)


def _block_statistics(x: torch.Tensor, labels: torch.Tensor, gamma: float) -> torch.Tensor:
    """Unbiased MMD² of one block for every labelling (column of ``labels``: 1 = reference)."""
    kernel = _sq_dist(x, x).mul_(-gamma).exp_()
    kernel.fill_diagonal_(0.0)
    m = labels[:, 0].sum()
    n = len(x) - m
    s_xx = (labels * (kernel @ labels)).sum(0)
    s_x_all = labels.T @ kernel.sum(1)
    s_xy = s_x_all - s_xx
    s_yy = kernel.sum() - s_xx - 2.0 * s_xy
    return s_xx / (m * (m - 1)) + s_yy / (n * (n - 1)) - 2.0 * s_xy / (m * n)


def _plan(m: int, n: int, max_exact: int,
          rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """Shuffled (reference rows, current rows) of each block, every block <= max_exact rows."""
    ref, cur = rng.permutation(m), rng.permutation(n)
    blocks = max(1, min(-(-(m + n) // max_exact), m // 2, n // 2))
    per_ref, per_cur = -(-m // blocks), -(-n // blocks)
    if per_ref + per_cur > max_exact:  # one side too small to cut: subsample the other
        if m >= n:
            ref = ref[: (max_exact - per_cur) * blocks]
        else:
            cur = cur[: (max_exact - per_ref) * blocks]
    return list(zip(np.array_split(ref, blocks), np.array_split(cur, blocks), strict=True))


def mmd_estimate(reference: Any, current: Any, *, n_permutations: int = 200, seed: int = 0,
                 device: str = "auto", max_exact: int = 2000, bandwidth: float | None = None,
                 bandwidth_sample: int = 1000) -> MMDEstimate:
    """Unbiased (block) MMD², its permutation p-value, and how it was computed."""
    import torch

    ref, cur = as_rows(reference, "reference"), as_rows(current, "current")
    check_two_samples(ref, cur)
    if max_exact < 8 or n_permutations < 1 or (bandwidth is not None and not bandwidth > 0):
        raise DetectorError("need max_exact >= 8, n_permutations >= 1 and a positive bandwidth")
    dev = resolve_device(device)
    rng = np.random.default_rng(seed)
    sigma = (median_bandwidth(np.vstack([ref, cur]), bandwidth_sample, rng, dev)
             if bandwidth is None else bandwidth)
    gamma = 1.0 / (2.0 * sigma * sigma)
    plan = _plan(len(ref), len(cur), max_exact, rng)
    totals = torch.zeros(n_permutations + 1, dtype=torch.float64, device=dev)
    for ref_idx, cur_idx in plan:
        base = np.r_[np.ones(len(ref_idx)), np.zeros(len(cur_idx))]
        labels = np.vstack([base, rng.permuted(np.tile(base, (n_permutations, 1)), axis=1)])
        x = torch.as_tensor(np.vstack([ref[ref_idx], cur[cur_idx]]), device=dev)
        totals += _block_statistics(x, torch.as_tensor(labels.T, device=dev), gamma)
    stats = (totals / len(plan)).cpu().numpy()
    p_value = (1 + int((stats[1:] >= stats[0]).sum())) / (n_permutations + 1)
    return MMDEstimate(float(stats[0]), p_value, float(sigma),
                       "exact" if len(plan) == 1 else "block", len(plan),
                       max(len(r) + len(c) for r, c in plan))


def mmd_test(reference: Any, current: Any, *, n_permutations: int = 200, seed: int = 0,
             device: str = "auto", max_exact: int = 2000,
             bandwidth: float | None = None) -> tuple[float, float]:
    """``(MMD², p_value)`` of a permutation test of two row samples; see the module docstring."""
    est = mmd_estimate(reference, current, n_permutations=n_permutations, seed=seed,
                       device=device, max_exact=max_exact, bandwidth=bandwidth)
    return est.statistic, est.p_value


class MMDDrift(MultivariateDriftDetector):
    """RBF-kernel MMD test of the window against the reference; drift when ``p < threshold``.

    With ``standardize`` both sides are scaled by the reference sample's column mean and standard
    deviation first, so that no single wide feature sets the bandwidth. With the default
    ``sample_size`` both samples together hold at most ``max_exact`` rows: the test is exact.
    """

    method: ClassVar[str] = "mmd"

    def __init__(self, threshold: float = 0.05, n_permutations: int = 200, max_exact: int = 2000,
                 sample_size: int = 1000, standardize: bool = True, seed: int = 0,
                 device: str = "auto") -> None:
        self.threshold = threshold
        self.n_permutations = n_permutations
        self.max_exact = max_exact
        self.sample_size = sample_size
        self.standardize = standardize
        self.seed = seed
        self.device = device
        super().__init__(n_permutations)

    def _test(self, reference: np.ndarray, current: np.ndarray, device: str) -> tuple[float, float]:
        if self.standardize:
            reference, current = standardize(reference, current)
        return mmd_test(reference, current, n_permutations=self.n_permutations, seed=self.seed,
                        device=device, max_exact=self.max_exact)

    def _decide(self, statistic: float, p_value: float) -> bool:  # noqa: ARG002 - p decides
        return p_value < self.threshold
