"""Anderson-Darling: parity with scipy and Evidently, the p-value's cap and floor, verdicts."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from detectors.drift.anderson_darling import AndersonDarling, anderson_darling_statistic
from tests.detectors.drift._evidently_numeric import NUMERICAL, _anderson_darling

REL = 1e-12  # the same scipy routine on the same values


def _scipy(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.anderson_ksamp([ref, cur], variant="midrank")
    return float(res.statistic), float(res.pvalue)


def _evidently_p(ref: np.ndarray, cur: np.ndarray) -> float:
    with warnings.catch_warnings():  # its legacy midrank call warns, as do the cap and floor
        warnings.simplefilter("ignore")
        p, drifted = _anderson_darling(pd.Series(ref), pd.Series(cur), NUMERICAL, 0.05)
    assert bool(drifted) == (p < 0.05)
    return float(p)


@pytest.mark.parametrize(("shift", "ties", "band"), [
    (0.05, False, "interpolated"), (0.3, True, "interpolated"), (0.1, False, "capped"),
    (1.0, False, "floored")])
def test_statistic_and_p_value_equal_scipy_and_evidently(shift: float, ties: bool,
                                                         band: str) -> None:
    rng = np.random.default_rng(31)
    ref, cur = rng.normal(0, 1, 600), rng.normal(shift, 1, 400)
    if ties:  # the midrank variant is the one that handles ties
        ref, cur = np.round(ref, 1), np.round(cur, 1)
    stat, p = anderson_darling_statistic(ref, cur)
    assert p is not None
    expected_stat, expected_p = _scipy(ref, cur)
    assert stat == pytest.approx(expected_stat, rel=REL)
    assert p == pytest.approx(expected_p, rel=REL)
    assert p == pytest.approx(_evidently_p(ref, cur), rel=REL)
    assert {"capped": p == 0.25, "floored": p == 0.001, "interpolated": 0.001 < p < 0.25}[band]
    assert AndersonDarling.statistic(ref, cur) == (stat, p)


def test_p_value_is_capped_and_floored_without_warnings() -> None:
    rng = np.random.default_rng(32)
    ref = rng.normal(0, 1, 500)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert anderson_darling_statistic(ref, ref[::-1].copy())[1] == 0.25
        assert anderson_darling_statistic(ref, rng.normal(2, 1, 500))[1] == 0.001


def test_identical_constant_samples_read_as_no_drift() -> None:
    assert anderson_darling_statistic(np.full(50, 3.0), np.full(20, 3.0)) == (0.0, 0.25)
    stat, p = anderson_darling_statistic(np.full(50, 3.0), np.full(20, 4.0))
    assert (round(stat, 4), p) == (round(_scipy(np.full(50, 3.0), np.full(20, 4.0))[0], 4), 0.001)


def test_exact_verdicts_on_seeded_data() -> None:
    rng = np.random.default_rng(2024)
    ref, same, shifted = rng.normal(0, 1, 1000), rng.normal(0, 1, 800), rng.normal(0.5, 1, 800)
    results = []
    for cur in (same, shifted):
        det = AndersonDarling().fit(ref)
        det.update(cur)
        results.append(det.score())
    assert [(round(r.statistic, 4), r.p_value, r.drifted) for r in results] == [
        (0.0803, 0.25, False), (56.45, 0.001, True)]
    assert results[1].method == "anderson"
