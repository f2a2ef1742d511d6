"""The per-slice mixture SPRT: small slices found over windows, false alarms within alpha."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import integrate

from detectors._base import DetectorError, StateVersionError
from detectors.slices import MixtureSPRT, log_mixture_lr, slice_counts, worst_slices

OTHERS = [f"c{i}" for i in range(9)]


def hot_window(rng: np.random.Generator, n: int = 1000) -> tuple[dict[str, list[str]],
                                                                  np.ndarray]:
    """2% of rows in country ``IS`` failing at 0.25; the rest at 0.10."""
    hot = rng.random(n) < 0.02
    country = np.where(hot, "IS", rng.choice(OTHERS, n))
    device = rng.choice(["ios", "android", "web"], n)
    bad = (rng.random(n) < np.where(hot, 0.25, 0.10)).astype(np.int64)
    return {"country": country.tolist(), "device": device.tolist()}, bad


def bound(k: int, alpha: float) -> float:
    """Ever-alarm count of ``k`` null slices: ``k alpha`` plus three standard errors."""
    return k * alpha + 3 * math.sqrt(k * alpha * (1 - alpha))


def test_small_slice_is_found_over_windows_but_never_in_one() -> None:
    rng = np.random.default_rng(1)
    test = MixtureSPRT()
    first = None
    for w in range(1, 51):
        cols, bad = hot_window(rng)
        counts = slice_counts(cols, bad)
        assert counts["country=IS"][0] < 30  # below min_support: one window never tests it
        assert "country=IS" not in {r.slice for r in worst_slices(cols, bad)}
        test.update(counts, (len(bad), int(bad.sum())))
        if first is None and test.alarms():
            first = (w, test.alarms())
    assert first == (4, ["country=IS"])
    ev = test.evidence("country=IS")
    assert (ev.alarmed_at, ev.n, ev.bad, ev.last_seen) == (4, 1011, 265, 50)
    assert ev.p_value < 1e-30
    assert test.alarms()[0] == "country=IS"
    assert all(key.startswith("country=IS") for key in test.alarms())  # no false alarm


@pytest.mark.parametrize(("delta", "expected"), [(0.02, 0), (0.0, 1)])
def test_drift_free_alarms_stay_within_alpha(delta: float, expected: int) -> None:
    """40 equal slices over 50 windows; ``delta = 0`` is the null's worst case."""
    rng = np.random.default_rng(11)
    test = MixtureSPRT(delta=delta, alpha=0.05)
    for _ in range(50):
        seg = rng.integers(0, 40, 1000)
        bad = (rng.random(1000) < 0.1).astype(np.int64)
        test.update(slice_counts({"segment": [f"s{i:02d}" for i in seg]}, bad),
                    (1000, int(bad.sum())))
    assert len(test.statistics()) == 40
    assert len(test.alarms()) == expected
    assert len(test.alarms()) <= bound(40, 0.05)


@pytest.mark.parametrize(("rate", "rows", "expected"),
                         [(0.10, 25, 25), (0.02, 25, 17), (0.005, 200, 2)])
def test_ever_alarm_rate_at_the_null_boundary(rate: float, rows: int, expected: int) -> None:
    """Slices exactly ``delta`` worse than their rest, 40 windows: at most alpha ever alarm."""
    rng = np.random.default_rng(5)
    k = 1000
    test = MixtureSPRT(delta=0.02, alpha=0.05, max_tracked=k)
    keys = [f"s={i}" for i in range(k)]
    for _ in range(40):
        n = rng.poisson(rows, k)
        bad = rng.binomial(n, rate + 0.02)
        rest_bad = rng.binomial(1000, rate, k)
        test.update({key: (int(a), int(b)) for key, a, b in zip(keys, n, bad, strict=True)},
                    {key: (1000, int(b)) for key, b in zip(keys, rest_bad, strict=True)})
    assert len(test.alarms()) == expected
    assert len(test.alarms()) <= k * 0.05  # under alpha itself, not only within the noise


