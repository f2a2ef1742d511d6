"""Mergeable per-window states: histograms over frozen numeric bins and category counts.

Both are O(bins) in memory whatever the stream length, and ``merge`` is addition, so the state
of a window built by several consumers equals the state one consumer would have built.

>>> h = NumericHistogram([2.0, 4.0], lo=0.0, hi=6.0)
>>> h.update_raw([1, 3, None, 5, 7, "x"])
>>> h.counts.tolist(), h.missing, h.invalid, h.above
([1, 1, 2], 1, 1, 1)
>>> c = CategoryCounts(["KR", "US"])
>>> c.update_raw(["KR", "JP", None, 3])
>>> c.counts.tolist(), c.missing, c.unseen
([1, 0, 2], 1, 2)
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from detectors._base import STATE_VERSION, IncompatibleState, check_version

_NUMERIC_TYPES = {int, float, type(None)}
_CATEGORY_TYPES = {str, type(None)}
_COUNTABLE_TYPES = {str, int, float, type(None)}


class _Invalid:
    pass


INVALID: Any = _Invalid()


def to_category(value: object) -> Any:
    """Category key of a raw value: ``None`` when missing, :data:`INVALID` for lists and objects."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return INVALID


def numeric_array(values: list[Any]) -> tuple[np.ndarray, int]:
    """Values as floats with NaN for missing; also the number of values of the wrong type."""
    if set(map(type, values)) <= _NUMERIC_TYPES:
        return np.array(values, dtype=np.float64), 0
    out = np.full(len(values), np.nan)
    invalid = 0
    for i, v in enumerate(values):
        if v is None:
            continue
        if isinstance(v, int | float) and not isinstance(v, bool):
            out[i] = v
        else:
            invalid += 1
    return out, invalid


class NumericHistogram:
    """Counts over buckets ``(-inf, e1), [e1, e2), ..., [ek, +inf)`` plus range and missing."""

    kind = "numeric_histogram"

    def __init__(self, edges: list[float], lo: float, hi: float) -> None:
        self.edges = np.asarray(edges, dtype=np.float64)
        self.lo = lo
        self.hi = hi
        self.counts = np.zeros(len(edges) + 1, dtype=np.int64)
        self.missing = 0
        self.invalid = 0
        self.below = 0
        self.above = 0
        self.total = 0.0
        self.total_sq = 0.0

    @property
    def n(self) -> int:
        """Values counted in the buckets (present and of the right type)."""
        return int(self.counts.sum())

    def update(self, values: np.ndarray, invalid: int = 0) -> None:
        present = values[~np.isnan(values)]
        self.missing += len(values) - len(present) - invalid
        self.invalid += invalid
        if len(present) == 0:
            return
        self.counts += np.bincount(
            np.searchsorted(self.edges, present, side="right"), minlength=len(self.counts)
        )
        self.below += int(np.count_nonzero(present < self.lo))
        self.above += int(np.count_nonzero(present > self.hi))
        self.total += float(present.sum())
        self.total_sq += float(np.dot(present, present))

    def update_raw(self, values: list[Any]) -> None:
        arr, invalid = numeric_array(values)
        self.update(arr, invalid)

    def _check(self, other: NumericHistogram) -> None:
        same_range = np.array_equal([self.lo, self.hi], [other.lo, other.hi], equal_nan=True)
        if not same_range or not np.array_equal(self.edges, other.edges):
            raise IncompatibleState("numeric histograms over different bins")

    def merge(self, other: NumericHistogram) -> NumericHistogram:
        self._check(other)
        self.counts += other.counts
        self.missing += other.missing
        self.invalid += other.invalid
        self.below += other.below
        self.above += other.above
        self.total += other.total
        self.total_sq += other.total_sq
        return self

    def to_state(self) -> dict[str, Any]:
        return {"state_version": STATE_VERSION, "kind": self.kind,
                "counts": self.counts.tolist(), "missing": self.missing,
                "invalid": self.invalid, "below": self.below, "above": self.above,
                "sum": self.total, "sum_sq": self.total_sq}

    def load_state(self, state: dict[str, Any]) -> NumericHistogram:
        """Fill this empty histogram (built by its profile) from :meth:`to_state` output."""
        check_version(state, self.kind)
        counts = np.asarray(state["counts"], dtype=np.int64)
        if counts.shape != self.counts.shape:
            raise IncompatibleState("saved histogram has a different number of bins")
        self.counts = counts
        self.missing = int(state["missing"])
        self.invalid = int(state["invalid"])
        self.below = int(state["below"])
        self.above = int(state["above"])
        self.total = float(state["sum"])
        self.total_sq = float(state["sum_sq"])
        return self


class CategoryCounts:
    """Counts per known category; the last bucket holds every unseen category."""

    kind = "category_counts"

    def __init__(self, categories: list[str]) -> None:
        self.categories = list(categories)
        self._index = {c: i for i, c in enumerate(self.categories)}
        self.counts = np.zeros(len(self.categories) + 1, dtype=np.int64)
        self.missing = 0
        self.invalid = 0

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @property
    def unseen(self) -> int:
        return int(self.counts[-1])

    def update_raw(self, values: list[Any]) -> None:
        other = len(self.categories)
        missing_slot = other + 1
        invalid_slot = other + 2
        index = self._index
        kinds = set(map(type, values))
        if kinds <= _COUNTABLE_TYPES:
            # Count distinct values in C first. Values equal under == (1 and 1.0) share a
            # category key, so merging them is safe; booleans (True == 1, but "true" != "1")
            # and unhashable values take the loop below.
            counts = self.counts
            for value, k in Counter(values).items():
                if value is None:
                    self.missing += k
                else:
                    key = value if type(value) is str else to_category(value)
                    counts[index.get(key, other)] += k
            return
        if kinds <= _CATEGORY_TYPES:
            slots = [missing_slot if v is None else index.get(v, other) for v in values]
        else:
            slots = []
            for v in values:
                key = to_category(v)
                if key is None:
                    slots.append(missing_slot)
                elif key is INVALID:
                    slots.append(invalid_slot)
                else:
                    slots.append(index.get(key, other))
        binned = np.bincount(np.asarray(slots, dtype=np.int64), minlength=other + 3)
        self.counts += binned[: other + 1]
        self.missing += int(binned[missing_slot])
        self.invalid += int(binned[invalid_slot])

    def merge(self, other: CategoryCounts) -> CategoryCounts:
        if self.categories != other.categories:
            raise IncompatibleState("category counts over different vocabularies")
        self.counts += other.counts
        self.missing += other.missing
        self.invalid += other.invalid
        return self

    def to_state(self) -> dict[str, Any]:
        return {"state_version": STATE_VERSION, "kind": self.kind,
                "counts": self.counts.tolist(), "missing": self.missing, "invalid": self.invalid}

    def load_state(self, state: dict[str, Any]) -> CategoryCounts:
        check_version(state, self.kind)
        counts = np.asarray(state["counts"], dtype=np.int64)
        if counts.shape != self.counts.shape:
            raise IncompatibleState("saved counts have a different vocabulary size")
        self.counts = counts
        self.missing = int(state["missing"])
        self.invalid = int(state["invalid"])
        return self
