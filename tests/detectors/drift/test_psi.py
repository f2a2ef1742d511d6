from __future__ import annotations

import math

import numpy as np
import pytest
from evidently.legacy.calculations.stattests.psi import _psi

from detectors.drift.psi import PopulationStabilityIndex, population_stability_index, psi_test
from tests.detectors.drift.histogram_helpers import (
    FLAT,
    SHARES,
    categorical,
    categorical_cases,
    check_score_is_the_pure_function,
    evidently,
    normal,
)


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


def test_zero_bins_are_floored_as_evidently_then_the_textbook_formula() -> None:
    # the last bin is empty on both sides and left out; each side's smallest share is > 1e-4,
    # so the zeros become 1e-4
    ref, cur = [0, 300, 380, 200, 1, 0], [80, 250, 0, 270, 0, 0]
    r = np.array([1e-4, 300 / 881, 380 / 881, 200 / 881, 1 / 881])
    c = np.array([80 / 600, 250 / 600, 1e-4, 270 / 600, 1e-4])
    expected = float(np.sum((c - r) * np.log(c / r)))
    assert population_stability_index(ref, cur) == pytest.approx(expected, rel=1e-12)
    # a reference share of 1e-5 (<= 1e-4): the reference's zero becomes 1e-5 / 1e6
    r = np.array([1e-11, 1e-5, 0.99999])
    c = np.array([0.5, 1e-4, 0.5])
    expected = float(np.sum((c - r) * np.log(c / r)))
    assert population_stability_index([0, 1, 99_999], [10, 0, 10]) == pytest.approx(
        expected, rel=1e-12)


@pytest.mark.parametrize("case", range(4))
def test_psi_is_evidentlys_on_the_same_categorical_values(case: int) -> None:
    ref, cur = categorical_cases()[case]
    det = PopulationStabilityIndex().fit(ref)
    det.update(cur)
    assert det.score().statistic == pytest.approx(evidently(_psi, ref, cur), rel=1e-12)


def test_exact_verdicts_on_seeded_streams() -> None:
    ref = normal(1, 2000)
    same, shifted = PopulationStabilityIndex().fit(ref), PopulationStabilityIndex().fit(ref)
    same.update(normal(2, 800))
    shifted.update(normal(3, 800, 0.5))
    assert (round(same.score().statistic, 6), same.score().drifted) == (0.00783, False)
    assert (round(shifted.score().statistic, 6), shifted.score().drifted) == (0.301627, True)
    assert same.score().p_value is None


@pytest.mark.parametrize(("reference", "current"), [
    (normal(6, 1000), normal(7, 900, 0.2, 1.1)),
    (categorical(6, 1000, SHARES), categorical(7, 900, FLAT)),
])
def test_score_after_update_merge_and_state_is_the_pure_function(
        reference: list[object], current: list[object]) -> None:
    check_score_is_the_pure_function(PopulationStabilityIndex(), PopulationStabilityIndex.statistic,
                                     reference, current)
