from __future__ import annotations

import math

import numpy as np
import pytest
from evidently.legacy.calculations.stattests.hellinger_distance import _hellinger_distance

from detectors.drift.hellinger import Hellinger, hellinger_statistic
from tests.detectors.drift.histogram_helpers import (
    FLAT,
    SHARES,
    categorical,
    categorical_cases,
    check_score_is_the_pure_function,
    evidently,
    normal,
)


def test_statistic_is_both_closed_forms() -> None:
    rng = np.random.default_rng(51)
    ref = rng.multinomial(2500, [0.3, 0.3, 0.2, 0.1, 0.1, 0.0])
    cur = rng.multinomial(600, [0.2, 0.3, 0.2, 0.1, 0.1, 0.1])
    p, q = ref / ref.sum(), cur / cur.sum()
    statistic, p_value = hellinger_statistic(ref, cur)
    assert p_value is None
    assert statistic == pytest.approx(
        math.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2) / 2), rel=1e-12)
    assert statistic == pytest.approx(math.sqrt(1 - np.sum(np.sqrt(p * q))), rel=1e-12)
    assert hellinger_statistic([3, 0], [0, 5]) == (1.0, None)


def test_close_mixes_keep_their_digits() -> None:
    # shares 0.5 * (1 +- d) against 0.5: H = d / (2 sqrt 2), while 1 - sum(sqrt(p q)) = d^2 / 2
    # is below double precision and comes out 0
    ref, cur = np.array([10**9, 10**9]), np.array([10**9 + 1, 10**9 - 1])
    statistic, _ = hellinger_statistic(ref, cur)
    assert statistic == pytest.approx(1e-9 / (2 * math.sqrt(2)), rel=1e-6)
    assert 1 - np.sum(np.sqrt(ref / ref.sum() * cur / cur.sum())) == 0.0


@pytest.mark.parametrize("case", range(4))
def test_distance_is_evidentlys_on_the_same_categorical_values(case: int) -> None:
    ref, cur = categorical_cases()[case]
    det = Hellinger().fit(ref)
    det.update(cur)
    assert det.score().statistic == pytest.approx(
        evidently(_hellinger_distance, ref, cur), rel=1e-12)


def test_exact_verdicts_on_seeded_streams() -> None:
    ref = normal(1, 2000)
    same, shifted = Hellinger().fit(ref), Hellinger().fit(ref)
    same.update(normal(2, 800))
    shifted.update(normal(3, 800, 0.5))
    assert (round(same.score().statistic, 6), same.score().drifted) == (0.031275, False)
    assert (round(shifted.score().statistic, 6), shifted.score().drifted) == (0.192899, True)


@pytest.mark.parametrize(("reference", "current"), [
    (normal(6, 1000), normal(7, 900, 0.2, 1.1)),
    (categorical(6, 1000, SHARES), categorical(7, 900, FLAT)),
])
def test_score_after_update_merge_and_state_is_the_pure_function(
        reference: list[object], current: list[object]) -> None:
    check_score_is_the_pure_function(Hellinger(), hellinger_statistic, reference, current)
