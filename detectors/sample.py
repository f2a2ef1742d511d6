"""A bounded, mergeable uniform sample of rows: bottom-k by priority.

Every row carries a 64-bit priority; the sample keeps the ``size`` rows with the smallest
priorities. When priorities come from a hash of the event id (:func:`priorities_from_keys`), the
sample of a window is the same whichever consumer saw which event: merging the samples of the
parts gives exactly the sample of the whole, ``merge`` is associative and the empty sample is its
identity. Because hashes are uniform, the kept rows are a uniform random sample without
replacement of everything seen (an exact copy while fewer than ``size`` rows were seen).

Columns are ``numeric`` (float64, NaN when missing), ``categorical`` (strings, ``None`` when
missing) or ``embedding`` (float32 vectors of a fixed length, NaN when missing).

>>> s = RowSample(3, {"x": "numeric", "c": "categorical"})
>>> s.update({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", None, "d"]},
...          priorities_from_keys(["e1", "e2", "e3", "e4"]))
>>> s.n_seen, len(s)
(4, 3)
>>> sorted(s.numeric("x").tolist())
[1.0, 2.0, 4.0]
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from detectors._base import STATE_VERSION, IncompatibleState, check_version

KINDS = ("numeric", "categorical", "embedding")


def priorities_from_keys(keys: Sequence[str]) -> np.ndarray:
    """Uniform 64-bit priorities from stable keys (event ids): the same key, the same priority."""
    digest = hashlib.blake2b
    raw = b"".join(digest(k.encode(), digest_size=8).digest() for k in keys)
    return np.frombuffer(raw, dtype="<u8").astype(np.uint64)


def counter_priorities(start: int, n: int, seed: int = 0) -> np.ndarray:
    """Priorities for rows ``start .. start+n-1`` of a keyless stream (splitmix64 of a counter).

    Stateless, so a sample restored from its saved state goes on exactly as the original would.

    >>> counter_priorities(0, 3, seed=1).tolist() == counter_priorities(0, 3, seed=1).tolist()
    True
    """
    with np.errstate(over="ignore"):
        offset = np.uint64((seed * 0x632BE59BD9B4E019) % 2**64)
        z = np.arange(start, start + n, dtype=np.uint64) + offset
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _b64(arr: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode()


def _unb64(text: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=dtype).copy()


class RowSample:
    """The ``size`` rows of smallest priority among all rows seen; O(size) memory."""

    kind = "row_sample"

    def __init__(self, size: int, columns: Mapping[str, str],
                 dims: Mapping[str, int] | None = None) -> None:
        if size < 1:
            raise ValueError("sample size must be at least 1")
        bad = {k: v for k, v in columns.items() if v not in KINDS}
        if bad:
            raise ValueError(f"unknown column kinds {bad}; expected one of {KINDS}")
        self.size = size
        self.columns = dict(columns)
        self.dims = dict(dims or {})
        for name, kind in self.columns.items():
            if kind == "embedding" and self.dims.get(name, 0) < 1:
                raise ValueError(f"embedding column {name!r} needs its dimension in dims")
        self.n_seen = 0
        self.priorities = np.zeros(0, dtype=np.uint64)
        self.data: dict[str, np.ndarray] = {n: self._empty(n) for n in self.columns}

    def _empty(self, name: str, rows: int = 0) -> np.ndarray:
        kind = self.columns[name]
        if kind == "numeric":
            return np.full(rows, np.nan)
        if kind == "embedding":
            return np.full((rows, self.dims[name]), np.nan, dtype=np.float32)
        return np.full(rows, None, dtype=object)

    def __len__(self) -> int:
        return len(self.priorities)

    def numeric(self, name: str) -> np.ndarray:
        """Present (non-NaN) values of a numeric column."""
        col = self.data[name]
        present: np.ndarray = col[~np.isnan(col)]
        return present

    def categories(self, name: str) -> list[str]:
        """Present values of a categorical column."""
        return [v for v in self.data[name].tolist() if v is not None]

    def embeddings(self, name: str) -> np.ndarray:
        """Rows of an embedding column with no missing component."""
        col = self.data[name]
        complete: np.ndarray = col[~np.isnan(col).any(axis=1)]
        return complete

    def _coerce(self, name: str, values: Any, rows: int) -> np.ndarray:
        kind = self.columns[name]
        arr: np.ndarray
        if kind == "numeric":
            arr = np.asarray(values, dtype=np.float64)
        elif kind == "categorical":
            arr = np.empty(rows, dtype=object)
            arr[:] = list(values)
        else:
            arr = np.asarray(values, dtype=np.float32).reshape(rows, self.dims[name])
        if len(arr) != rows:
            raise ValueError(f"column {name!r} has {len(arr)} rows, priorities have {rows}")
        return arr

    def update(self, columns: Mapping[str, Any], priorities: np.ndarray) -> None:
        """Offer a batch of rows; ``columns`` maps every column to one value per priority."""
        rows = len(priorities)
        if rows == 0:
            return
        pri = np.asarray(priorities, dtype=np.uint64)
        cutoff = self.priorities[-1] if len(self) >= self.size else None
        keep = slice(None) if cutoff is None else pri < cutoff
        batch = {n: self._coerce(n, columns[n], rows)[keep] if n in columns
                 else self._empty(n, rows)[keep] for n in self.columns}
        self.n_seen += rows
        self._absorb(pri[keep], batch)

    def _absorb(self, pri: np.ndarray, batch: Mapping[str, np.ndarray]) -> None:
        if len(pri) == 0:
            return
        allp = np.concatenate([self.priorities, pri])
        order = np.argsort(allp, kind="stable")[: self.size]
        self.priorities = allp[order]
        for name in self.columns:
            self.data[name] = np.concatenate([self.data[name], batch[name]])[order]

    def merge(self, other: RowSample) -> RowSample:
        if (self.size, self.columns, self.dims) != (other.size, other.columns, other.dims):
            raise IncompatibleState("row samples of different size or columns")
        self.n_seen += other.n_seen
        self._absorb(other.priorities, other.data)
        return self

    def to_state(self) -> dict[str, Any]:
        cols: dict[str, Any] = {}
        for name, kind in self.columns.items():
            col = self.data[name]
            cols[name] = col.tolist() if kind == "categorical" else _b64(col)
        return {"state_version": STATE_VERSION, "kind": self.kind, "size": self.size,
                "columns": self.columns, "dims": self.dims, "n_seen": self.n_seen,
                "priorities": _b64(self.priorities.astype("<u8")), "data": cols}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RowSample:
        check_version(state, cls.kind)
        sample = cls(int(state["size"]), state["columns"], state.get("dims"))
        sample.n_seen = int(state["n_seen"])
        sample.priorities = _unb64(state["priorities"], "<u8").astype(np.uint64)
        rows = len(sample.priorities)
        for name, kind in sample.columns.items():
            raw = state["data"][name]
            if kind == "numeric":
                sample.data[name] = _unb64(raw, "<f8")
            elif kind == "embedding":
                sample.data[name] = _unb64(raw, "<f4").reshape(rows, sample.dims[name])
            else:
                sample.data[name] = sample._coerce(name, raw, rows)
        return sample


class ValueSample(RowSample):
    """A one-column numeric :class:`RowSample`, for detectors that test a single feature.

    >>> a, b = ValueSample(4), ValueSample(4)
    >>> a.add([1.0, 2.0, 3.0], priorities_from_keys(["a", "b", "c"]))
    >>> b.add([4.0, 5.0], priorities_from_keys(["d", "e"]))
    >>> whole = ValueSample(4)
    >>> whole.add([1.0, 2.0, 3.0, 4.0, 5.0], priorities_from_keys(list("abcde")))
    >>> a.merge(b).values().tolist() == whole.values().tolist()
    True
    """

    kind = "value_sample"

    def __init__(self, size: int) -> None:
        super().__init__(size, {"x": "numeric"})

    def add(self, values: Sequence[float] | np.ndarray, priorities: np.ndarray) -> None:
        self.update({"x": values}, priorities)

    def values(self) -> np.ndarray:
        return self.numeric("x")

    def to_state(self) -> dict[str, Any]:
        state = super().to_state()
        state["kind"] = self.kind
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ValueSample:
        check_version(state, cls.kind)
        out = cls(int(state["size"]))
        inner = RowSample.from_state({**state, "kind": RowSample.kind})
        out.n_seen, out.priorities, out.data = inner.n_seen, inner.priorities, inner.data
        return out
