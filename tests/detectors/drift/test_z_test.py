from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from evidently.legacy.calculations.stattests.z_stattest import (
    _z_stat_test,
    proportions_diff_z_stat_ind,
)
from scipy import stats

from detectors.drift.z_test import ZTest, z_statistic
from tests.detectors.drift.histogram_helpers import (
    categorical,
    check_score_is_the_pure_function,
    evidently,
)

BINARY = ["no", "yes"]


def test_statistic_is_the_pooled_two_proportion_formula() -> None:
    rng = np.random.default_rng(31)
    a, b = rng.binomial(900, 0.3), rng.binomial(400, 0.37)
    s_ref, s_cur, pooled = a / 900, b / 400, (a + b) / 1300
    z = (s_cur - s_ref) / math.sqrt(pooled * (1 - pooled) * (1 / 900 + 1 / 400))
    statistic, p_value = z_statistic([a, 900 - a], [b, 400 - b])
    assert statistic == pytest.approx(z, rel=1e-12)
    assert p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-12)
    # scipy's chi-square test of the 2x2 table without continuity correction is z^2: same p
    assert p_value == pytest.approx(stats.chi2_contingency(
        [[a, 900 - a], [b, 400 - b]], correction=False).pvalue, rel=1e-9)


@pytest.mark.parametrize(("seed", "n_cur", "shares"), [
    (1, 500, [0.7, 0.3]), (2, 350, [0.62, 0.38]), (3, 800, [0.66, 0.34]),
])
def test_z_and_p_value_are_evidentlys_on_the_same_values(
        seed: int, n_cur: int, shares: list[float]) -> None:
    # "no" is the most frequent reference value (our first bucket) and the first sorted value
    # (Evidently's first key), so both test the same share with the same sign.
    ref = categorical(seed, 1000, [0.7, 0.3], BINARY)
    cur = categorical(seed + 100, n_cur, shares, BINARY)
    det = ZTest().fit(ref)
    det.update(cur)
    result = det.score()
    ev_z = proportions_diff_z_stat_ind(pd.Series([v != "no" for v in ref], dtype=int),
                                       pd.Series([v != "no" for v in cur], dtype=int))
    assert result.statistic == pytest.approx(float(ev_z), rel=1e-12)
    # Evidently's p-value is 1 - cdf(|z|), which keeps fewer digits than the survival function
    assert result.p_value == pytest.approx(evidently(_z_stat_test, ref, cur), rel=1e-9)


def test_more_than_two_buckets_is_first_against_the_rest_as_in_evidently() -> None:
    shares = [0.5, 0.3, 0.2]
    ref = categorical(4, 900, shares, ["a", "b", "c"])
    cur = categorical(5, 400, [0.42, 0.33, 0.25], ["a", "b", "c"])
    det = ZTest().fit(ref)
    det.update(cur)
    ref_a, cur_a = ref.count("a"), cur.count("a")
    assert (det.score().statistic, det.score().p_value) == z_statistic(
        [ref_a, 900 - ref_a], [cur_a, 400 - cur_a])
    assert det.score().p_value == pytest.approx(evidently(_z_stat_test, ref, cur), rel=1e-9)


def test_one_bucket_on_both_sides_is_no_evidence() -> None:
    assert z_statistic([0, 40, 0], [0, 25, 0]) == (0.0, 1.0)
    assert z_statistic([40, 0], [25, 0]) == (0.0, 1.0)
    assert evidently(_z_stat_test, ["x"] * 40, ["x"] * 25) == 1.0


def test_exact_verdicts_on_seeded_streams() -> None:
    ref = categorical(1, 60, [0.8, 0.2], BINARY)
    same, shifted = ZTest().fit(ref), ZTest().fit(ref)
    same.update(categorical(2, 50, [0.8, 0.2], BINARY))
    shifted.update(categorical(3, 50, [0.5, 0.5], BINARY))
    kept, moved = same.score(), shifted.score()
    assert (round(kept.statistic, 4), round(kept.p_value or 0, 6), kept.drifted) == (
        0.6849, 0.493402, False)
    assert (round(moved.statistic, 4), round(moved.p_value or 0, 6), moved.drifted) == (
        -3.1121, 0.001858, True)


@pytest.mark.parametrize("reference", [
    categorical(6, 1000, [0.7, 0.3], BINARY), [int(x) for x in np.arange(1000) % 2],
])
def test_score_after_update_merge_and_state_is_the_pure_function(reference: list[object]) -> None:
    current = [*reference[:300], *reference[:90:3]]
    check_score_is_the_pure_function(ZTest(), z_statistic, reference, current)
