"""Seeded streams with known change points, and runners for ours and River's detectors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np


class Detector(Protocol):
    @property
    def drift_detected(self) -> bool: ...

    def update(self, x: Any) -> None: ...


def bernoulli(rates: Sequence[tuple[int, float]], seed: int) -> list[int]:
    """0/1 errors: ``rates`` is ``[(length, error rate), ...]`` in order."""
    rng = np.random.default_rng(seed)
    return [int(v) for n, p in rates for v in rng.random(n) < p]


def bernoulli_ramp(seed: int, start: int = 1000, length: int = 1000, n: int = 3000,
                   low: float = 0.1, high: float = 0.5) -> list[int]:
    """Gradual drift: the error rate climbs linearly from ``low`` to ``high``."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    p = low + (high - low) * np.clip((t - start) / length, 0.0, 1.0)
    return [int(v) for v in rng.random(n) < p]


def gaussian(means: Sequence[tuple[int, float]], seed: int, sd: float = 1.0) -> list[float]:
    """Real values: ``means`` is ``[(length, mean), ...]`` in order."""
    rng = np.random.default_rng(seed)
    return [float(v) for n, m in means for v in rng.normal(m, sd, n)]


def gaussian_ramp(seed: int, start: int = 500, length: int = 1000, n: int = 2000,
                  shift: float = 2.0) -> list[float]:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return [float(v) for v in rng.normal(shift * np.clip((t - start) / length, 0, 1), 1.0)]


def alternating(seed: int, n: int = 20_000, every: int = 2500,
                rates: tuple[float, float] = (0.1, 0.35)) -> list[int]:
    """Many changes: the error rate switches between two levels every ``every`` updates."""
    return bernoulli([(every, rates[i % 2]) for i in range(n // every)], seed)


def binary_streams(seed: int) -> dict[str, list[int]]:
    return {"step_0.1_0.4_at_1000": bernoulli([(1000, 0.1), (2000, 0.4)], seed),
            "ramp_0.1_0.5_from_1000": bernoulli_ramp(seed),
            "down_0.4_0.1_at_1000": bernoulli([(1000, 0.4), (2000, 0.1)], seed),
            "alternating_20k": alternating(seed),
            "stable_0.2": bernoulli([(5000, 0.2)], seed)}


def real_streams(seed: int) -> dict[str, list[float]]:
    return {"mean_0_1_at_500": gaussian([(500, 0.0), (1000, 1.0)], seed),
            "ramp_0_2_from_500": gaussian_ramp(seed),
            "shifts_20k": gaussian([(2000, float(m)) for m in (0, 1, -0.5, 0.5, 2, 0, 1, 3,
                                                               0, -1)], seed, sd=1.0),
            "variance_1_3_at_800": [float(v) for v in np.concatenate([
                np.random.default_rng(seed).normal(0, 1, 800),
                np.random.default_rng(seed + 1000).normal(0, 3, 1200)])]}


def indices(det: Detector, stream: Sequence[Any]) -> list[int]:
    """Every update index where ``det`` detected a change."""
    found = []
    for i, x in enumerate(stream):
        det.update(x)
        if det.drift_detected:
            found.append(i)
    return found


def flags(det: Any, stream: Sequence[Any]) -> list[tuple[bool, bool]]:
    """``(drift, warning)`` after every update."""
    out = []
    for x in stream:
        det.update(x)
        out.append((bool(det.drift_detected), bool(getattr(det, "warning_detected", False))))
    return out


def river_drift() -> Any:
    """River's ``drift`` module (parity tests skip without River 0.26)."""
    import pytest

    return pytest.importorskip("river.drift")


def river_doc_binary() -> list[int]:
    """The stream of River's docstrings for DDM, EDDM, HDDMA and HDDMW."""
    import random

    rng = random.Random(42)
    return rng.choices([0, 1], k=1000) + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])


def river_doc_real() -> list[int]:
    """The stream of River's docstrings for ADWIN, PageHinkley and KSWIN."""
    import random

    rng = random.Random(12345)
    return rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)


def doc_events(det: Any, stream: Sequence[Any]) -> list[str]:
    """What River's docstring loops print: the first warning after each change, each change."""
    events, print_warning = [], True
    for i, x in enumerate(stream):
        det.update(x)
        if getattr(det, "warning_detected", False) and print_warning:
            events.append(f"warning {i}")
            print_warning = False
        if det.drift_detected:
            events.append(f"change {i}")
            print_warning = True
    return events


def seeded_streams(kind: str, seeds: Sequence[int] = (0, 1, 2)) -> list[tuple[str, list[Any]]]:
    """``(id, stream)`` for parity tests: binary streams, plus real ones when ``kind`` is real."""
    out: list[tuple[str, list[Any]]] = []
    for seed in seeds:
        streams: dict[str, list[Any]] = dict(binary_streams(seed))
        if kind == "real":
            streams.update(real_streams(seed))
        out += [(f"{name}-seed{seed}", s) for name, s in streams.items()]
        out.append((f"bools-seed{seed}", [bool(v) for v in streams["step_0.1_0.4_at_1000"]]))
    return out


def unit_stream(seed: int) -> list[float]:
    """Values in [0, 1] (e.g. a per-event loss): Beta(2, 8), then Beta(4, 6) from update 1000."""
    rng = np.random.default_rng(seed)
    return [float(v) for v in np.concatenate([rng.beta(2, 8, 1000), rng.beta(4, 6, 1000)])]
