"""Records that depend on labels: ``performance``, ``estimated_performance``, ``concept_drift``.

They are computed from the join store (each prediction of the window with the label its feedback
brought so far), at close, at every revision, and again whenever a label reaches a window that
is already closed or final (the window is marked ``needs_revision``; a final window then gets
only these families recomputed, with ``revision`` + 1).

Per window: ``label_coverage`` (labelled share of predictions), ``label_delay_p50_s`` and
``label_delay_p95_s`` (seconds from prediction to its label's timestamp), the realized metrics of
the task with confidence intervals (:mod:`detectors.performance`), each compared with the
reference's value where the reference carried labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from detectors.performance.compare import LOWER_IS_BETTER
from monitor.config import ModelConfig
from monitor.records import ALERT, INSUFFICIENT, OK, MetricRecord, round_value
from monitor.reference import ReferenceProfile
from monitor.store import Outcome

LABEL_FAMILIES = frozenset({"performance", "estimated_performance", "concept_drift"})
RECOMPUTED_ON_LABEL = frozenset({"performance", "estimated_performance", "slice_performance",
                                 "kpi"})


class RecordBuilder:
    """Records of one window and revision, values rounded as every record is."""

    def __init__(self, config: ModelConfig, start: int, revision: int) -> None:
        self.config, self.start, self.revision = config, start, revision
        self.records: list[MetricRecord] = []

    def add(self, family: str, metric: str, value: float | None, n: int, status: str, *,
            feature: str | None = None, slice_key: str | None = None,
            threshold: float | None = None, p_value: float | None = None,
            ci: tuple[float | None, float | None] = (None, None)) -> None:
        r = round_value
        self.records.append(MetricRecord(
            self.config.model_id, self.start, self.start + self.config.window_ms, family,
            metric, feature, slice_key, r(value), r(threshold), r(p_value), r(ci[0]), r(ci[1]),
            n, status, self.revision))


def prediction_error(config: ModelConfig, o: Outcome) -> float | None:
    """A labelled prediction's error: 0/1 for classifiers, absolute error for regression
    (None when the prediction or label cannot be read)."""
    if config.task == "regression":
        if _is_real(o.prediction) and _is_real(o.label):
            return abs(float(o.prediction) - float(o.label))
        return None
    if config.task == "binary_classification":
        p, y = binary_label(o.prediction), binary_label(o.label)
        return None if p is None or y is None else float(p != y)
    if o.prediction is None or o.label is None:
        return None
    return float(str(o.prediction) != str(o.label))


def cbpe_for(config: ModelConfig, profile: ReferenceProfile) -> Any:
    """The reference's fitted CBPE (cached on the profile), or None without one."""
    state = profile.labels.get("cbpe")
    if config.task != "binary_classification" or not state:
        return None
    cbpe = profile.cache.get("cbpe")
    if cbpe is None:
        from detectors.estimation import CBPE

        cbpe = profile.cache["cbpe"] = CBPE.from_state(state)
    return cbpe


def compute_label_records(config: ModelConfig, profile: ReferenceProfile, window_start: int,
                          outcomes: list[Outcome], revision: int = 0) -> list[MetricRecord]:
    """Every label-dependent record of one window."""
    out = RecordBuilder(config, window_start, revision)
    labelled = [o for o in outcomes if o.labelled]
    total = len(outcomes)
    out.add("performance", "label_coverage", len(labelled) / total if total else None, total,
            OK if total else INSUFFICIENT)
    delays = np.asarray([(o.label_ts_ms or 0) - o.ts_ms for o in labelled], dtype=np.float64)
    for q in (50, 95):
        value = float(np.percentile(delays, q)) / 1000 if len(delays) else None
        out.add("performance", f"label_delay_p{q}_s", value, len(delays),
                OK if len(delays) else INSUFFICIENT)
    _realized(out, config, profile, labelled)
    _estimated(out, config, profile, outcomes)
    from monitor.kpi_eval import kpi_records
    from monitor.slice_drift import slice_drift_records
    from monitor.slice_eval import groups, slice_records
    from monitor.worst_slices import worst_records

    slices = groups(config, outcomes) if config.slices else {}
    return (out.records + slice_records(config, profile, window_start, outcomes, revision)
            + slice_drift_records(config, profile.labels.get("slice_predictions") or {},
                                  window_start, outcomes, revision)
            + worst_records(config, window_start, outcomes, revision)
            + kpi_records(config, profile, window_start, outcomes, slices, revision))


