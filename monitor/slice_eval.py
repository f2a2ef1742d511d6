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
from functools import partial

import numpy as np

from detectors.performance._common import wilson
from monitor.config import ModelConfig
from monitor.performance_eval import RecordBuilder, _binary_rows, cbpe_for, prediction_error
from monitor.records import INSUFFICIENT, OK, MetricRecord
from monitor.reference import ReferenceProfile
from monitor.store import Outcome

Z95 = 1.959963984540054


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


def slice_records(config: ModelConfig, profile: ReferenceProfile, window_start: int,
                  outcomes: list[Outcome], revision: int = 0) -> list[MetricRecord]:
    if not config.slices:
        return []
    out = RecordBuilder(config, window_start, revision)
    support = config.slicing.min_support
    cbpe = cbpe_for(config, profile)
    for key, outs in groups(config, outcomes).items():
        add = partial(out.add, "slice_performance", slice_key=key)
        add("count", float(len(outs)), len(outs), OK)
        errs = [e for e in (prediction_error(config, o) for o in outs if o.labelled)
                if e is not None]
        if len(errs) < support:
            add("mae" if config.task == "regression" else "accuracy", None, len(errs),
                INSUFFICIENT)
        elif config.task == "regression":
            arr = np.asarray(errs)
            half = Z95 * float(arr.std(ddof=1)) / math.sqrt(len(arr))
            mean = float(arr.mean())
            add("mae", mean, len(arr), OK, ci=(mean - half, mean + half))
        else:
            k = len(errs) - int(sum(errs))
            add("accuracy", k / len(errs), len(errs), OK, ci=wilson(k, len(errs), Z95))
        if cbpe is not None:
            s, p, _ = _binary_rows([o.score for o in outs], [o.prediction for o in outs])
            if len(s) < support:
                add("estimated_accuracy", None, len(s), INSUFFICIENT)
            else:
                est = next(e for e in cbpe.estimate(s, p) if e.metric == "accuracy")
                add("estimated_accuracy", est.value, est.n, OK, ci=(est.lower, est.upper))
    return out.records
