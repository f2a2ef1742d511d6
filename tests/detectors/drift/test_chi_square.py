from __future__ import annotations

import math

import numpy as np
import pytest
from evidently.legacy.calculations.stattests.chisquare_stattest import _chi_stat_test
from scipy import stats

from detectors.drift.chi_square import ChiSquare, chi_square_statistic
from tests.detectors.drift.histogram_helpers import (
    categorical,
    check_score_is_the_pure_function,
    evidently,
    normal,
)

SHARES = [0.4, 0.25, 0.15, 0.12, 0.08]
FLAT = [0.2, 0.2, 0.2, 0.2, 0.2]


def test_statistic_is_the_closed_formula_and_scipy() -> None:
    rng = np.random.default_rng(21)
    ref = rng.multinomial(3000, [0.3, 0.3, 0.2, 0.1, 0.1])
    cur = rng.multinomial(700, [0.25, 0.3, 0.2, 0.15, 0.1])
    expected = ref * cur.sum() / ref.sum()
    x2 = float(np.sum((cur - expected) ** 2 / expected))
    statistic, p_value = chi_square_statistic(ref, cur)
    assert statistic == pytest.approx(x2, rel=1e-12)
    assert p_value == pytest.approx(stats.chi2.sf(x2, df=4), rel=1e-12)
    assert (statistic, p_value) == pytest.approx(tuple(stats.chisquare(cur, expected)), rel=1e-12)


@pytest.mark.parametrize(("seed", "current_shares"), [
    (1, SHARES), (2, [0.3, 0.25, 0.2, 0.15, 0.1]), (3, [0.45, 0.3, 0.15, 0.1, 0.0]),
])
def test_p_value_is_evidently_chisquare_on_the_same_values(
        seed: int, current_shares: list[float]) -> None:
    ref = categorical(seed, 1500, SHARES)
    cur = categorical(seed + 100, 600, current_shares)
    det = ChiSquare().fit(ref)
    det.update(cur)
    assert det.score().p_value == pytest.approx(evidently(_chi_stat_test, ref, cur), rel=1e-12)


def test_a_category_unseen_in_the_reference_is_certain_drift_as_in_evidently() -> None:
    ref = categorical(4, 500, [0.5, 0.3, 0.2], ["a", "b", "c"])
    cur = [*categorical(5, 300, [0.5, 0.3, 0.2], ["a", "b", "c"]), "new"]
    det = ChiSquare().fit(ref)
    det.update(cur)
    result = det.score()
    assert (result.statistic, result.p_value, result.drifted) == (math.inf, 0.0, True)
    with np.errstate(divide="ignore"):
        assert evidently(_chi_stat_test, ref, cur) == 0.0


def test_bins_empty_on_both_sides_are_left_out_and_one_bin_is_no_evidence() -> None:
    statistic, p_value = chi_square_statistic([10, 0, 20, 0], [15, 0, 15, 0])
    assert (statistic, p_value) == chi_square_statistic([10, 20], [15, 15])
    assert p_value == pytest.approx(stats.chi2.sf(statistic, df=1), rel=1e-12)
    assert chi_square_statistic([7, 0], [3, 0]) == (0.0, 1.0)


def test_exact_verdicts_on_seeded_streams() -> None:
    ref = categorical(1, 2000, SHARES)
    same, shifted = ChiSquare().fit(ref), ChiSquare().fit(ref)
    same.update(categorical(2, 800, SHARES))
    shifted.update(categorical(3, 800, FLAT))
    kept, moved = same.score(), shifted.score()
    assert (round(kept.statistic, 4), round(kept.p_value or 0, 6), kept.drifted) == (
        1.2421, 0.871115, False)
    assert (round(moved.statistic, 4), moved.drifted) == (242.2511, True)


@pytest.mark.parametrize(("reference", "current"), [
    (normal(6, 1000), normal(7, 900, 0.2, 1.1)),
    (categorical(6, 1000, SHARES), categorical(7, 900, FLAT)),
])
def test_score_after_update_merge_and_state_is_the_pure_function(
        reference: list[object], current: list[object]) -> None:
    check_score_is_the_pure_function(ChiSquare(), chi_square_statistic, reference, current)
