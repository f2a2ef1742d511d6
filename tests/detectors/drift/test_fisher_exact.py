from __future__ import annotations

import numpy as np
import pytest
from evidently.legacy.calculations.stattests.fisher_exact_stattest import _fisher_exact_stattest
from scipy import stats

from detectors._base import DetectorError
from detectors.drift.fisher_exact import FisherExact, fisher_exact_statistic
from tests.detectors.drift.histogram_helpers import (
    categorical,
    check_score_is_the_pure_function,
    evidently,
)

BINARY = ["ok", "fail"]


def _two_sided_hypergeometric(a: int, b: int, c: int, d: int) -> float:
    """Sum of the tables with the same margins no more likely than the observed one."""
    dist = stats.hypergeom(a + b + c + d, a + c, a + b)
    pmf = dist.pmf(np.arange(a + b + 1))
    return float(pmf[pmf <= dist.pmf(a) * (1 + 1e-7)].sum())


@pytest.mark.parametrize(("ref", "cur"), [([18, 4], [9, 11]), ([30, 2], [25, 1]), ([3, 5], [0, 7])])
def test_statistic_is_the_odds_ratio_and_p_the_exact_test(ref: list[int], cur: list[int]) -> None:
    (a, b), (c, d) = ref, cur
    odds, p_value = fisher_exact_statistic(ref, cur)
    assert odds == pytest.approx(a * d / (b * c) if b * c else np.inf, rel=1e-12)
    assert p_value == pytest.approx(_two_sided_hypergeometric(a, b, c, d), rel=1e-9)
    assert (odds, p_value) == pytest.approx(tuple(stats.fisher_exact([ref, cur])), rel=1e-12)


@pytest.mark.parametrize(("seed", "shares"), [(1, [0.85, 0.15]), (2, [0.6, 0.4]), (3, [0.9, 0.1])])
def test_p_value_is_evidentlys_on_the_same_values(seed: int, shares: list[float]) -> None:
    ref = categorical(seed, 40, [0.85, 0.15], BINARY)
    cur = categorical(seed + 100, 40, shares, BINARY)  # Evidently demands equal sizes
    det = FisherExact().fit(ref)
    det.update(cur)
    assert det.score().p_value == pytest.approx(
        evidently(_fisher_exact_stattest, ref, cur), rel=1e-12)


def test_more_than_two_buckets_are_refused_and_one_is_no_evidence() -> None:
    with pytest.raises(DetectorError, match=r"binary feature.*got 3.*chisquare"):
        fisher_exact_statistic([5, 3, 0, 2], [4, 0, 0, 1])
    assert fisher_exact_statistic([0, 5, 0], [0, 3, 0]) == (1.0, 1.0)
    assert fisher_exact_statistic([0, 5, 0, 2], [0, 3, 0, 4]) == fisher_exact_statistic(
        [5, 2], [3, 4])
    det = FisherExact().fit(["ok"] * 9 + ["fail"])
    det.update(["ok", "fail", "unknown"])
    with pytest.raises(DetectorError, match="binary feature"):
        det.score()
    with pytest.raises(DetectorError, match="whole counts"):
        fisher_exact_statistic([1.5, 2], [1, 2])


def test_exact_verdicts_on_seeded_streams() -> None:
    ref = categorical(1, 60, [0.8, 0.2], BINARY)
    same, shifted = FisherExact().fit(ref), FisherExact().fit(ref)
    same.update(categorical(2, 50, [0.8, 0.2], BINARY))
    shifted.update(categorical(3, 50, [0.5, 0.5], BINARY))
    kept, moved = same.score(), shifted.score()
    assert (round(kept.statistic, 4), round(kept.p_value or 0, 6), kept.drifted) == (
        0.7213, 0.638575, False)
    assert (round(moved.statistic, 4), round(moved.p_value or 0, 6), moved.drifted) == (
        3.5595, 0.002699, True)


@pytest.mark.parametrize("reference", [
    categorical(6, 80, [0.7, 0.3], BINARY), [int(x) for x in np.arange(80) % 2],
])
def test_score_after_update_merge_and_state_is_the_pure_function(reference: list[object]) -> None:
    current = [*reference[:30], *reference[:30:3]]
    check_score_is_the_pure_function(FisherExact(), fisher_exact_statistic, reference, current)
