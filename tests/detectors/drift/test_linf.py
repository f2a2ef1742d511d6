from __future__ import annotations

import numpy as np
import pytest

from detectors.drift.linf import LInfinity, linf_statistic
from tests.detectors.drift.histogram_helpers import (
    FLAT,
    SHARES,
    categorical,
    check_score_is_the_pure_function,
    normal,
)


def test_statistic_is_the_closed_formula() -> None:
    rng = np.random.default_rng(81)
    ref = rng.multinomial(2500, [0.3, 0.3, 0.2, 0.1, 0.1, 0.0])
    cur = rng.multinomial(600, [0.2, 0.3, 0.2, 0.1, 0.1, 0.1])
    p, q = ref / ref.sum(), cur / cur.sum()
    statistic, p_value = linf_statistic(ref, cur)
    assert p_value is None
    assert statistic == pytest.approx(float(np.max(np.abs(p - q))), rel=1e-12)
    assert linf_statistic([50, 50, 0], [50, 0, 50]) == (0.5, None)
    assert linf_statistic([1, 2, 3], [10, 20, 30]) == (0.0, None)


def test_exact_verdicts_on_seeded_streams() -> None:
    ref = normal(1, 2000)
    same, shifted = LInfinity().fit(ref), LInfinity().fit(ref)
    same.update(normal(2, 800))
    shifted.update(normal(3, 800, 0.5))
    assert (round(same.score().statistic, 6), same.score().drifted) == (0.02375, False)
    assert (round(shifted.score().statistic, 6), shifted.score().drifted) == (0.12875, True)


@pytest.mark.parametrize(("reference", "current"), [
    (normal(6, 1000), normal(7, 900, 0.2, 1.1)),
    (categorical(6, 1000, SHARES), categorical(7, 900, FLAT)),
])
def test_score_after_update_merge_and_state_is_the_pure_function(
        reference: list[object], current: list[object]) -> None:
    check_score_is_the_pure_function(LInfinity(), linf_statistic, reference, current)
