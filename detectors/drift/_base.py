"""What every drift detector shares: parameters, fitting, mergeable state, scoring.

Two kinds of state, both bounded and mergeable:

- :class:`HistogramDriftDetector` counts the window into bins frozen from the reference (quantile
  bins for numbers, a top-k vocabulary plus "other" for categories). Its test is exact for the
  whole window.
- :class:`SampleDriftDetector` keeps a bottom-k uniform sample of the window
  (:class:`~detectors.sample.ValueSample`). Its test is exact while the window holds at most
  ``sample_size`` values and otherwise runs on a uniform random sample of that size: the p-value
  stays valid at the sample size, and the statistic is within the DKW bound of the whole
  window's (``sqrt(ln(2/0.05) / (2 k))`` = 0.043 for k = 1000 at 95%); when the reference, too,
  was larger than ``sample_size``, add its share (0.094 in all at 95%, 2.5% to each side).

Each method module subclasses one of them and supplies ``statistic(reference, current)``, a pure
function returning ``(statistic, p_value or None)``. ``p_value_based`` methods drift when
``p_value < threshold``, the others when ``statistic >= threshold``.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Self

import numpy as np

from detectors._base import (
    STATE_VERSION,
    DetectorError,
    IncompatibleState,
    NotFittedError,
    check_version,
)
from detectors.histograms import CategoryCounts, NumericHistogram, numeric_array
from detectors.profile import CategoricalProfile, NumericProfile, Profile, profile_from_state
from detectors.results import DriftResult
from detectors.sample import ValueSample, counter_priorities

Statistic = tuple[float, float | None]


class DriftDetector(ABC):
    """Base of every univariate drift detector (fit, update, merge, score, state)."""

    method: ClassVar[str]
    p_value_based: ClassVar[bool]
    input: ClassVar[str]
    threshold: float

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, read from the signature: plain JSON a database can store."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def clone(self) -> Self:
        """A new, unfitted detector with the same parameters."""
        return type(self)(**self.get_params())

    @staticmethod
    @abstractmethod
    def statistic(reference: Any, current: Any) -> Statistic:
        """The test on raw inputs (counts or values); pure."""

    @abstractmethod
    def fit(self, reference: Iterable[Any]) -> Self: ...

    @abstractmethod
    def update(self, values: Iterable[Any], priorities: np.ndarray | None = None) -> None: ...

    @abstractmethod
    def merge(self, other: Self) -> Self: ...

    @abstractmethod
    def _inputs(self) -> tuple[Any, Any, int, int]: ...

    @property
    @abstractmethod
    def fitted(self) -> bool: ...

    def decide(self, statistic: float, p_value: float | None) -> bool:
        if self.p_value_based:
            return p_value is not None and p_value < self.threshold
        return statistic >= self.threshold

    def score(self) -> DriftResult:
        """The test of the window so far against the reference; does not change the state."""
        if not self.fitted:
            raise NotFittedError(f"{type(self).__name__}.fit must run before score")
        ref, cur, n_ref, n_cur = self._inputs()
        if n_ref == 0 or n_cur == 0:
            raise DetectorError(f"{self.method} needs values on both sides (got {n_ref}, {n_cur})")
        stat, p = self.statistic(ref, cur)
        return DriftResult(self.method, float(stat), None if p is None else float(p),
                           self.threshold, self.decide(stat, p), n_ref, n_cur)

    def _check_fitted(self) -> None:
        if not self.fitted:
            raise NotFittedError(f"{type(self).__name__}.fit must run before update")

    def _same(self, other: DriftDetector) -> None:
        if type(other) is not type(self) or other.get_params() != self.get_params():
            raise DetectorError("only detectors of the same class and parameters merge")

    def _header(self) -> dict[str, Any]:
        return {"state_version": STATE_VERSION, "kind": "drift_detector",
                "method": self.method, "params": self.get_params()}

    @abstractmethod
    def to_state(self) -> dict[str, Any]: ...

    @classmethod
    def _restore(cls, state: dict[str, Any]) -> Self:
        check_version(state, "drift_detector")
        if state.get("method") != cls.method:
            raise DetectorError(f"state of {state.get('method')!r}, not {cls.method!r}")
        return cls(**state["params"])


class HistogramDriftDetector(DriftDetector):
    """A test on counts over bins frozen from the reference."""

    input: ClassVar[str] = "counts"

    def __init__(self, threshold: float, bins: int = 10, max_categories: int = 50) -> None:
        self.threshold = threshold
        self.bins = bins
        self.max_categories = max_categories
        self.profile_: Profile | None = None
        self._window: NumericHistogram | CategoryCounts | None = None

    @property
    def fitted(self) -> bool:
        return self.profile_ is not None

    def fit(self, reference: Iterable[Any]) -> Self:
        values = list(reference)
        _, invalid = numeric_array(values)
        numeric = invalid == 0 and not any(isinstance(v, bool) for v in values)
        self.profile_ = (NumericProfile(self.bins) if numeric
                         else CategoricalProfile(self.max_categories)).fit(values)
        self._window = self.profile_.new_state()
        return self

    def update(self, values: Iterable[Any],
               priorities: np.ndarray | None = None) -> None:  # noqa: ARG002 counts need none
        self._check_fitted()
        assert self._window is not None
        self._window.update_raw(list(values))

    def merge(self, other: Self) -> Self:
        self._same(other)
        assert self._window is not None
        assert other._window is not None
        self._window.merge(other._window)  # type: ignore[arg-type]
        return self

    def _inputs(self) -> tuple[Any, Any, int, int]:
        assert self.profile_ is not None
        assert self._window is not None
        ref = np.asarray(self.profile_.reference_counts_, dtype=np.int64)
        cur = self._window.counts.copy()
        return ref, cur, int(ref.sum()), int(cur.sum())

    def to_state(self) -> dict[str, Any]:
        state = self._header()
        if self.profile_ is not None and self._window is not None:
            state["profile"] = self.profile_.to_state()
            state["window"] = self._window.to_state()
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        det = cls._restore(state)
        if "profile" in state:
            det.profile_ = profile_from_state(state["profile"])
            det._window = det.profile_.new_state()
            det._window.load_state(state["window"])
        return det


class SampleDriftDetector(DriftDetector):
    """A test on bounded uniform samples of the reference and of the window."""

    input: ClassVar[str] = "sample"

    def __init__(self, threshold: float, sample_size: int = 1000, seed: int = 0) -> None:
        self.threshold = threshold
        self.sample_size = sample_size
        self.seed = seed
        self.reference_: np.ndarray | None = None
        self._window = ValueSample(sample_size)

    @property
    def fitted(self) -> bool:
        return self.reference_ is not None

    def fit(self, reference: Iterable[Any]) -> Self:
        arr, _ = numeric_array(list(reference))
        sample = ValueSample(self.sample_size)
        sample.add(arr, counter_priorities(0, len(arr), self.seed + 1))
        self.reference_ = np.sort(sample.values())
        self._window = ValueSample(self.sample_size)
        return self

    def update(self, values: Iterable[Any], priorities: np.ndarray | None = None) -> None:
        """Add values; ``priorities`` (e.g. event-id hashes) make parts merge into the whole."""
        self._check_fitted()
        arr, _ = numeric_array(list(values))
        if priorities is None:
            priorities = counter_priorities(self._window.n_seen, len(arr), self.seed)
        self._window.add(arr, priorities)

    def merge(self, other: Self) -> Self:
        self._same(other)
        if (self.reference_ is not None and other.reference_ is not None
                and not np.array_equal(self.reference_, other.reference_)):
            raise IncompatibleState("sample detectors fitted on different references")
        self._window.merge(other._window)
        return self

    def _inputs(self) -> tuple[Any, Any, int, int]:
        assert self.reference_ is not None
        cur = self._window.values()
        return self.reference_, cur, len(self.reference_), len(cur)

    def to_state(self) -> dict[str, Any]:
        state = self._header()
        if self.reference_ is not None:
            state["reference"] = self.reference_.tolist()
            state["window"] = self._window.to_state()
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        det = cls._restore(state)
        if "reference" in state:
            det.reference_ = np.asarray(state["reference"], dtype=np.float64)
            det._window = ValueSample.from_state(state["window"])
        return det


def as_counts(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Counts as a float array, refusing negative or empty histograms."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.sum() <= 0 or (arr < 0).any():
        raise DetectorError("counts must be a non-empty, non-negative 1-D histogram")
    return arr


def as_values(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Present values as a float array (NaN dropped)."""
    arr = np.asarray(values, dtype=np.float64).ravel()
    return arr[~np.isnan(arr)]
