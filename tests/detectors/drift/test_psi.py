from __future__ import annotations

import math

import numpy as np
import pytest

from detectors.drift.psi import population_stability_index, psi_test


def test_psi_matches_the_textbook_formula() -> None:
    ref = np.array([120, 300, 380, 200])
    cur = np.array([80, 250, 400, 270])
    r, c = ref / ref.sum(), cur / cur.sum()
    expected = sum((ci - ri) * math.log(ci / ri) for ri, ci in zip(r, c, strict=True))
    assert population_stability_index(ref, cur) == pytest.approx(expected, rel=1e-12)


def test_psi_is_symmetric_and_zero_on_identical_mixes() -> None:
    a, b = [10, 20, 30], [30, 20, 10]
    assert population_stability_index(a, b) == pytest.approx(population_stability_index(b, a))
    assert population_stability_index([1, 2, 3], [10, 20, 30]) == pytest.approx(0.0)


def test_empty_bins_are_floored_not_infinite() -> None:
    value = population_stability_index([50, 50, 0], [50, 0, 50])
    assert math.isfinite(value)
    assert value > 1.0


def test_threshold_decides() -> None:
    assert psi_test([50, 50], [55, 45], threshold=0.25).drifted is False
    assert psi_test([50, 50], [95, 5], threshold=0.25).drifted is True
    with pytest.raises(ValueError, match="different bins"):
        population_stability_index([1, 2], [1, 2, 3])
