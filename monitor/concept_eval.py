"""``concept_drift`` records: streaming detectors on the per-prediction error stream.

When a window becomes final, its labelled predictions are fed, in prediction-time order, to the
model's detectors (``concept.detectors``): the error is 0/1 (prediction wrong) for classifiers
and the absolute error for regression (only ``adwin``, ``page_hinkley``, ``kswin`` and ``cusum``
take real values; the others are skipped for regression). The detectors' state is saved per model
in the same transaction as the window's records, so each window is fed exactly once and in order.
Labels that reach a window after it is final revise its performance records but do not enter
the detector stream (that would break prediction-time order).

One record per detector: ``value`` is the prediction time (epoch seconds) of the first change
the detector signalled in this window (null when none), ``n`` the errors fed, ``status``
``alert`` on a change, ``warning`` when the detector is in its warning zone at the end of the
window, else ``ok``.
"""

from __future__ import annotations

import importlib
from typing import Any

from monitor.config import ModelConfig
from monitor.performance_eval import prediction_error
from monitor.store import Outcome

MODULES = {"ddm": ("ddm", "DDM"), "eddm": ("eddm", "EDDM"), "hddm_a": ("hddm_a", "HDDM_A"),
           "hddm_w": ("hddm_w", "HDDM_W"), "adwin": ("adwin", "ADWIN"),
           "page_hinkley": ("page_hinkley", "PageHinkley"), "kswin": ("kswin", "KSWIN"),
           "cusum": ("cusum", "CUSUM")}
REAL_VALUED = frozenset({"adwin", "page_hinkley", "kswin", "cusum"})


def _cls(name: str) -> Any:
    module, cls = MODULES[name]
    return getattr(importlib.import_module(f"detectors.concept.{module}"), cls)


def errors(config: ModelConfig, outcomes: list[Outcome]) -> list[tuple[int, float]]:
    """``(prediction time, error)`` of the labelled predictions, in prediction-time order."""
    out = []
    for o in sorted((o for o in outcomes if o.labelled), key=lambda o: o.ts_ms):
        err = prediction_error(config, o)
        if err is not None:
            out.append((o.ts_ms, err))
    return out


def active_detectors(config: ModelConfig) -> list[str]:
    if not config.concept.enabled:
        return []
    names = list(config.concept.detectors)
    return [n for n in names if n in REAL_VALUED] if config.task == "regression" else names


def feed(config: ModelConfig, saved: dict[str, Any] | None,
         stream: list[tuple[int, float]]) -> tuple[dict[str, Any], list[tuple[str, float | None,
                                                                          int, str]]]:
    """Run the window's errors through the detectors restored from ``saved``.

    Returns the new state and, per detector, ``(name, change time in s or None, n, status)``.
    """
    state: dict[str, Any] = {}
    results = []
    for name in active_detectors(config):
        cls = _cls(name)
        det = cls.from_state(saved[name]) if saved and name in saved else cls()
        first: float | None = None
        for ts, err in stream:
            det.update(err)
            if det.drift_detected and first is None:
                first = ts / 1000
        warning = bool(getattr(det, "warning_detected", False))
        status = "alert" if first is not None else "warning" if warning else "ok"
        results.append((name, first, len(stream), status))
        state[name] = det.to_state()
    return state, results
