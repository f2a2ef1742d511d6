"""Shared pieces of the count-based drift tests: seeded data, independent counts, Evidently."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import reduce
from typing import Any

import numpy as np
import pandas as pd
from evidently.legacy.core import ColumnType

from detectors.drift._base import HistogramDriftDetector, Statistic
from detectors.profile import CategoricalProfile

CATEGORIES = ["a", "b", "c", "d", "e"]


def categorical(seed: int, n: int, shares: Sequence[float],
                categories: Sequence[str] = CATEGORIES) -> list[str]:
    """``n`` seeded draws of ``categories`` with the given shares, as plain strings."""
    rng = np.random.default_rng(seed)
    return [str(x) for x in rng.choice(list(categories), n, p=list(shares))]


def normal(seed: int, n: int, loc: float = 0.0, scale: float = 1.0) -> list[float]:
    return [float(x) for x in np.random.default_rng(seed).normal(loc, scale, n)]


def bin_counts(detector: HistogramDriftDetector, values: Sequence[Any]) -> np.ndarray:
    """Counts of ``values`` over the detector's frozen bins, computed without its window state."""
    profile = detector.profile_
    if isinstance(profile, CategoricalProfile):
        assert profile.categories_ is not None
        index = {c: i for i, c in enumerate(profile.categories_)}
        counts = np.zeros(len(index) + 1, dtype=np.int64)
        for value in values:
            counts[index.get(value, len(index))] += 1
        return counts
    assert profile is not None
    assert profile.bin_edges_ is not None
    slots = np.searchsorted(profile.bin_edges_, np.asarray(values), side="right")
    return np.bincount(slots, minlength=len(profile.bin_edges_) + 1)


def merged(detector: HistogramDriftDetector, reference: Sequence[Any],
           current: Sequence[Any], parts: int = 3) -> HistogramDriftDetector:
    """A detector whose window is built by ``parts`` consumers, merged, then saved and restored."""
    cls = type(detector)
    base = detector.clone().fit(reference)
    consumers = [cls.from_state(base.to_state()) for _ in range(parts)]
    for consumer, chunk in zip(consumers, np.array_split(np.arange(len(current)), parts),
                               strict=True):
        consumer.update([current[i] for i in chunk])
    whole = reduce(lambda a, b: a.merge(b), consumers)
    return cls.from_state(whole.to_state())


def check_score_is_the_pure_function(detector: HistogramDriftDetector,
                                     pure: Callable[[np.ndarray, np.ndarray], Statistic],
                                     reference: Sequence[Any], current: Sequence[Any]) -> None:
    """fit / update in parts / merge / state round trip scores exactly the full counts."""
    det = merged(detector, reference, current)
    assert det.profile_ is not None
    ref_counts = bin_counts(det, reference)
    assert det.profile_.reference_counts_ == ref_counts.tolist()
    statistic, p_value = pure(ref_counts, bin_counts(det, current))
    result = det.score()
    assert (result.statistic, result.p_value) == (statistic, p_value)
    assert (result.n_reference, result.n_current) == (len(reference), len(current))
    if det.p_value_based:
        assert p_value is not None
        assert result.drifted == (p_value < det.threshold)
    else:
        assert result.drifted == (statistic >= det.threshold)


def evidently(test: Callable[..., Any], reference: Sequence[Any], current: Sequence[Any],
              threshold: float = 0.1) -> float:
    """Evidently's own implementation of a categorical stattest on the same values."""
    value = test(pd.Series(list(reference)), pd.Series(list(current)),
                 ColumnType.Categorical, threshold)[0]
    return float(value)


SHARES = [0.4, 0.25, 0.15, 0.12, 0.08]
FLAT = [0.2, 0.2, 0.2, 0.2, 0.2]


def categorical_cases() -> list[tuple[list[str], list[str]]]:
    """Seeded (reference, current) pairs on which Evidently's value counts equal our bins.

    The same mix; a shifted mix; a window missing a reference category (a zero on the current
    side); a reference category seen once in 20,001 values (so Evidently's floor is smallest / 1e6)
    with one category unseen in the reference (a zero on the reference side; at most one, since
    our "other" bucket pools unseen categories where Evidently keeps each apart).
    """
    return [
        (categorical(1, 1500, SHARES), categorical(2, 600, SHARES)),
        (categorical(3, 1500, SHARES), categorical(4, 600, FLAT)),
        (categorical(5, 1500, SHARES), categorical(6, 600, [0.5, 0.2, 0.2, 0.1, 0.0])),
        ([*categorical(7, 20000, SHARES), "f"],
         [*categorical(8, 800, [0.5, 0.2, 0.2, 0.1, 0.0]), "g", "g", "g"]),
    ]
