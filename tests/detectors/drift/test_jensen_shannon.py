from __future__ import annotations

import math

import numpy as np
import pytest
from evidently.legacy.calculations.stattests.jensenshannon import _jensenshannon
from scipy.spatial import distance
from scipy.special import xlogy

from detectors.drift.jensen_shannon import JensenShannon, jensen_shannon_statistic
from tests.detectors.drift.histogram_helpers import (
    FLAT,
    SHARES,
    categorical,
    categorical_cases,
    check_score_is_the_pure_function,
    evidently,
    normal,
)


def test_statistic_is_scipy_and_the_closed_formula() -> None:
    rng = np.random.default_rng(41)
    ref = rng.multinomial(2500, [0.3, 0.3, 0.2, 0.1, 0.1, 0.0])
    cur = rng.multinomial(600, [0.2, 0.3, 0.2, 0.1, 0.1, 0.1])
    p, q = ref / ref.sum(), cur / cur.sum()
    m = (p + q) / 2
    divergence = (np.sum(xlogy(p, p / m)) + np.sum(xlogy(q, q / m))) / 2
    statistic, p_value = jensen_shannon_statistic(ref, cur)
    assert p_value is None
    assert statistic == pytest.approx(math.sqrt(divergence), rel=1e-12)
    assert statistic == pytest.approx(distance.jensenshannon(ref, cur), rel=1e-12)
    assert jensen_shannon_statistic([1, 0], [0, 1])[0] == pytest.approx(math.sqrt(math.log(2)))


@pytest.mark.parametrize("case", range(4))
def test_distance_is_evidentlys_on_the_same_categorical_values(case: int) -> None:
    ref, cur = categorical_cases()[case]
    det = JensenShannon().fit(ref)
    det.update(cur)
    assert det.score().statistic == pytest.approx(evidently(_jensenshannon, ref, cur), rel=1e-12)


def test_exact_verdicts_on_seeded_streams() -> None:
    ref = normal(1, 2000)
    same, shifted = JensenShannon().fit(ref), JensenShannon().fit(ref)
    same.update(normal(2, 800))
    shifted.update(normal(3, 800, 0.5))
    assert (round(same.score().statistic, 6), same.score().drifted) == (0.031265, False)
    assert (round(shifted.score().statistic, 6), shifted.score().drifted) == (0.191664, True)


@pytest.mark.parametrize(("reference", "current"), [
    (normal(6, 1000), normal(7, 900, 0.2, 1.1)),
    (categorical(6, 1000, SHARES), categorical(7, 900, FLAT)),
])
def test_score_after_update_merge_and_state_is_the_pure_function(
        reference: list[object], current: list[object]) -> None:
    check_score_is_the_pure_function(JensenShannon(), jensen_shannon_statistic, reference, current)