MIN_ESTIMATE_ROWS = 30


def _binary_rows(scores: list[Any], predictions: list[Any],
                 labels: list[Any] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores in [0, 1], 0/1 predictions (score >= 0.5 when absent) and 0/1 labels (-1: none)."""
    s_out, p_out, y_out = [], [], []
    for i, score in enumerate(scores):
        if not isinstance(score, int | float) or isinstance(score, bool) or not 0 <= score <= 1:
            continue
        pred = binary_label(predictions[i]) if i < len(predictions) else None
        label = binary_label(labels[i]) if labels is not None and i < len(labels) else None
        s_out.append(float(score))
        p_out.append(int(score >= 0.5) if pred is None else pred)
        y_out.append(-1 if label is None else label)
    return (np.asarray(s_out, dtype=np.float64), np.asarray(p_out, dtype=np.int64),
            np.asarray(y_out, dtype=np.int64))


def reference_label_baseline(config: ModelConfig, scores: list[Any], predictions: list[Any],
                             labels: list[Any]) -> dict[str, Any]:
    """What a labelled reference sets: its realized metrics and the fitted CBPE (binary)."""
    if not any(y is not None for y in labels):
        return {}
    out: dict[str, Any] = {"n_labelled": sum(y is not None for y in labels)}
    rows = [(predictions[i] if i < len(predictions) else None,
             scores[i] if i < len(scores) else None, y)
            for i, y in enumerate(labels) if y is not None]
    out["performance"] = reference_performance(config, rows)
    if config.task == "binary_classification":
        s, p, y = _binary_rows(scores, predictions, labels)
        keep = y >= 0
        if keep.sum() >= MIN_ESTIMATE_ROWS and len(set(y[keep].tolist())) == 2:
            from detectors.estimation import CBPE

            cbpe = CBPE(seed=config.drift.seed).fit(s[keep], y[keep], p[keep])
            out["cbpe"] = cbpe.to_state()
    return out


def _estimated(out: RecordBuilder, config: ModelConfig, profile: ReferenceProfile,
               outcomes: list[Outcome]) -> None:
    """``estimated_performance``: CBPE on every prediction's score, labelled or not."""
    cbpe = cbpe_for(config, profile)
    if cbpe is None:
        return
    s, p, _ = _binary_rows([o.score for o in outcomes], [o.prediction for o in outcomes])
    reference = cbpe.reference_metrics_
    if len(s) < MIN_ESTIMATE_ROWS:
        for metric in cbpe.metrics:
            out.add("estimated_performance", metric, None, len(s), INSUFFICIENT,
                    threshold=reference.get(metric))
        return
    for e in cbpe.estimate(s, p):
        ref = reference.get(e.metric)
        status = ALERT if ref is not None and e.upper < ref else OK
        out.add("estimated_performance", e.metric, e.value, e.n, status, threshold=ref,
                ci=(e.lower, e.upper))


def concept_records(config: ModelConfig, window_start: int,
                    results: list[tuple[str, float | None, int, str]],
                    revision: int) -> list[MetricRecord]:
    """One ``concept_drift`` record per detector (see :mod:`monitor.concept_eval`)."""
    out = RecordBuilder(config, window_start, revision)
    for name, change_s, n, status in results:
        out.add("concept_drift", name, change_s, n, status)
    return out.records


TASKS = {"binary_classification": "binary", "multiclass_classification": "multiclass",
         "regression": "regression"}


def realized_metrics(config: ModelConfig, rows: list[tuple[Any, Any, Any]]) -> list[Any]:
    """Realized metrics of ``(prediction, score, label)`` rows (:mod:`detectors.performance`)."""
    from detectors._base import DetectorError

    compute = {"binary_classification": _binary, "regression": _regression}.get(
        config.task, _multiclass)
    try:
        return compute(rows, config.drift.seed)
    except DetectorError:
        return []


def _binary(rows: list[tuple[Any, Any, Any]], seed: int) -> list[Any]:
    from detectors.performance import binary_metrics

    y_true: list[float] = []
    scores: list[float] = []
    preds: list[float] = []
    for p, s, y in rows:
        label, pred = binary_label(y), binary_label(p)
        if label is None:
            continue
        score = _number(s, -1.0)
        pred_value = pred if pred is not None else int(score >= 0.5)
        y_true.append(float(label))
        preds.append(float(pred_value))
        scores.append(score if score >= 0 else float(pred_value))
    return list(binary_metrics(y_true, scores, preds, seed=seed)) if y_true else []


def _regression(rows: list[tuple[Any, Any, Any]], seed: int) -> list[Any]:
    from detectors.performance import regression_metrics

    pairs = [(float(p), float(y)) for p, _, y in rows if _is_real(p) and _is_real(y)]
    if not pairs:
        return []
    return list(regression_metrics([y for _, y in pairs], [p for p, _ in pairs], seed=seed))


def _multiclass(rows: list[tuple[Any, Any, Any]], seed: int) -> list[Any]:
    from detectors.performance import multiclass_metrics

    kept = [(str(p), s, str(y)) for p, s, y in rows
            if p is not None and y is not None and isinstance(s, dict)]
    if not kept:
        return []
    return list(multiclass_metrics([y for _, _, y in kept], [s for _, s, _ in kept],
                                   [p for p, _, _ in kept], seed=seed))


def _number(value: Any, default: float) -> float:
    return float(value) if _is_real(value) and 0 <= value <= 1 else default


def _is_real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)


