"""Counting rows and bad rows of every single-dimension slice and every pair of dimensions.

Each dimension's values are coded once (a dict pass), a slice's rows and bad rows are
``np.bincount`` of the codes (of the pair code ``a * K_b + b`` for a pair of dimensions, or of its
``np.unique`` inverse where ``K_a * K_b`` is large), and only the slices with at least
``min_support`` rows get a key string. A missing value (``None`` or an absent dictionary key)
puts the row in no slice of that dimension; the row still counts in the window's totals.

>>> rows = [{"country": "KR", "device": "ios"}, {"country": "KR", "device": "web"},
...         {"country": "US", "device": "ios"}]
>>> tally(columns_of(rows), bad_array([1, 0, 0], 3), min_support=2).as_dict()
{'country=KR': (2, 1), 'device=ios': (2, 1)}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from detectors._base import DetectorError
from detectors.slices._keys import escape

Value = str | None
Rows = Sequence[Mapping[str, Value]] | Mapping[str, Sequence[Value]]


@dataclass(frozen=True)
class Tally:
    """Slices of one window as parallel columns: key, dimensions, rows and bad rows."""

    keys: list[str]
    dims: list[tuple[str, ...]]
    n: np.ndarray
    bad: np.ndarray

    def as_dict(self) -> dict[str, tuple[int, int]]:
        return {k: (int(n), int(b)) for k, n, b in zip(self.keys, self.n, self.bad, strict=True)}


def columns_of(rows: Rows) -> dict[str, Sequence[Value]]:
    """``{dim: column}`` from row dictionaries, or the columns themselves checked for length."""
    if isinstance(rows, Mapping):
        lengths = {len(col) for col in rows.values()}
        if len(lengths) > 1:
            raise DetectorError(f"slice columns differ in length: {sorted(lengths)}")
        return {str(dim): col for dim, col in rows.items()}
    dims = sorted({str(dim) for row in rows for dim in row})
    return {dim: [row.get(dim) for row in rows] for dim in dims}


def n_rows(columns: Mapping[str, Sequence[Value]], bad: Sequence[int] | np.ndarray) -> int:
    return len(next(iter(columns.values()))) if columns else len(bad)


def bad_array(bad: Sequence[int] | np.ndarray, n: int) -> np.ndarray:
    """``bad`` as a boolean array of ``n`` rows; anything but 0/1 is an error."""
    arr = np.asarray(bad)
    if arr.shape != (n,):
        raise DetectorError(f"bad needs one 0/1 value per row ({n}), got shape {arr.shape}")
    if arr.size and not np.all((arr == 0) | (arr == 1)):
        raise DetectorError("bad must hold only 0 and 1")
    return arr.astype(bool)


def _factorize(column: Sequence[Value]) -> tuple[np.ndarray, list[str]]:
    """Codes ``0..K-1`` (``-1`` for a missing value) and the escaped value of each code.

    The per-row work is two C-level passes (``dict.fromkeys``, ``map``); values that are not
    strings are coded by their ``str``.
    """
    names: dict[str, int] = {}
    code: dict[Value, int] = {}
    for value in dict.fromkeys(column):
        code[value] = -1 if value is None else names.setdefault(str(value), len(names))
    codes = np.fromiter(map(code.__getitem__, column), dtype=np.int64, count=len(column))
    return codes, [escape(v) for v in names]


def _pair_counts(comb: np.ndarray, comb_bad: np.ndarray, size: int,
                 min_support: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(pair codes, rows, bad rows)`` of the pair codes with at least ``min_support`` rows."""
    if size <= max(4 * comb.size, 1 << 16):
        n = np.bincount(comb, minlength=size)
        nb = np.bincount(comb_bad, minlength=size)
        keep = np.flatnonzero(n >= min_support)
        return keep, n[keep], nb[keep]
    uniq, inv = np.unique(comb, return_inverse=True)
    n = np.bincount(inv, minlength=uniq.size)
    nb = np.bincount(np.searchsorted(uniq, comb_bad), minlength=uniq.size)
    keep = np.flatnonzero(n >= min_support)
    return uniq[keep], n[keep], nb[keep]


def tally(columns: Mapping[str, Sequence[Value]], bad: np.ndarray, *, min_support: int = 1,
          pairs: bool = True) -> Tally:
    """Every single and (if ``pairs``) pair slice with at least ``min_support`` rows."""
    dims = sorted(columns)
    coded = {dim: _factorize(columns[dim]) for dim in dims}
    floor = max(min_support, 1)
    keys: list[str] = []
    names: list[tuple[str, ...]] = []
    ns: list[np.ndarray] = []
    bads: list[np.ndarray] = []
    for dim in dims:
        codes, values = coded[dim]
        present = codes[codes >= 0]
        n = np.bincount(present, minlength=len(values))
        nb = np.bincount(codes[(codes >= 0) & bad], minlength=len(values))
        keep = np.flatnonzero(n >= floor)
        head = escape(dim) + "="
        keys.extend(head + values[i] for i in keep)
        names.extend([(dim,)] * keep.size)
        ns.append(n[keep])
        bads.append(nb[keep])
    for a, b in combinations(dims, 2) if pairs else ():
        (ca, va), (cb, vb) = coded[a], coded[b]
        both = (ca >= 0) & (cb >= 0)
        comb = ca[both] * len(vb) + cb[both]
        code, n, nb = _pair_counts(comb, comb[bad[both]], len(va) * len(vb), floor)
        ia, ib = np.divmod(code, len(vb))
        ha, hb = escape(a) + "=", "&" + escape(b) + "="
        keys.extend(ha + va[i] + hb + vb[j] for i, j in zip(ia, ib, strict=True))
        names.extend([(a, b)] * code.size)
        ns.append(n)
        bads.append(nb)
    empty = np.empty(0, dtype=np.int64)
    return Tally(keys, names, np.concatenate(ns) if ns else empty,
                 np.concatenate(bads) if bads else empty)
