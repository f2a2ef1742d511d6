"""The mergeable window state of confidence-based performance estimation.

:class:`CBPEState` is fed calibrated probabilities ``p`` and predictions, and keeps, in O(bins)
memory whatever the window's length:

- the expected confusion matrix ``E[TP], E[FP], E[FN], E[TN]`` and the row count ``n``: exact
  sums, so accuracy, precision, recall and F1 of the window are exact;
- a histogram of ``p`` over ``n_bins`` equal bins of ``[0, 1]``: per bin the count, ``sum p`` and
  ``sum p^2``, from which the expected ROC AUC is computed approximately.

Everything merges by addition, so the state of a window built by several consumers equals the
state one consumer would have built (up to float summation order); the empty state is the
identity.

The AUC approximation: ``p`` is non-decreasing in the score, so bins are in score order and pairs
in different bins are ordered exactly; pairs within one bin are counted as ties (1/2). The
pairs of a row with itself are removed exactly (``sum p - sum p^2``). For a within-bin pair with
``p_lo <= p_hi`` the exact count is ``p_hi (1 - p_lo)`` and the tie count the mean of the two
orientations, lower by ``(p_hi - p_lo) / 2 <= width / 2``. So the histogram AUC never exceeds
the exact expected AUC, and falls short of it by at most
``width / 4 * sum_b c_b (c_b - 1) / (P N - S)`` (:meth:`CBPEState.auc_error_bound`).

>>> s = CBPEState(n_bins=4)
>>> s.update([0.125, 0.375, 0.75, 0.875], [0, 0, 1, 1])
>>> s.confusion()
Confusion(tp=1.625, fp=0.375, fn=0.5, tn=1.5)
>>> s.counts.tolist(), round(s.expected_auc(), 4), round(s.auc_error_bound(), 4)
([1, 1, 0, 2], 0.8738, 0.0374)
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from detectors._base import STATE_VERSION, DetectorError, IncompatibleState, check_version
from detectors.estimation._metrics import ArrayLike, Confusion, ordered_auc

__all__ = ["CBPEState"]

KIND = "cbpe_window"


class CBPEState:
    """Expected confusion sums and a histogram of calibrated probabilities of one window."""

    def __init__(self, n_bins: int = 100) -> None:
        if n_bins < 1:
            raise DetectorError(f"n_bins must be at least 1, got {n_bins}")
        self.n_bins = n_bins
        self.n = 0
        self.tp = 0.0
        self.fp = 0.0
        self.fn = 0.0
        self.tn = 0.0
        self.counts = np.zeros(n_bins, dtype=np.int64)
        self.sum_p = np.zeros(n_bins)
        self.sum_p2 = np.zeros(n_bins)

    def update(self, probabilities: ArrayLike, y_pred: ArrayLike) -> None:
        """Add rows: calibrated ``P(y = 1)`` in ``[0, 1]`` and 0/1 predictions, checked upstream."""
        p = np.asarray(probabilities, dtype=np.float64)
        pos = np.asarray(y_pred).astype(bool)
        if p.shape != pos.shape or p.ndim != 1:
            raise DetectorError(f"probabilities and predictions differ in shape"
                                f" ({p.shape} != {pos.shape})")
        self.n += len(p)
        self.tp += float(p[pos].sum())
        self.fp += float((1 - p[pos]).sum())
        self.fn += float(p[~pos].sum())
        self.tn += float((1 - p[~pos]).sum())
        bins = np.minimum((p * self.n_bins).astype(np.int64), self.n_bins - 1)
        self.counts += np.bincount(bins, minlength=self.n_bins)
        self.sum_p += np.bincount(bins, weights=p, minlength=self.n_bins)
        self.sum_p2 += np.bincount(bins, weights=p * p, minlength=self.n_bins)

    def merge(self, other: CBPEState) -> Self:
        """Add another window's sums into this one (associative; the empty state is neutral)."""
        if other.n_bins != self.n_bins:
            raise IncompatibleState(f"CBPE states over {self.n_bins} and {other.n_bins} bins")
        self.n += other.n
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.tn += other.tn
        self.counts += other.counts
        self.sum_p += other.sum_p
        self.sum_p2 += other.sum_p2
        return self

    def confusion(self) -> Confusion:
        """The expected confusion matrix of the window."""
        return Confusion(self.tp, self.fp, self.fn, self.tn)

    def _self_pairs(self) -> float:
        return float(self.sum_p.sum() - self.sum_p2.sum())

    def expected_auc(self) -> float:
        """Expected ROC AUC from the histogram (within-bin pairs as ties; NaN when undefined)."""
        return ordered_auc(self.sum_p, self.counts - self.sum_p, self._self_pairs())

    def auc_error_bound(self) -> float:
        """How far :meth:`expected_auc` may fall below the exact expected AUC of the rows."""
        den = float(self.sum_p.sum()) * float(self.n - self.sum_p.sum()) - self._self_pairs()
        pairs = float(self.counts @ (self.counts - 1))
        return pairs / (4 * self.n_bins) / den if den > 1e-12 else float("nan")

    def to_state(self) -> dict[str, Any]:
        return {"state_version": STATE_VERSION, "kind": KIND, "n_bins": self.n_bins,
                "n": self.n, "tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn,
                "counts": self.counts.tolist(), "sum_p": self.sum_p.tolist(),
                "sum_p2": self.sum_p2.tolist()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        check_version(state, KIND)
        out = cls(int(state["n_bins"]))
        out.n = int(state["n"])
        out.tp, out.fp, out.fn, out.tn = (float(state[k]) for k in ("tp", "fp", "fn", "tn"))
        out.counts = np.asarray(state["counts"], dtype=np.int64)
        out.sum_p = np.asarray(state["sum_p"], dtype=np.float64)
        out.sum_p2 = np.asarray(state["sum_p2"], dtype=np.float64)
        if not len(out.counts) == len(out.sum_p) == len(out.sum_p2) == out.n_bins:
            raise DetectorError("CBPE state histogram arrays do not match n_bins")
        return out
