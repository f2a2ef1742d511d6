"""Worst-slice discovery in one window: which slices of the rows have a higher bad rate.

A *slice* is one value of one dimension (``country=KR``) or one value of each of two dimensions
(``country=KR&device=ios``, dimensions in sorted order). Every slice with at least
``min_support`` rows (the ``max_slices`` largest of them, if more) is compared with the *rest*
of the window (the rows outside it) by a one-sided Fisher exact test, "the slice's bad rate is
higher": ``p = P(X >= bad)`` for ``X`` hypergeometric, the bad rows that ``n`` rows drawn at
random from the window would hold (``test="z"``: the pooled two-proportion z-test with Yates'
correction, which is liberal for slices of a few dozen rows). The Benjamini-Hochberg step-up at
``fdr`` runs once over all the slices tested, singles and pairs together, so with no real effect
the chance of any discovery in a window is at most ``fdr``.

"Bad" is whatever the caller counts: an error, a missed click. The counts behind a window are
mergeable (:func:`merge_counts` of the partitions' :func:`slice_counts` equals the window's), so
the service can count per partition and test once with :func:`worst_from_counts`.

A window of 2000 rows where iOS users in Korea (7% of rows) fail 30% of the time, the rest
10%; Korea as a whole (23% of rows) is worse too, but not by enough to be a discovery here:

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> country = rng.choice(["KR", "US", "DE", "BR"], 2000)
>>> device = rng.choice(["ios", "android", "web"], 2000)
>>> hot = (country == "KR") & (device == "ios")
>>> bad = rng.random(2000) < np.where(hot, 0.3, 0.1)
>>> found = worst_slices({"country": list(country), "device": list(device)}, bad)
>>> [(r.slice, r.n, round(r.effect, 3), r.significant) for r in found[:2]]
[('country=KR&device=ios', 143, 0.132, True), ('country=KR', 461, 0.036, False)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from detectors._base import DetectorError
from detectors.drift.correction import benjamini_hochberg
from detectors.performance._common import wilson, z_value
from detectors.slices._counting import Rows, Tally, bad_array, columns_of, n_rows, tally
from detectors.slices._keys import parse_key, slice_key

__all__ = ["SliceResult", "merge_counts", "parse_key", "slice_counts", "slice_key",
           "worst_from_counts", "worst_slices", "z_test"]


@dataclass(frozen=True)
class SliceResult:
    """One slice against the rest of its window.

    ``effect`` is ``rate - rest_rate``; ``risk_ratio`` is ``rate / rest_rate`` (``None`` where
    the rest has no bad row); ``[ci_low, ci_high]`` is the Wilson interval of ``rate``;
    ``p_value`` is the one-sided z-test's and ``significant`` the Benjamini-Hochberg verdict.
    """

    slice: str
    dims: tuple[str, ...]
    n: int
    bad: int
    rate: float
    ci_low: float
    ci_high: float
    rest_rate: float
    effect: float
    risk_ratio: float | None
    p_value: float
    significant: bool


def z_test(n: int, bad: int, rest_n: int, rest_bad: int, *,
           continuity: bool = False) -> tuple[float, float]:
    """``(z, p)`` of the pooled one-sided test "the slice's rate exceeds the rest's".

    ``z = (p1 - p2 - c) / sqrt(p (1 - p) (1/n1 + 1/n2))`` with ``p`` the pooled rate and ``c``
    Yates' ``(1/n1 + 1/n2) / 2`` when ``continuity`` (else 0); ``p = P(Z >= z)``. Both groups
    all good or all bad carry no evidence: ``(0.0, 1.0)``.

    >>> [round(v, 4) for v in z_test(100, 20, 900, 90)]
    [3.032, 0.0012]
    >>> [round(v, 4) for v in z_test(100, 15, 900, 90, continuity=True)]
    [1.3754, 0.0845]
    """
    if n <= 0 or rest_n <= 0:
        raise DetectorError(f"both groups need rows, got n={n}, rest_n={rest_n}")
    pooled = (bad + rest_bad) / (n + rest_n)
    var = pooled * (1.0 - pooled) * (1.0 / n + 1.0 / rest_n)
    if var <= 0.0:
        return 0.0, 1.0
    diff = bad / n - rest_bad / rest_n
    if continuity:
        diff -= 0.5 * (1.0 / n + 1.0 / rest_n)
    z = diff / math.sqrt(var)
    return z, 0.5 * math.erfc(z / math.sqrt(2.0))


def slice_counts(values: Rows, bad: Sequence[int] | np.ndarray, *,
                 pairs: bool = True) -> dict[str, tuple[int, int]]:
    """``{slice: (rows, bad rows)}`` of every slice with a row; merge with :func:`merge_counts`.

    ``values`` is one ``{dim: value}`` per row, or ``{dim: column}``.
    """
    columns = columns_of(values)
    return tally(columns, bad_array(bad, n_rows(columns, bad)), pairs=pairs).as_dict()


def merge_counts(*parts: Mapping[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """The counts of the union of the parts' rows (dictionary addition; ``{}`` is the identity)."""
    out: dict[str, tuple[int, int]] = {}
    for part in parts:
        for key, (n, bad) in part.items():
            n0, b0 = out.get(key, (0, 0))
            out[key] = (n0 + n, b0 + bad)
    return out


