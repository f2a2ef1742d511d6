from __future__ import annotations

import math

import numpy as np
import pytest
from evidently.legacy.calculations.stattests.kl_div import _kl_div
from scipy import stats

from detectors.drift.kl_divergence import KullbackLeibler, kl_statistic
from tests.detectors.drift.histogram_helpers import (
    FLAT,
    SHARES,
    categorical,
    categorical_cases,
    check_score_is_the_pure_function,
    evidently,
    normal,
)


def test_statistic_is_scipy_entropy_without_zeros() -> None:
    rng = np.random.default_rng(61)
    ref = rng.multinomial(2500, [0.3, 0.3, 0.2, 0.1, 0.1])
    cur = rng.multinomial(600, [0.2, 0.3, 0.2, 0.15, 0.15])
    p, q = ref / ref.sum(), cur / cur.sum()
    statistic, p_value = kl_statistic(ref, cur)
    assert p_value is None
    assert statistic == pytest.approx(float(np.sum(p * np.log(p / q))), rel=1e-12)
    assert statistic == pytest.approx(stats.entropy(ref, cur), rel=1e-12)
    assert kl_statistic(ref, cur) != kl_statistic(cur, ref)


def test_zeros_are_floored_as_evidently_then_renormalised() -> None:
    # current misses bin 0: its zero becomes 1e-4 (its smallest share 0.3 > 1e-4);
    # reference misses bin 3 and its smallest share 1e-5 <= 1e-4: that zero becomes 1e-11
    ref, cur = [1, 49_999, 50_000, 0], [0, 30, 40, 30]
    p = np.array([1e-5, 0.49999, 0.5, 1e-11])
    q = np.array([1e-4, 0.3, 0.4, 0.3])
    expected = stats.entropy(p, q)  # normalises both, as Evidently's call does
    assert kl_statistic(ref, cur)[0] == pytest.approx(expected, rel=1e-12)
    assert kl_statistic(ref, cur, eps=1e-3)[0] == pytest.approx(
        stats.entropy(p, [1e-3, 0.3, 0.4, 0.3]), rel=1e-12)
    assert math.isfinite(kl_statistic([5, 5], [10, 0])[0])


@pytest.mark.parametrize("case", range(4))
def test_divergence_is_evidentlys_on_the_same_categorical_values(case: int) -> None:
    ref, cur = categorical_cases()[case]
    det = KullbackLeibler().fit(ref)
    det.update(cur)
    assert det.score().statistic == pytest.approx(evidently(_kl_div, ref, cur), rel=1e-12)


def test_exact_verdicts_on_seeded_streams() -> None:
    ref = normal(1, 2000)
    same, shifted = KullbackLeibler().fit(ref), KullbackLeibler().fit(ref)
    same.update(normal(2, 800))
    shifted.update(normal(3, 800, 0.5))
    assert (round(same.score().statistic, 6), same.score().drifted) == (0.003837, False)
    assert (round(shifted.score().statistic, 6), shifted.score().drifted) == (0.153334, True)


@pytest.mark.parametrize(("reference", "current"), [
    (normal(6, 1000), normal(7, 900, 0.2, 1.1)),
    (categorical(6, 1000, SHARES), categorical(7, 900, FLAT)),
])
def test_score_after_update_merge_and_state_is_the_pure_function(
        reference: list[object], current: list[object]) -> None:
    check_score_is_the_pure_function(KullbackLeibler(), kl_statistic, reference, current)
