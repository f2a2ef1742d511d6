"""The mixture SPRT: its closed form, its false-alarm guarantee, exact detection, saved state."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import integrate, stats

from detectors._base import DetectorError, StateVersionError
from detectors.kpi import KpiState, MixtureSPRT, always_valid_p_values
from detectors.kpi.sequential import log_mixture_lr

ALPHA = 0.05
PER_WINDOW = 5000


def _binomial_windows(rng: np.random.Generator, p: np.ndarray | float,
                      shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Window means and sample variances (ddof=1) of 0/1 clicks, ``PER_WINDOW`` per window."""
    mean = rng.binomial(PER_WINDOW, p, size=shape) / PER_WINDOW
    return mean, mean * (1 - mean) * PER_WINDOW / (PER_WINDOW - 1)


@pytest.mark.parametrize("direction", ["down", "up", "both"])
@pytest.mark.parametrize("s", [-40.0, 0.0, 25.0])
def test_mixture_ratio_matches_numerical_integration(direction: str, s: float) -> None:
    n, sigma2, tau, margin = 400, 2.0, 0.3, 0.05
    sigma = math.sqrt(sigma2)

    def lr(delta: float, centre_shift: float) -> float:  # N(c + delta) vs N(c), c = baseline +-
        sc = s - n * centre_shift
        return math.exp(delta * sc / sigma2 - n * delta * delta / (2 * sigma2))

    def mix(lo: float, hi: float, centre_shift: float) -> float:
        f = lambda d: 2 * stats.norm.pdf(d, 0, tau) * lr(d, centre_shift)  # noqa: E731
        return float(integrate.quad(f, lo, hi, epsabs=0, epsrel=1e-10, limit=200)[0])

    down, up = mix(-10 * sigma, 0, -margin), mix(0, 10 * sigma, margin)
    expected = {"down": down, "up": up, "both": (down + up) / 2}[direction]
    got = log_mixture_lr(n, s, 0.0, tau=tau, direction=direction, margin=margin,
                         baseline_var=sigma2)
    assert float(got) == pytest.approx(math.log(expected), rel=1e-7, abs=1e-9)


def test_two_sided_ratio_is_johari_pekelis_walsh() -> None:
    n, sigma2, tau, mean_shift = 1000, 0.0475, 0.005, -0.004
    jpw = math.sqrt(sigma2 / (sigma2 + n * tau**2)) * math.exp(
        n**2 * tau**2 * mean_shift**2 / (2 * sigma2 * (sigma2 + n * tau**2)))
    got = log_mixture_lr(n, n * mean_shift, 0.0, tau=tau, direction="both", baseline_var=sigma2)
    assert float(got) == pytest.approx(math.log(jpw), rel=1e-12)


@pytest.mark.parametrize("direction", ["down", "up", "both"])
def test_false_alarms_over_500_drift_free_streams_stay_within_alpha(direction: str) -> None:
    mean, var = _binomial_windows(np.random.default_rng(11), 0.05, (500, 50))
    p = always_valid_p_values(PER_WINDOW, mean, var, baseline=0.05, direction=direction)
    ever = float((p[:, -1] < ALPHA).mean())
    naive = stats.norm.cdf((mean - 0.05) / np.sqrt(0.05 * 0.95 / PER_WINDOW))
    naive_ever = float((naive < ALPHA).any(axis=1).mean())
    print(f"{direction}: mSPRT ever alarms on {ever:.3f}, naive repeated z-test {naive_ever:.3f}")
    assert ever <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / 500)
    assert naive_ever > 0.5  # the repeated fixed-sample test inflates; the mSPRT does not


def _ctr_window(rng: np.random.Generator, p: float) -> KpiState:
    state = KpiState("ctr", "click")
    state.update([{"click": 1} if c else {} for c in rng.random(PER_WINDOW) < p])
    return state


def test_ctr_drop_at_window_10_alarms_at_an_exact_window() -> None:
    rng = np.random.default_rng(0)  # seed 8 of 0..11 false-alarms at window 1 (FAR ~ 1.4%)
    test = MixtureSPRT(baseline=0.05)
    p_values = []
    for w in range(20):
        test.update_state(_ctr_window(rng, 0.05 if w < 10 else 0.04))
        p_values.append(test.p_value)
    assert test.first_alarm_window == 12
    assert min(p_values[:10]) >= ALPHA  # never before the change
    assert all(p < ALPHA for p in p_values[12:])  # and it keeps alarming until reset
    assert test.alarm
    assert test.shift is not None
    assert test.shift < 0
    test.reset()
    assert test.to_state() == MixtureSPRT(baseline=0.05).to_state()


