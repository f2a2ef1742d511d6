"""Shared data for the tests of working from bounded samples (see ``test_ks`` and
``test_wasserstein``): a seeded reference and a drifted window of 100_000 values each."""

from __future__ import annotations

import numpy as np

K = 1000  # sample_size of the detectors under test
SEEDS = range(40)  # detector seeds: 40 different uniform samples of the same data


def population() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(small_reference, large_reference, window)``: 1_000, 100_000 and 100_000 values."""
    rng = np.random.default_rng(12)
    return rng.normal(0, 1, 1000), rng.normal(0, 1, 100_000), rng.normal(0.3, 1.2, 100_000)


def spread(values: np.ndarray) -> float:
    """``J = integral sqrt(F (1 - F)) dx`` of the values' empirical CDF (Bobkov and Ledoux)."""
    x = np.sort(values)
    f = np.arange(1, len(x)) / len(x)
    return float(np.sum(np.sqrt(f * (1 - f)) * np.diff(x)))