def _check(min_support: int, fdr: float, max_slices: int, top_k: int | None,
           confidence: float, test: str = "exact") -> None:
    if test not in ("exact", "z"):
        raise DetectorError(f"test must be 'exact' or 'z', got {test!r}")
    if min_support < 1 or max_slices < 1 or (top_k is not None and top_k < 1):
        raise DetectorError(f"need min_support, max_slices, top_k >= 1, got {min_support}, "
                            f"{max_slices}, {top_k}")
    if not 0.0 < fdr < 1.0 or not 0.0 < confidence < 1.0:
        raise DetectorError(f"fdr and confidence must be in (0, 1), got {fdr}, {confidence}")


def worst_slices(values: Rows, bad: Sequence[int] | np.ndarray, *, min_support: int = 30,
                 fdr: float = 0.05, max_slices: int = 2000, top_k: int | None = None,
                 confidence: float = 0.95, test: str = "exact",
                 pairs: bool = True) -> list[SliceResult]:
    """The slices of one window, sorted by (significant first, effect descending).

    ``values`` is one ``{dim: value}`` per row, or ``{dim: column}``; ``bad`` is one 0/1 per row.
    ``top_k`` keeps the first ``top_k`` results (all when ``None``).
    """
    _check(min_support, fdr, max_slices, top_k, confidence, test)
    columns = columns_of(values)
    flags = bad_array(bad, n_rows(columns, bad))
    found = tally(columns, flags, min_support=min_support, pairs=pairs)
    return _rank(found, flags.size, int(flags.sum()), min_support=min_support, fdr=fdr,
                 max_slices=max_slices, top_k=top_k, confidence=confidence,
                 test=test)


def worst_from_counts(counts: Mapping[str, tuple[int, int]], total_n: int, total_bad: int, *,
                      min_support: int = 30, fdr: float = 0.05, max_slices: int = 2000,
                      top_k: int | None = None, confidence: float = 0.95,
                      test: str = "exact") -> list[SliceResult]:
    """:func:`worst_slices` from ``{slice: (rows, bad rows)}`` and the window's totals."""
    _check(min_support, fdr, max_slices, top_k, confidence, test)
    if not 0 <= total_bad <= total_n:
        raise DetectorError(f"need 0 <= total_bad <= total_n, got {total_bad}, {total_n}")
    kept = {k: v for k, v in counts.items() if v[0] >= min_support}
    for key, (n, bad) in kept.items():
        if not 0 <= bad <= n <= total_n or bad > total_bad:
            raise DetectorError(f"counts of {key!r} ({n}, {bad}) do not fit the totals")
    found = Tally(list(kept), [tuple(dim for dim, _ in parse_key(k)) for k in kept],
                  np.array([v[0] for v in kept.values()], dtype=np.int64),
                  np.array([v[1] for v in kept.values()], dtype=np.int64))
    return _rank(found, total_n, total_bad, min_support=min_support, fdr=fdr,
                 max_slices=max_slices, top_k=top_k, confidence=confidence,
                 test=test)


def _exact_p(n: np.ndarray, bad: np.ndarray, total_n: int, total_bad: int) -> np.ndarray:
    """One-sided Fisher exact p-values: ``P(X >= bad)`` for ``X`` hypergeometric, the bad rows
    a random ``n`` of the window's rows would hold."""
    from scipy import stats

    return np.asarray(stats.hypergeom.sf(bad - 1, total_n, total_bad, n), dtype=np.float64)


def _rank(found: Tally, total_n: int, total_bad: int, *, min_support: int, fdr: float,
          max_slices: int, top_k: int | None, confidence: float,
          test: str) -> list[SliceResult]:
    """Test the ``max_slices`` largest eligible slices, correct once, sort."""
    # a slice of every row has no rest to compare with
    tested = np.flatnonzero((found.n >= min_support) & (found.n < total_n))
    if tested.size > max_slices:  # the largest, ties by key (the same from counts or rows)
        keys = np.array([found.keys[i] for i in tested])
        tested = tested[np.lexsort((keys, -found.n[tested]))[:max_slices]]
    z = z_value(confidence)
    rows = []
    exact = _exact_p(found.n[tested], found.bad[tested], total_n, total_bad)
    for j, i in enumerate(tested):
        n, bad = int(found.n[i]), int(found.bad[i])
        rest_n, rest_bad = total_n - n, total_bad - bad
        p_value = (float(exact[j]) if test == "exact"
                   else z_test(n, bad, rest_n, rest_bad, continuity=True)[1])
        rate, rest_rate = bad / n, rest_bad / rest_n
        low, high = wilson(bad, n, z)
        ratio = rate / rest_rate if rest_rate > 0 else None
        rows.append((found.keys[i], found.dims[i], n, bad, rate, low, high, rest_rate,
                     rate - rest_rate, ratio, p_value))
    verdicts = benjamini_hochberg([row[-1] for row in rows], fdr)
    results = [SliceResult(*row, significant=sig) for row, sig in zip(rows, verdicts, strict=True)]
    results.sort(key=lambda r: (not r.significant, -r.effect, r.p_value, r.slice))
    return results if top_k is None else results[:top_k]
