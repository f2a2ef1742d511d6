"""What the multivariate detectors share: a frozen reference sample and a mergeable window sample.

Inputs are 2-D float arrays, one row per event and one column per numeric feature or embedding
component (an embedding of 384 floats is 384 columns). Rows with a NaN or infinite value are
dropped. Both sides are bounded: ``fit`` keeps a seeded uniform subsample of at most
``sample_size`` reference rows, and ``update`` feeds a :class:`~detectors.sample.RowSample` of at
most ``sample_size`` window rows (one ``embedding`` column ``"x"`` of the fitted width). With
priorities from :func:`~detectors.sample.priorities_from_keys`, the merge of the parts' samples is
the sample of the whole window, so ``merge`` is exact, associative and has the empty window as
identity.

Each method module supplies ``_test(reference, current, device) -> (statistic, p_value)`` on the
two samples and ``_decide(statistic, p_value)``. torch is imported only inside functions.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

import numpy as np

from detectors._base import (
    STATE_VERSION,
    DetectorError,
    IncompatibleState,
    NotFittedError,
    check_version,
)
from detectors.results import MultivariateDriftResult
from detectors.sample import RowSample, counter_priorities

KIND = "multivariate_detector"
COLUMN = "x"


def resolve_device(device: str) -> str:
    """``"auto"``: CUDA when torch sees a GPU, else the CPU; other names are checked by torch."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(torch.device(device))


def as_rows(values: Any, name: str = "rows") -> np.ndarray:
    """A 2-D float64 array of the finite rows of ``values``."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise DetectorError(f"{name} must be a 2-D array (rows x columns), got shape {arr.shape}")
    return arr[np.isfinite(arr).all(axis=1)]


def standardize(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both sides centred and scaled by the reference's column mean and standard deviation."""
    mean = reference.mean(axis=0)
    scale = reference.std(axis=0)
    scale[~(scale > 0)] = 1.0
    return (reference - mean) / scale, (current - mean) / scale


def check_two_samples(reference: np.ndarray, current: np.ndarray) -> None:
    if reference.shape[1] != current.shape[1]:
        raise DetectorError(f"column counts differ: {reference.shape[1]} != {current.shape[1]}")
    if len(reference) < 2 or len(current) < 2:
        raise DetectorError(f"need 2+ rows on each side (got {len(reference)}, {len(current)})")


class MultivariateDriftDetector(ABC):
    """Base of the multivariate detectors: fit, update, merge, score, state."""

    method: ClassVar[str]
    threshold: float
    sample_size: int
    seed: int
    device: str

    def __init__(self, n_permutations: int) -> None:
        if (n_permutations + 1) * self.threshold <= 1:
            raise DetectorError(f"n_permutations={n_permutations} can never give a p-value below"
                                f" threshold={self.threshold}: the least is 1/(n_permutations+1)")
        self.reference_sample_: RowSample | None = None
        self._window: RowSample | None = None

    @abstractmethod
    def _test(self, reference: np.ndarray, current: np.ndarray, device: str) -> tuple[float, float]:
        """``(statistic, p_value)`` of the two samples; pure and seeded by ``self.seed``."""

    @abstractmethod
    def _decide(self, statistic: float, p_value: float) -> bool: ...

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, read from the signature: plain JSON a database can store."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def clone(self) -> Self:
        """A new, unfitted detector with the same parameters."""
        return type(self)(**self.get_params())

    @property
    def fitted(self) -> bool:
        return self.reference_sample_ is not None

    @property
    def n_features_in_(self) -> int:
        return self._fitted_reference().dims[COLUMN]

    @property
    def reference_(self) -> np.ndarray:
        """The frozen reference rows (float32, at most ``sample_size``)."""
        return self._fitted_reference().embeddings(COLUMN)

    def _fitted_reference(self) -> RowSample:
        if self.reference_sample_ is None:
            raise NotFittedError(f"{type(self).__name__}.fit must run first")
        return self.reference_sample_

    def _new_sample(self, dim: int) -> RowSample:
        return RowSample(self.sample_size, {COLUMN: "embedding"}, {COLUMN: dim})

    def fit(self, reference: Any) -> Self:
        """Freeze a seeded uniform subsample of the reference and start an empty window."""
        rows = as_rows(reference, "reference")
        if len(rows) < 2:
            raise DetectorError("the reference needs at least 2 finite rows")
        sample = self._new_sample(rows.shape[1])
        sample.update({COLUMN: rows}, counter_priorities(0, len(rows), self.seed + 1))
        self.reference_sample_ = sample
        self._window = self._new_sample(rows.shape[1])
        return self

    def update(self, rows: Any, priorities: np.ndarray | None = None) -> None:
        """Add window rows; ``priorities`` (event-id hashes) make parts merge into the whole."""
        window = self._window
        if window is None:
            raise NotFittedError(f"{type(self).__name__}.fit must run before update")
        arr = np.asarray(rows, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != window.dims[COLUMN]:
            raise DetectorError(f"rows must have shape (n, {window.dims[COLUMN]}), got {arr.shape}")
        if priorities is None:
            priorities = counter_priorities(window.n_seen, len(arr), self.seed)
        pri = np.asarray(priorities, dtype=np.uint64)
        if len(pri) != len(arr):
            raise DetectorError(f"{len(arr)} rows but {len(pri)} priorities")
        finite = np.isfinite(arr).all(axis=1)
        window.update({COLUMN: arr[finite]}, pri[finite])

    def merge(self, other: Self) -> Self:
        """Fold another consumer's window of the same detector into this one."""
        if type(other) is not type(self) or other.get_params() != self.get_params():
            raise DetectorError("only detectors of the same class and parameters merge")
        if self._window is None or other._window is None:
            raise NotFittedError("both detectors must be fitted before merge")
        if not np.array_equal(self.reference_, other.reference_):
            raise IncompatibleState("detectors fitted on different references")
        self._window.merge(other._window)
        return self

    def score(self) -> MultivariateDriftResult:
        """The test of the window so far against the reference; does not change the state."""
        if self._window is None:
            raise NotFittedError(f"{type(self).__name__}.fit must run before score")
        ref = self.reference_.astype(np.float64)
        cur = self._window.embeddings(COLUMN).astype(np.float64)
        check_two_samples(ref, cur)
        device = resolve_device(self.device)
        stat, p = self._test(ref, cur, device)
        return MultivariateDriftResult(self.method, float(stat), float(p), self.threshold,
                                       self._decide(stat, p), len(ref), len(cur), device)

    def to_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"state_version": STATE_VERSION, "kind": KIND,
                                 "method": self.method, "params": self.get_params()}
        if self.reference_sample_ is not None and self._window is not None:
            state["reference"] = self.reference_sample_.to_state()
            state["window"] = self._window.to_state()
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        check_version(state, KIND)
        if state.get("method") != cls.method:
            raise DetectorError(f"state of {state.get('method')!r}, not {cls.method!r}")
        det = cls(**state["params"])
        if "reference" in state:
            det.reference_sample_ = RowSample.from_state(state["reference"])
            det._window = RowSample.from_state(state["window"])
        return det
