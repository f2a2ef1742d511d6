"""Confidence-based performance estimation (CBPE) of a binary classifier without labels.

The idea of NannyML's CBPE, reimplemented from its description. ``fit`` learns, on a labelled
reference, an isotonic calibration ``p = P(y = 1 | score)`` (:mod:`~detectors.estimation.isotonic`;
scores outside the reference's range take the end values). For unlabelled rows, each ``p_i`` is
the chance the row is positive, so the confusion matrix has a known expectation
(``E[TP] = sum p_i`` over predicted positives, and so on, see :mod:`._metrics`); accuracy,
precision, recall and F1 are estimated from it, and ROC AUC as the expected AUC, each pair
``(i, j)`` weighed by ``p_i (1 - p_j)``.

Sampling-error bands. Even a perfect estimate misses the realized metric of ``n`` rows by the
labels' sampling noise, so each estimate comes with ``value +- z * SE`` (clipped to ``[0, 1]``).
``SE`` is reference-based, as in NannyML: ``fit`` draws ``n_bootstrap`` bootstrap resamples of the
reference at its own size and takes the standard deviation of the realized metric over them. A
metric's variance falls as one over the rows that move it (its effective count: all rows for
accuracy, predicted positives for precision, positives for recall, rows other than true negatives
for F1, ``n_pos n_neg / n`` for ROC AUC), so ``fit`` stores ``sigma = sd * sqrt(effective count
of the reference)``, and a window gets ``SE = sigma / sqrt(its expected effective count)``: at the
reference's class balance that is ``sigma / sqrt(n * fraction)`` (:meth:`CBPE.standard_error`),
and it widens when a shift leaves, say, few predicted positives for precision. The bootstrap sd
of the *realized* metric also holds the variation of the scores between samples, which the
estimate follows, so the band leans conservative (``benchmarks/cbpe_bench.py``: 93-97% of
realized values inside the 95% bands).

The blind spot. CBPE assumes the calibration learned on the reference still holds: covariate
shift (the inputs, hence the scores, move while ``P(y | score)`` stays) is estimated well, but
under pure concept drift (``P(y | x)`` changes while the inputs do not) the scores, and so the
estimate, stay at the reference level while realized performance falls. Pair it with realized
performance once labels arrive, and with drift tests on the inputs. A milder form of the same
assumption: the calibration is only as good as the reference in the score range a window
occupies. The isotonic end blocks rest on few reference rows and are overconfident (often
exactly 0 or 1), so a window that moves deep into the reference's tails inherits that bias
(the expected AUC of half the window beyond the reference's 85th score percentile came out
about 0.01 high with 4000 reference rows, 0.001 with 50 000); use a large reference.

Streaming: ``update`` adds rows to a bounded, mergeable :class:`~.state.CBPEState` (exact
expected confusion sums; ROC AUC from a histogram of ``p``, with a stated error bound);
``estimate()`` without arguments estimates that window.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> sigmoid = lambda z: 1 / (1 + np.exp(-z))
>>> x = rng.normal(0, 1, 5000)
>>> labels = rng.random(5000) < sigmoid(2 * x)
>>> cbpe = CBPE(metrics=("accuracy", "f1", "roc_auc")).fit(sigmoid(1.6 * x + 0.2), labels)
>>> x = rng.normal(0.5, 1, 1000)  # covariate shift
>>> scores, labels = sigmoid(1.6 * x + 0.2), rng.random(1000) < sigmoid(2 * x)
>>> for e in cbpe.estimate(scores):
...     print(e.metric, round(e.value, 3), round(e.lower, 3), round(e.upper, 3), e.n)
accuracy 0.793 0.767 0.819 1000
f1 0.847 0.822 0.872 1000
roc_auc 0.865 0.842 0.888 1000
>>> realized = realized_metrics(scores, labels, scores >= 0.5, cbpe.metrics)
>>> {m: round(v, 3) for m, v in realized.items()}
{'accuracy': 0.783, 'f1': 0.84, 'roc_auc': 0.863}
>>> cbpe.update(scores[:400]); cbpe.update(scores[400:])
>>> [round(e.value, 3) for e in cbpe.estimate()]
[0.793, 0.847, 0.865]
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Self

import numpy as np

from detectors._base import (
    STATE_VERSION,
    DetectorError,
    IncompatibleState,
    NotFittedError,
    check_version,
)
from detectors.estimation._metrics import (
    METRICS,
    ArrayLike,
    Confusion,
    bootstrap_sigma,
    confusion,
    expected_auc,
    realized_metrics,
)
from detectors.estimation.isotonic import IsotonicRegression
from detectors.estimation.state import CBPEState

__all__ = ["CBPE", "EstimatedMetric"]

KIND = "cbpe"


@dataclass(frozen=True)
class EstimatedMetric:
    """An estimated metric of ``n`` unlabelled rows and its sampling-error band."""

    metric: str
    value: float
    lower: float
    upper: float
    n: int


def _scores(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise DetectorError(f"{name} must be 1-D, got shape {arr.shape}")
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        raise DetectorError(f"{name} hold {bad} NaN or infinite value(s) of {len(arr)}")
    if len(arr) and (arr.min() < 0 or arr.max() > 1):
        raise DetectorError(f"{name} must lie in [0, 1], got [{arr.min():g}, {arr.max():g}]")
    return arr


def _binary(values: ArrayLike, name: str, n: int) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or len(arr) != n:
        raise DetectorError(f"{name} must be 1-D with one value per score: {len(arr)} != {n}")
    if not np.isin(arr, (0, 1)).all():
        raise DetectorError(f"{name} must be 0/1 (or bool)")
    return arr.astype(bool)


class CBPE:
    """Estimate accuracy, precision, recall, F1 and ROC AUC from calibrated scores."""

    def __init__(self, threshold: float = 0.5, metrics: Sequence[str] = METRICS,
                 n_bins: int = 100, confidence: float = 0.95, n_bootstrap: int = 200,
                 seed: int = 0) -> None:
        unknown = sorted(set(metrics) - set(METRICS))
        if unknown or not metrics or len(set(metrics)) != len(metrics):
            raise DetectorError(f"metrics must be distinct names from {METRICS}, got {metrics}")
        if not 0 < confidence < 1:
            raise DetectorError(f"confidence must be in (0, 1), got {confidence}")
        if n_bootstrap < 2 or n_bins < 1:
            raise DetectorError("n_bootstrap must be at least 2 and n_bins at least 1")
        self.threshold = threshold
        self.metrics = tuple(metrics)
        self.n_bins = n_bins
        self.confidence = confidence
        self.n_bootstrap = n_bootstrap
        self.seed = seed
        self.calibration_x_: list[float] | None = None
        self.calibration_y_: list[float] = []
        self.reference_metrics_: dict[str, float] = {}
        self.sampling_sigma_: dict[str, float] = {}
        self.effective_fraction_: dict[str, float] = {}
        self.n_reference_ = 0
        self._window: CBPEState | None = None

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, read from the signature."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def clone(self) -> Self:
        """A new, unfitted estimator with the same parameters."""
        return type(self)(**self.get_params())

    @property
    def fitted(self) -> bool:
        return self.calibration_x_ is not None

    def _predictions(self, scores: np.ndarray, y_pred: ArrayLike | None, name: str) -> np.ndarray:
        if y_pred is None:
            return np.asarray(scores >= self.threshold)
        return _binary(y_pred, name, len(scores))

    def fit(self, reference_scores: ArrayLike, reference_labels: ArrayLike,
            reference_y_pred: ArrayLike | None = None) -> Self:
        """Calibrate on the labelled reference; record its metrics and sampling errors.

        Predictions are ``score >= threshold`` unless ``reference_y_pred`` is given.
        """
        scores = _scores(reference_scores, "reference scores")
        labels = _binary(reference_labels, "reference labels", len(scores))
        if labels.all() or not labels.any():
            raise DetectorError("reference labels need both classes (0 and 1)")
        pred = self._predictions(scores, reference_y_pred, "reference predictions")
        iso = IsotonicRegression().fit(scores, labels.astype(np.float64))
        assert iso.x_thresholds_ is not None
        assert iso.y_thresholds_ is not None
        realized = realized_metrics(scores, labels, pred, self.metrics)
        undefined = [m for m, v in realized.items() if math.isnan(v)]
        if undefined:
            raise DetectorError(f"{undefined} undefined on the reference (a class never"
                                " predicted?); leave them out of metrics")
        self.sampling_sigma_, self.effective_fraction_ = bootstrap_sigma(
            scores, labels, pred, self.metrics, self.n_bootstrap, self.seed)
        if not all(map(math.isfinite, self.sampling_sigma_.values())):
            raise DetectorError(f"no sampling error from {len(scores)} reference rows: use more")
        self.calibration_x_ = iso.x_thresholds_.tolist()
        self.calibration_y_ = iso.y_thresholds_.tolist()
        self.reference_metrics_ = realized
        self.n_reference_ = len(scores)
        self._window = CBPEState(self.n_bins)
        return self

    def _fitted_window(self) -> CBPEState:
        if self._window is None:
            raise NotFittedError("CBPE.fit must run first")
        return self._window

    def calibrate(self, scores: ArrayLike) -> np.ndarray:
        """``P(y = 1 | score)`` learned on the reference (clipped outside its score range)."""
        self._fitted_window()
        out: np.ndarray = np.interp(_scores(scores, "scores"), self.calibration_x_ or [],
                                    self.calibration_y_)
        return out

    def standard_error(self, metric: str, n: int) -> float:
        """Sampling error of ``metric`` on ``n`` rows with the reference's class balance."""
        self._fitted_window()
        return self.sampling_sigma_[metric] / math.sqrt(n * self.effective_fraction_[metric])

    def _results(self, conf: Confusion, auc: float, n: int) -> list[EstimatedMetric]:
        z = NormalDist().inv_cdf(0.5 + self.confidence / 2)
        out = []
        for m in self.metrics:
            value = auc if m == "roc_auc" else conf.value(m)
            count = conf.effective_n(m)
            se = self.sampling_sigma_[m] / math.sqrt(count) if count > 0 else math.inf
            if math.isnan(value):
                lower = upper = math.nan
            else:
                lower, upper = max(0.0, value - z * se), min(1.0, value + z * se)
            out.append(EstimatedMetric(m, value, lower, upper, n))
        return out

    def estimate(self, scores: ArrayLike | None = None,
                 y_pred: ArrayLike | None = None) -> list[EstimatedMetric]:
        """Estimates for ``scores`` (exact expected AUC), or for the window so far when omitted."""
        window = self._fitted_window()
        if scores is None:
            if y_pred is not None:
                raise DetectorError("y_pred without scores")
            auc = window.expected_auc() if "roc_auc" in self.metrics else math.nan
            return self._results(window.confusion(), auc, window.n)
        s = _scores(scores, "scores")
        p = self.calibrate(s)
        pred = self._predictions(s, y_pred, "y_pred")
        auc = expected_auc(s, p) if "roc_auc" in self.metrics else math.nan
        return self._results(confusion(p, pred), auc, len(s))

    def update(self, scores: ArrayLike, y_pred: ArrayLike | None = None) -> None:
        """Add unlabelled rows to the window (predictions ``score >= threshold`` by default)."""
        window = self._fitted_window()
        s = _scores(scores, "scores")
        window.update(self.calibrate(s), self._predictions(s, y_pred, "y_pred"))

    @property
    def window(self) -> CBPEState:
        """The window's mergeable state."""
        return self._fitted_window()

    def reset(self) -> None:
        """Start an empty window; the fit is kept."""
        self._window = CBPEState(self.n_bins) if self._window is not None else None

    def _fit_state(self) -> dict[str, Any]:
        return {"calibration_x": self.calibration_x_, "calibration_y": self.calibration_y_,
                "reference_metrics": self.reference_metrics_,
                "sampling_sigma": self.sampling_sigma_,
                "effective_fraction": self.effective_fraction_,
                "n_reference": self.n_reference_}

    def merge(self, other: Self) -> Self:
        """Fold another consumer's window of the same fitted estimator into this one."""
        if type(other) is not type(self) or other.get_params() != self.get_params():
            raise DetectorError("only CBPE estimators with the same parameters merge")
        if self._window is None or other._window is None:
            raise NotFittedError("both estimators must be fitted before merge")
        if other._fit_state() != self._fit_state():
            raise IncompatibleState("CBPE estimators fitted on different references")
        self._window.merge(other._window)
        return self

    def to_state(self) -> dict[str, Any]:
        params = {**self.get_params(), "metrics": list(self.metrics)}
        state: dict[str, Any] = {"state_version": STATE_VERSION, "kind": KIND, "params": params}
        if self._window is not None:
            state["fit"] = self._fit_state()
            state["window"] = self._window.to_state()
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        check_version(state, KIND)
        out = cls(**state["params"])
        if "fit" in state:
            fit = state["fit"]
            out.calibration_x_ = [float(v) for v in fit["calibration_x"]]
            out.calibration_y_ = [float(v) for v in fit["calibration_y"]]
            out.reference_metrics_ = dict(fit["reference_metrics"])
            out.sampling_sigma_ = dict(fit["sampling_sigma"])
            out.effective_fraction_ = dict(fit["effective_fraction"])
            out.n_reference_ = int(fit["n_reference"])
            out._window = CBPEState.from_state(state["window"])
        return out