def reference_performance(config: ModelConfig, rows: list[tuple[Any, Any, Any]]
                          ) -> dict[str, Any]:
    """The reference's realized metrics ``{metric: [value, n]}`` and its class balance."""
    values = {m.metric: [m.value, m.n] for m in realized_metrics(config, rows)
              if m.value is not None}
    balance: dict[str, int] = {}
    if config.task != "regression":
        for _, _, y in rows:
            key = str(binary_label(y) if config.task == "binary_classification" else y)
            if y is not None and key != "None":
                balance[key] = balance.get(key, 0) + 1
    return {"metrics": values, "class_balance": balance}


def _realized(out: RecordBuilder, config: ModelConfig, profile: ReferenceProfile,
              labelled: list[Outcome]) -> None:
    from detectors.performance import compare_to_reference, default_verdict_metrics
    from detectors.performance.compare import kind_of

    values = realized_metrics(config, [(o.prediction, o.score, o.label) for o in labelled])
    reference = profile.labels.get("performance") or {}
    ref_metrics: dict[str, list[Any]] = reference.get("metrics", {})
    task = TASKS[config.task]
    balance = reference.get("class_balance") or {}
    try:
        verdict = set(default_verdict_metrics(task, balance))  # type: ignore[arg-type]
    except ValueError:
        verdict = set()
    for m in values:
        ref = ref_metrics.get(m.metric)
        status, p_value = (OK if m.support_ok else INSUFFICIENT), None
        if m.metric in verdict and ref is not None:
            cmp = compare_to_reference(m, float(ref[0]), int(ref[1]), kind=kind_of(m),
                                       higher_is_better=m.metric not in LOWER_IS_BETTER)
            status, p_value = cmp.status, cmp.p_value
        out.add("performance", m.metric, m.value, m.n, status, feature=m.label,
                threshold=None if ref is None else float(ref[0]), p_value=p_value,
                ci=(m.ci_low, m.ci_high))


def binary_label(value: Any) -> int | None:
    """A label or prediction of a binary model as 0/1 (booleans, numbers, "0"/"1"/"true")."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.lower() in ("0", "1", "true", "false"):
        return int(value.lower() in ("1", "true"))
    return None
