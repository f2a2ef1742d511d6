"""The shared interval machinery: bounded resample chunks, undefined replicates, safe ratios."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from detectors.performance import _common
from detectors.performance._common import bootstrap, ratio, resample_weights, wilson, z_value


def test_resamples_come_in_bounded_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_common, "CHUNK_CELLS", 1000)
    chunks = list(resample_weights(300, 50, seed=0))
    assert sum(len(c) for c in chunks) == 50
    assert all(c.size <= 1000 for c in chunks)
    assert all((c.sum(axis=1) == 300).all() and (c >= 0).all() for c in chunks)
    one_row = list(resample_weights(5000, 3, seed=0))  # more rows than cells: one at a time
    assert [c.shape for c in one_row] == [(1, 5000)] * 3


def test_bootstrap_leaves_out_undefined_replicates() -> None:
    x = np.r_[np.zeros(38), np.ones(2)]  # many resamples hold no 1 at all

    def share_of_ones_among_ones(w: np.ndarray) -> np.ndarray:
        return ratio(w @ x, w @ x)

    est = bootstrap({"s": share_of_ones_among_ones}, x.size, n_bootstrap=200, seed=1,
                    confidence=0.9)["s"]
    assert (est.value, est.low, est.high, est.se) == (1.0, 1.0, 1.0, 0.0)
    none = bootstrap({"s": share_of_ones_among_ones}, 0, n_bootstrap=200, seed=1,
                     confidence=0.9)["s"]
    assert none.value is None
    assert none.low is None


def test_ratio_never_divides_by_zero() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ratio(np.array([1.0, 0.0, 2.0]), np.array([0.0, 0.0, 4.0]))
    assert np.isnan(out[:2]).all()
    assert out[2] == 0.5


def test_wilson_stays_inside_zero_and_one() -> None:
    z = z_value(0.95)
    assert z == pytest.approx(1.959963984540054)
    low, high = wilson(0, 10, z)
    assert low == 0.0
    assert 0 < high < 0.35
    low, high = wilson(10, 10, z)
    assert high == 1.0
    assert 0.65 < low < 1
