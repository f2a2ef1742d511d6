from __future__ import annotations

import numpy as np
import pytest

from detectors._base import DetectorError
from detectors.multivariate.domain_classifier import DomainClassifierDrift, domain_classifier_test


def test_clear_shift_is_separable_and_significant() -> None:
    rng = np.random.default_rng(21)
    ref, cur = rng.normal(size=(300, 5)), rng.normal(size=(300, 5)) + 1.0
    auc, p = domain_classifier_test(ref, cur, seed=3, device="cpu")
    assert auc > 0.8
    assert p == 1 / 21


def test_no_shift_is_a_coin_flip() -> None:
    rng = np.random.default_rng(22)
    auc, p = domain_classifier_test(rng.normal(size=(300, 5)), rng.normal(size=(300, 5)),
                                    seed=3, device="cpu")
    assert auc < 0.6
    assert p > 0.05


def test_a_nonlinear_change_is_found() -> None:
    rng = np.random.default_rng(23)
    ref = rng.normal(size=(400, 4))
    cur = rng.normal(size=(400, 4))
    cur[:, 0] = np.abs(cur[:, 0]) * np.sign(cur[:, 1])  # same marginals, new dependence
    auc, p = domain_classifier_test(ref, cur, seed=1, device="cpu")
    assert auc > 0.7
    assert p == 1 / 21


def test_unequal_sample_sizes_stay_calibrated() -> None:
    rng = np.random.default_rng(24)
    ref = rng.normal(size=(900, 5))
    _, p_same = domain_classifier_test(ref, rng.normal(size=(90, 5)), seed=2, device="cpu")
    _, p_moved = domain_classifier_test(ref, rng.normal(size=(90, 5)) + 1.0, seed=2, device="cpu")
    assert (p_same > 0.05, p_moved < 0.05) == (True, True)


def test_inputs_are_standardised_by_the_reference() -> None:
    rng = np.random.default_rng(25)
    ref, cur = rng.normal(size=(200, 3)), rng.normal(size=(200, 3)) + np.array([0.8, 0, 0])
    scale = np.array([1e4, 1.0, 1e-4])
    plain = domain_classifier_test(ref, cur, seed=5, device="cpu")
    scaled = domain_classifier_test(ref * scale + 7.0, cur * scale + 7.0, seed=5, device="cpu")
    assert scaled[0] == pytest.approx(plain[0], abs=0.01)
    assert scaled[1] == plain[1]


def test_the_auc_floor_silences_tiny_but_significant_effects() -> None:
    rng = np.random.default_rng(27)
    det = DomainClassifierDrift(sample_size=4000, device="cpu")
    det.fit(rng.normal(size=(4000, 5)))
    det.update(rng.normal(size=(4000, 5)) + 0.06)
    r = det.score()
    assert r.p_value is not None
    assert r.p_value < 0.05
    assert 0.5 < r.statistic < det.auc_floor
    assert r.drifted is False
    assert det._decide(r.statistic, r.p_value) is False
    det.auc_floor = 0.5
    assert det._decide(r.statistic, r.p_value) is True


def test_rejects_bad_parameters() -> None:
    ref = np.zeros((10, 2))
    with pytest.raises(DetectorError, match="test_fraction"):
        domain_classifier_test(ref, ref, test_fraction=1.0)