def test_from_reference_uses_its_value_variance_and_margin() -> None:
    rng = np.random.default_rng(0)
    reference = _ctr_window(rng, 0.05)
    for _ in range(9):
        reference.merge(_ctr_window(rng, 0.05))
    test = MixtureSPRT.from_reference(reference)
    n, mean, var = reference.moments() or (0, 0.0, 0.0)
    assert (test.baseline, test.baseline_var) == (mean, var)
    assert test.margin == pytest.approx(3 * math.sqrt(var / n))
    alarms = []
    for w in range(25):
        test.update_state(_ctr_window(rng, 0.05 if w < 10 else 0.04))
        alarms.append(test.alarm)
    assert test.first_alarm_window == 19  # later than with the exact baseline: the margin
    assert not any(alarms[:19])


def test_class_equals_the_vectorised_p_values() -> None:
    rng = np.random.default_rng(8)
    p = np.r_[np.full(8, 0.05), np.full(8, 0.055)]
    mean, var = _binomial_windows(rng, p, (16,))
    sizes = np.r_[np.full(8, PER_WINDOW), np.full(8, PER_WINDOW)]
    for direction in ("down", "up", "both"):
        test = MixtureSPRT(0.05, direction=direction, margin=0.001, tau=0.004)
        seen = []
        for n, m, v in zip(sizes, mean, var, strict=True):
            test.update_window(int(n), float(m), float(v))
            seen.append(test.p_value)
        vec = always_valid_p_values(sizes, mean, var, baseline=0.05, direction=direction,
                                    margin=0.001, tau=0.004)
        assert seen == pytest.approx(vec.tolist(), rel=1e-12)


def test_directions() -> None:
    rng = np.random.default_rng(9)
    rise, var = _binomial_windows(rng, 0.06, (10,))
    for direction, alarms in (("down", False), ("up", True), ("both", True)):
        test = MixtureSPRT(0.05, direction=direction)
        for m, v in zip(rise, var, strict=True):
            test.update_window(PER_WINDOW, float(m), float(v))
        assert test.alarm is alarms, direction


def test_state_round_trip_continues_identically() -> None:
    rng = np.random.default_rng(10)
    mean, var = _binomial_windows(rng, np.r_[np.full(10, 0.05), np.full(10, 0.043)], (20,))
    a = MixtureSPRT(0.05, direction="both", baseline_var=0.0475, margin=0.0005)
    for m, v in zip(mean[:12], var[:12], strict=True):
        a.update_window(PER_WINDOW, float(m), float(v))
    b = MixtureSPRT.from_state(json.loads(json.dumps(a.to_state())))
    assert b.to_state() == a.to_state()
    for m, v in zip(mean[12:], var[12:], strict=True):
        a.update_window(PER_WINDOW, float(m), float(v))
        b.update_window(PER_WINDOW, float(m), float(v))
        assert b.to_state() == a.to_state()
    assert a.first_alarm_window is not None
    with pytest.raises(StateVersionError):
        MixtureSPRT.from_state({**a.to_state(), "kind": "kpi_window"})


def test_unknown_windows_count_but_add_nothing() -> None:
    test = MixtureSPRT(0.05)
    test.update_state(KpiState("ctr", "click"))  # no click ever arrived
    assert (test.n_windows, test.n, test.p_value) == (1, 0, 1.0)


def test_no_spread_gives_no_evidence_without_a_baseline_variance() -> None:
    test = MixtureSPRT(0.05)
    test.update_window(1000, 0.0, 0.0)  # pooled variance 0: the p-value cannot move
    assert test.p_value == 1.0
    known = MixtureSPRT(0.05, baseline_var=0.0475)
    known.update_window(1000, 0.0, 0.0)
    assert known.alarm


def test_settings_are_checked() -> None:
    for bad in ({"direction": "sideways"}, {"alpha": 0.0}, {"tau": -1.0}, {"margin": -0.1},
                {"baseline_var": 0.0}):
        with pytest.raises(DetectorError):
            MixtureSPRT(0.05, **bad)
    with pytest.raises(DetectorError):
        MixtureSPRT(0.0)  # tau must be given for a zero baseline
    with pytest.raises(DetectorError):
        MixtureSPRT(0.05).update_window(10, math.nan, 0.1)
    with pytest.raises(DetectorError):
        MixtureSPRT.from_reference(KpiState("ctr", "click"))
    assert MixtureSPRT(0.05).get_params() == {
        "baseline": 0.05, "alpha": 0.05, "tau": None, "direction": "down", "margin": 0.0,
        "baseline_var": None, "min_n": 30}
