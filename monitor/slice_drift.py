"""Prediction drift per slice: does the model predict differently in a slice than it did there
in the reference? (``slice_performance`` records, metric ``prediction_drift``.)

The reference's predictions are summarised per single-dimension slice when it is set
(:func:`reference_slice_predictions`; tag dimensions need the reference rows' ``tags``, or
``tag.<name>`` columns in CSV and Parquet). Per window and slice with ``slicing.min_support``
rows on both sides:

- classifiers: the predicted classes, a chi-square test of homogeneity of the reference's and
  the window's class counts; ``value`` is the total variation distance between the two class
  distributions, the floor ``drift.effect_size_floor.categorical``;
- regression: the predictions' means, a two-sided Welch z-test; ``value`` is the shift of the
  mean in reference standard deviations, the floor 0.2.

Benjamini-Hochberg at ``slicing.fdr`` over the slices of the window; a discovery at or above the
floor is ``alert``, below it ``warning``. Comparing each slice with itself, not with the whole
reference, keeps a slice that always predicted differently (a country with a higher base rate)
from alerting every window.

>>> from monitor.config import parse_config
>>> c = parse_config({"model_id": "m", "task": "binary_classification", "window": "1h",
...                   "features": [{"name": "x", "type": "numeric"}], "slices": ["d"]})
>>> ref = {"d=a": {"counts": {"0": 80, "1": 20}}}
>>> outs = [Outcome(0, int(i < 60), 0.5, None, None, {"d": "a"}) for i in range(100)]
>>> [(r.metric, r.slice, r.value, r.status) for r in slice_drift_records(c, ref, 0, outs)]
[('prediction_drift', 'd=a', 0.4, 'alert')]
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from monitor.config import ModelConfig
from monitor.performance_eval import RecordBuilder, binary_label
from monitor.records import ALERT, INSUFFICIENT, OK, WARNING, MetricRecord
from monitor.store import Outcome

REGRESSION_FLOOR = 0.2
MAX_CLASSES = 100


def _class_of(config: ModelConfig, prediction: Any) -> str | None:
    if prediction is None:
        return None
    if config.task == "binary_classification":
        b = binary_label(prediction)
        return None if b is None else str(b)
    return str(prediction)[:64]


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


class _Summary:
    """Class counts (classifiers) or count, mean and sum of squared deviations (regression)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = defaultdict(int)
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, config: ModelConfig, prediction: Any) -> None:
        if config.task == "regression":
            x = _number(prediction)
            if x is not None:  # Welford
                self.n += 1
                d = x - self.mean
                self.mean += d / self.n
                self.m2 += d * (x - self.mean)
        else:
            c = _class_of(config, prediction)
            if c is not None and (c in self.counts or len(self.counts) < MAX_CLASSES):
                self.counts[c] += 1

    def to_json(self, config: ModelConfig) -> dict[str, Any]:
        if config.task == "regression":
            return {"n": self.n, "mean": self.mean, "m2": self.m2}
        return {"counts": dict(sorted(self.counts.items()))}


def _summaries(config: ModelConfig, rows: list[tuple[dict[str, str], Any]]
               ) -> dict[str, _Summary]:
    out: dict[str, _Summary] = defaultdict(_Summary)
    for slices, prediction in rows:
        for dim, value in slices.items():
            out[f"{dim}={value}"].add(config, prediction)
    return out


def reference_slice_predictions(config: ModelConfig, profile: Any,
                                cols: Any) -> dict[str, dict[str, Any]]:
    """``{slice: summary}`` of the reference's predictions, for slices with enough rows."""
    from monitor.slicing import slice_values

    names = list(cols.features)
    rows = []
    for i, prediction in enumerate(cols.prediction):
        features = {n: cols.features[n][i] for n in names}
        tags = cols.tags[i] if i < len(cols.tags) and isinstance(cols.tags[i], dict) else {}
        rows.append((slice_values(config, profile, features, tags), prediction))
    support = config.slicing.min_support
    return {k: s.to_json(config) for k, s in sorted(_summaries(config, rows).items())
            if (s.n if config.task == "regression" else sum(s.counts.values())) >= support}


def _chi_square(ref: dict[str, int], cur: dict[str, int]) -> tuple[float, float]:
    """``(total variation distance, p-value)`` of a 2 x k homogeneity test."""
    from scipy import stats

    classes = sorted(set(ref) | set(cur))
    n_ref, n_cur = sum(ref.values()), sum(cur.values())
    tvd = 0.5 * sum(abs(ref.get(c, 0) / n_ref - cur.get(c, 0) / n_cur) for c in classes)
    if len(classes) < 2:
        return tvd, 1.0
    table = [[ref.get(c, 0) for c in classes], [cur.get(c, 0) for c in classes]]
    p = float(stats.chi2_contingency(table, correction=False).pvalue)
    return tvd, p


def _welch(ref: dict[str, Any], cur: _Summary) -> tuple[float, float] | None:
    n0, n1 = int(ref["n"]), cur.n
    var0 = float(ref["m2"]) / (n0 - 1)
    var1 = cur.m2 / (n1 - 1)
    se = math.sqrt(var0 / n0 + var1 / n1)
    if se <= 0.0 or var0 <= 0.0:
        return None
    diff = cur.mean - float(ref["mean"])
    return abs(diff) / math.sqrt(var0), math.erfc(abs(diff) / se / math.sqrt(2.0))


def slice_drift_records(config: ModelConfig, reference: dict[str, dict[str, Any]],
                        window_start: int, outcomes: list[Outcome],
                        revision: int = 0) -> list[MetricRecord]:
    """``prediction_drift`` per single-dimension slice of the window (module docstring)."""
    if not config.slices or not reference:
        return []
    from detectors.drift.correction import benjamini_hochberg

    support = config.slicing.min_support
    floor = (REGRESSION_FLOOR if config.task == "regression"
             else config.drift.effect_size_floor.categorical)
    current = _summaries(config, [(o.slices, o.prediction) for o in outcomes])
    out = RecordBuilder(config, window_start, revision)
    tested: list[tuple[str, float, float, int]] = []
    for key in sorted(current):
        ref, cur = reference.get(key), current[key]
        n = cur.n if config.task == "regression" else sum(cur.counts.values())
        if ref is None:
            continue
        if n < max(support, 2):
            out.add("slice_performance", "prediction_drift", None, n, INSUFFICIENT,
                    slice_key=key, threshold=floor)
            continue
        result = (_welch(ref, cur) if config.task == "regression"
                  else _chi_square(ref["counts"], dict(cur.counts)))
        if result is not None:
            tested.append((key, result[0], result[1], n))
    verdicts = benjamini_hochberg([p for _, _, p, _ in tested], config.slicing.fdr)
    for (key, effect, p, n), significant in zip(tested, verdicts, strict=True):
        status = (ALERT if significant and effect >= floor else WARNING if significant
                  else OK)
        out.add("slice_performance", "prediction_drift", effect, n, status, slice_key=key,
                threshold=floor, p_value=p)
    return out.records
