from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evidently.legacy.calculations.stattests.tvd_stattest import _total_variation_distance

from detectors.drift.total_variation import TotalVariation, tvd_statistic
from tests.detectors.drift.histogram_helpers import (
    FLAT,
    SHARES,
    categorical,
    categorical_cases,
    check_score_is_the_pure_function,
    normal,
)


def test_statistic_is_the_closed_formula() -> None:
    rng = np.random.default_rng(71)
    ref = rng.multinomial(2500, [0.3, 0.3, 0.2, 0.1, 0.1, 0.0])
    cur = rng.multinomial(600, [0.2, 0.3, 0.2, 0.1, 0.1, 0.1])
    p, q = ref / ref.sum(), cur / cur.sum()
    statistic, p_value = tvd_statistic(ref, cur)
    assert p_value is None
    assert statistic == pytest.approx(0.5 * float(np.abs(p - q).sum()), rel=1e-12)
    # equivalently the share that has to move: sum of the positive differences
    assert statistic == pytest.approx(float(np.clip(q - p, 0, None).sum()), rel=1e-12)
    assert tvd_statistic([3, 0], [0, 5]) == (1.0, None)


@pytest.mark.parametrize("case", range(4))
def test_distance_is_evidentlys_helper_on_the_same_categorical_values(case: int) -> None:
    # Evidently's TVD test reports a permutation p-value; its distance helper is this statistic
    ref, cur = categorical_cases()[case]
    det = TotalVariation().fit(ref)
    det.update(cur)
    expected = float(_total_variation_distance(pd.Series(ref), pd.Series(cur)))
    assert det.score().statistic == pytest.approx(expected, rel=1e-12)


def test_exact_verdicts_on_seeded_streams() -> None:
    ref = normal(1, 2000)
    same, shifted = TotalVariation().fit(ref), TotalVariation().fit(ref)
    same.update(normal(2, 800))
    shifted.update(normal(3, 800, 0.5))
    assert (round(same.score().statistic, 6), same.score().drifted) == (0.03375, False)
    assert (round(shifted.score().statistic, 6), shifted.score().drifted) == (0.23, True)


@pytest.mark.parametrize(("reference", "current"), [
    (normal(6, 1000), normal(7, 900, 0.2, 1.1)),
    (categorical(6, 1000, SHARES), categorical(7, 900, FLAT)),
])
def test_score_after_update_merge_and_state_is_the_pure_function(
        reference: list[object], current: list[object]) -> None:
    check_score_is_the_pure_function(TotalVariation(), tvd_statistic, reference, current)
