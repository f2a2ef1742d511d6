"""Reference profiles: what a feature looked like, frozen by ``fit`` (scikit-learn style).

A numeric profile keeps inner bin edges at reference quantiles (``bin_edges_``), the reference
range and the reference histogram; a categorical profile keeps the most frequent categories
(``categories_``) plus an "other" bucket. Both build empty, mergeable window states.

>>> p = NumericProfile(bins=4).fit([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
>>> p.bin_edges_, p.reference_counts_
([2.75, 4.5, 6.25], [2, 2, 2, 2])
>>> c = CategoricalProfile(max_categories=2).fit(["KR", "KR", "US", "JP", None])
>>> c.categories_, c.reference_counts_, c.missing_share_
(['KR', 'JP'], [2, 1, 1], 0.2)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from detectors._base import STATE_VERSION, NotFittedError, check_version
from detectors.histograms import INVALID, CategoryCounts, NumericHistogram, to_category


class NumericProfile:
    """Quantile bins of a numeric reference column."""

    kind = "numeric_profile"

    def __init__(self, bins: int = 10, resolution: int = 1) -> None:
        self.bins = bins
        self.resolution = resolution
        self.bin_edges_: list[float] | None = None
        self.coarse_edges_: list[float] = []
        self.std_: float = math.nan
        self.min_: float = math.nan
        self.max_: float = math.nan
        self.reference_counts_: list[int] = []
        self.missing_share_: float = 0.0
        self.n_: int = 0

    @property
    def fitted(self) -> bool:
        return self.bin_edges_ is not None

    def fit(self, values: Iterable[Any]) -> NumericProfile:
        raw = list(values)
        arr = np.array([v if _is_number(v) else np.nan for v in raw], dtype=np.float64)
        present = arr[~np.isnan(arr)]
        self.n_ = len(raw)
        self.missing_share_ = (len(raw) - len(present)) / len(raw) if raw else 0.0
        if len(present) == 0:
            self.bin_edges_ = []
            self.reference_counts_ = [0]
            return self
        lo, hi = present.min(), present.max()
        distinct = np.unique(present)
        levels = np.linspace(0, 1, self.bins * self.resolution + 1)[1:-1]
        if len(distinct) <= self.bins * self.resolution:
            # Few distinct values (a 0/1 flag, a rating): one bucket per value, so no value
            # hides in a neighbour's bucket however rare it is; PSI bins stay at data values.
            self.bin_edges_ = [float(x) for x in distinct[1:]]
            coarse = (distinct[1:] if len(distinct) <= self.bins + 1 else
                      np.quantile(present, levels[self.resolution - 1::self.resolution],
                                  method="higher"))
        else:
            qs = np.quantile(present, levels)
            self.bin_edges_ = [float(x) for x in np.unique(qs) if lo < x <= hi]
            coarse = qs[self.resolution - 1::self.resolution]
        self.coarse_edges_ = [float(x) for x in np.unique(coarse) if lo < x <= hi]
        self.min_, self.max_ = float(lo), float(hi)
        self.std_ = float(np.std(present))
        hist = self.new_state()
        hist.update(present)
        self.reference_counts_ = [int(x) for x in hist.counts]
        return self

    def coarse_counts(self, counts: Iterable[int]) -> list[int]:
        """Counts over the fine bins summed into the ``bins`` coarse quantile bins (for PSI).

        Coarse edges are a subset of the fine edges, so the sums are exact.

        >>> p = NumericProfile(bins=2, resolution=2).fit([1, 2, 3, 4, 5, 6, 7, 8])
        >>> p.bin_edges_, p.coarse_edges_, p.coarse_counts(p.reference_counts_)
        ([2.75, 4.5, 6.25], [4.5], [4, 4])
        """
        if self.bin_edges_ is None:
            raise NotFittedError("NumericProfile is not fitted")
        lower = np.asarray([-np.inf, *self.bin_edges_])
        slots = np.searchsorted(np.asarray(self.coarse_edges_), lower, side="right")
        arr = np.asarray(list(counts), dtype=np.int64)
        return [int(x) for x in np.bincount(slots, weights=arr,
                                            minlength=len(self.coarse_edges_) + 1)]

    def new_state(self) -> NumericHistogram:
        if self.bin_edges_ is None:
            raise NotFittedError("NumericProfile.fit must run before new_state")
        return NumericHistogram(self.bin_edges_, self.min_, self.max_)

    def to_state(self) -> dict[str, Any]:
        if self.bin_edges_ is None:
            raise NotFittedError("NumericProfile is not fitted")
        return {"state_version": STATE_VERSION, "kind": self.kind, "bins": self.bins,
                "resolution": self.resolution, "coarse_edges": self.coarse_edges_,
                "std": _json_float(self.std_),
                "bin_edges": self.bin_edges_, "min": _json_float(self.min_),
                "max": _json_float(self.max_), "reference_counts": self.reference_counts_,
                "missing_share": self.missing_share_, "n": self.n_}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> NumericProfile:
        check_version(state, cls.kind)
        profile = cls(bins=int(state["bins"]), resolution=int(state.get("resolution", 1)))
        profile.bin_edges_ = [float(x) for x in state["bin_edges"]]
        profile.coarse_edges_ = [float(x) for x in state.get("coarse_edges", profile.bin_edges_)]
        profile.std_ = _float_or_nan(state.get("std"))
        profile.min_ = _float_or_nan(state["min"])
        profile.max_ = _float_or_nan(state["max"])
        profile.reference_counts_ = [int(x) for x in state["reference_counts"]]
        profile.missing_share_ = float(state["missing_share"])
        profile.n_ = int(state["n"])
        return profile


class CategoricalProfile:
    """The most frequent reference categories plus an "other" bucket."""

    kind = "categorical_profile"

    def __init__(self, max_categories: int = 50) -> None:
        self.max_categories = max_categories
        self.categories_: list[str] | None = None
        self.reference_counts_: list[int] = []
        self.missing_share_: float = 0.0
        self.n_: int = 0

    @property
    def fitted(self) -> bool:
        return self.categories_ is not None

    def fit(self, values: Iterable[Any]) -> CategoricalProfile:
        raw = list(values)
        cats = [to_category(v) for v in raw]
        counts = Counter(c for c in cats if c is not None and c is not INVALID)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        self.categories_ = [k for k, _ in ranked[: self.max_categories]]
        other = sum(v for _, v in ranked[self.max_categories:])
        self.reference_counts_ = [counts[k] for k in self.categories_] + [other]
        self.n_ = len(raw)
        self.missing_share_ = (len(raw) - sum(counts.values())) / len(raw) if raw else 0.0
        return self

    def new_state(self) -> CategoryCounts:
        if self.categories_ is None:
            raise NotFittedError("CategoricalProfile.fit must run before new_state")
        return CategoryCounts(self.categories_)

    def to_state(self) -> dict[str, Any]:
        if self.categories_ is None:
            raise NotFittedError("CategoricalProfile is not fitted")
        return {"state_version": STATE_VERSION, "kind": self.kind,
                "max_categories": self.max_categories, "categories": self.categories_,
                "reference_counts": self.reference_counts_,
                "missing_share": self.missing_share_, "n": self.n_}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> CategoricalProfile:
        check_version(state, cls.kind)
        profile = cls(max_categories=int(state["max_categories"]))
        profile.categories_ = [str(x) for x in state["categories"]]
        profile.reference_counts_ = [int(x) for x in state["reference_counts"]]
        profile.missing_share_ = float(state["missing_share"])
        profile.n_ = int(state["n"])
        return profile


Profile = NumericProfile | CategoricalProfile


def profile_from_state(state: dict[str, Any]) -> Profile:
    if state.get("kind") == CategoricalProfile.kind:
        return CategoricalProfile.from_state(state)
    return NumericProfile.from_state(state)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else value


def _float_or_nan(value: float | None) -> float:
    return math.nan if value is None else float(value)