@pytest.mark.parametrize(("counts", "delta", "tau"), [
    ((200, 50, 9800, 980), 0.02, 0.1), ((50, 5, 1000, 100), 0.0, 0.05),
    ((80, 20, 500, 40), 0.05, 0.2), ((300, 10, 3000, 300), 0.01, 0.1)])
def test_log_lr_is_the_half_normal_mixture(counts: tuple[int, int, int, int], delta: float,
                                           tau: float) -> None:
    n, bad, rest_n, rest_bad = counts
    base = (bad + rest_bad - n * delta) / (n + rest_n)
    info = 1 / ((base + delta) * (1 - base - delta) / n + base * (1 - base) / rest_n)
    x = (bad / n - rest_bad / rest_n - delta) * info

    def mixed(u: float) -> float:
        density = 2 / (tau * math.sqrt(2 * math.pi)) * math.exp(-u * u / (2 * tau * tau))
        return math.exp(u * x - u * u * info / 2) * density

    value, _ = integrate.quad(mixed, 0, np.inf)
    assert log_mixture_lr(*counts, delta=delta, tau=tau) == pytest.approx(math.log(value),
                                                                          rel=1e-9, abs=1e-9)


def test_state_round_trip_continues_identically() -> None:
    rng = np.random.default_rng(2)
    windows = [hot_window(rng, 500) for _ in range(12)]
    whole = MixtureSPRT(max_tracked=20)
    for cols, bad in windows:
        whole.update(slice_counts(cols, bad), (len(bad), int(bad.sum())))
    first = MixtureSPRT(max_tracked=20)
    for cols, bad in windows[:6]:
        first.update(slice_counts(cols, bad), (len(bad), int(bad.sum())))
    state = json.loads(json.dumps(first.to_state()))
    resumed = MixtureSPRT.from_state(state)
    assert resumed.to_state() == first.to_state()
    for cols, bad in windows[6:]:
        resumed.update(slice_counts(cols, bad), (len(bad), int(bad.sum())))
    assert resumed.to_state() == whole.to_state()
    assert resumed.statistics() == whole.statistics()
    assert resumed.alarms() == whole.alarms()
    with pytest.raises(StateVersionError):
        MixtureSPRT.from_state({**state, "state_version": 99})
    with pytest.raises(StateVersionError):
        MixtureSPRT.from_state({**state, "kind": "cusum"})


def test_least_recently_seen_slices_are_evicted() -> None:
    test = MixtureSPRT(max_tracked=2)
    test.update({"a=1": (10, 1), "a=2": (20, 2)}, (100, 10))
    test.update({"a=3": (5, 1)}, (100, 10))
    assert sorted(s.slice for s in test.statistics()) == ["a=2", "a=3"]
    test.update({"a=2": (5, 1), "a=4": (1, 0), "a=5": (9, 0)}, (100, 10))
    assert sorted(s.slice for s in test.statistics()) == ["a=2", "a=5"]
    with pytest.raises(KeyError):
        test.evidence("a=1")


def test_settings_and_counts_are_checked() -> None:
    assert MixtureSPRT().get_params() == {"delta": 0.02, "alpha": 0.05, "tau": 0.1, "min_n": 30,
                                          "min_expected": 5.0, "max_tracked": 10_000}
    for bad in ({"alpha": 0.0}, {"tau": 0.0}, {"delta": -0.1}, {"min_n": 0},
                {"max_tracked": 0}, {"min_expected": -1.0}):
        with pytest.raises(DetectorError):
            MixtureSPRT(**bad)
    with pytest.raises(DetectorError):
        MixtureSPRT().update({"a=1": (10, 11)}, (100, 20))
    with pytest.raises(DetectorError):
        MixtureSPRT().update({"a=1": (10, 5)}, (100, 2))
