"""``slice_performance`` records: per slice of a window, its size and how the model does there.

Single-dimension slices (``dim=value``, see :mod:`monitor.slicing`) get, per window:
``count``; ``accuracy`` (classification, Wilson interval) or ``mae`` (regression, normal
interval) over the slice's labelled predictions, ``insufficient_data`` below
``slicing.min_support`` labelled rows; and ``estimated_accuracy`` (binary models with a labelled
reference: CBPE on the slice's scores). At most ``slicing.max_values`` values per dimension, the
largest, are reported.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

from monitor.config import ModelConfig
from monitor.performance_eval import _binary_rows, binary_label
from monitor.records import INSUFFICIENT, OK, MetricRecord
from monitor.reference import ReferenceProfile
from monitor.store import Outcome

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of ``k`` successes in ``n``.

    >>> [round(x, 4) for x in wilson(8, 10)]
    [0.4902, 0.9433]
    """
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def wrong(config: ModelConfig, o: Outcome) -> int | None:
    """1 when a labelled classification was wrong, 0 when right, None when it cannot tell."""
    if config.task == "binary_classification":
        p, y = binary_label(o.prediction), binary_label(o.label)
        return None if p is None or y is None else int(p != y)
    if o.prediction is None or o.label is None:
        return None
    return int(str(o.prediction) != str(o.label))


def groups(config: ModelConfig, outcomes: list[Outcome]) -> dict[str, list[Outcome]]:
    """Outcomes by single-dimension slice key, the largest ``max_values`` values per dimension."""
    by_dim: dict[str, dict[str, list[Outcome]]] = defaultdict(lambda: defaultdict(list))
    for o in outcomes:
        for dim, value in o.slices.items():
            by_dim[dim][value].append(o)
    out: dict[str, list[Outcome]] = {}
    for dim in sorted(by_dim):
        ranked = sorted(by_dim[dim].items(), key=lambda kv: (-len(kv[1]), kv[0]))
        for value, outs in ranked[: config.slicing.max_values]:
            out[f"{dim}={value}"] = outs
    return out


class _Out:
    def __init__(self, config: ModelConfig, start: int, revision: int) -> None:
        self.config, self.start, self.revision = config, start, revision
        self.records: list[MetricRecord] = []

    def add(self, metric: str, slice_key: str, value: float | None, n: int, status: str, *,
            ci: tuple[float | None, float | None] = (None, None),
            threshold: float | None = None, p_value: float | None = None,
            family: str = "slice_performance") -> None:
        def r(x: float | None) -> float | None:
            return None if x is None or not np.isfinite(x) else round(float(x), 12)

        self.records.append(MetricRecord(
            self.config.model_id, self.start, self.start + self.config.window_ms, family,
            metric, None, slice_key, r(value), r(threshold), r(p_value), r(ci[0]), r(ci[1]),
            n, status, self.revision))


def slice_records(config: ModelConfig, profile: ReferenceProfile, window_start: int,
                  outcomes: list[Outcome], revision: int = 0) -> list[MetricRecord]:
    if not config.slices:
        return []
    out = _Out(config, window_start, revision)
    support = config.slicing.min_support
    cbpe = _cbpe(config, profile)
    for key, outs in groups(config, outcomes).items():
        out.add("count", key, float(len(outs)), len(outs), OK)
        labelled = [o for o in outs if o.labelled]
        if config.task == "regression":
            errs = [abs(float(o.prediction) - float(o.label)) for o in labelled
                    if _real(o.prediction) and _real(o.label)]
            _mae(out, key, errs, support)
        else:
            flags = [w for w in (wrong(config, o) for o in labelled) if w is not None]
            if len(flags) < support:
                out.add("accuracy", key, None, len(flags), INSUFFICIENT)
            else:
                k = len(flags) - sum(flags)
                out.add("accuracy", key, k / len(flags), len(flags), OK,
                        ci=wilson(k, len(flags)))
        if cbpe is not None:
            s, p, _ = _binary_rows([o.score for o in outs], [o.prediction for o in outs])
            if len(s) < support:
                out.add("estimated_accuracy", key, None, len(s), INSUFFICIENT)
            else:
                est = next(e for e in cbpe.estimate(s, p) if e.metric == "accuracy")
                out.add("estimated_accuracy", key, est.value, est.n, OK,
                        ci=(est.lower, est.upper))
    return out.records


def _mae(out: _Out, key: str, errs: list[float], support: int) -> None:
    if len(errs) < support:
        out.add("mae", key, None, len(errs), INSUFFICIENT)
        return
    arr = np.asarray(errs)
    half = Z95 * float(arr.std(ddof=1)) / math.sqrt(len(arr))
    out.add("mae", key, float(arr.mean()), len(arr), OK,
            ci=(float(arr.mean()) - half, float(arr.mean()) + half))


def _real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _cbpe(config: ModelConfig, profile: ReferenceProfile) -> Any:
    state = profile.labels.get("cbpe")
    if config.task != "binary_classification" or not state:
        return None
    from detectors.estimation import CBPE

    cbpe = profile.cache.get("cbpe")
    if cbpe is None:
        cbpe = profile.cache["cbpe"] = CBPE.from_state(state)
    return cbpe
