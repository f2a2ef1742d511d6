"""Bounded row samples of a window and of the reference, with the model's columns.

The window's sample keeps the ``drift.sample_size`` events with the smallest hash of their event
id (:class:`detectors.sample.RowSample`), so the sample is the same whichever partition or worker
saw which event, and partition samples merge into exactly the window's. The reference keeps
``drift.reference_sample_size`` rows. Samples feed the tests that need values rather than
histograms (KS, Anderson-Darling, Cramer-von Mises, energy, exact Wasserstein), multivariate drift
and the Evidently HTML report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from detectors.histograms import INVALID, numeric_array, to_category
from detectors.sample import RowSample, counter_priorities
from monitor.config import ModelConfig

SCORE_COLUMN = "__score"
PREDICTION_COLUMN = "__prediction"


def confidence(score: Any) -> Any:
    """A score as one number: the largest class probability of a multiclass score."""
    if isinstance(score, dict):
        return max((v for v in score.values() if isinstance(v, int | float)), default=None)
    return score


def embedding_dims(config: ModelConfig, columns: dict[str, list[Any]]) -> dict[str, int]:
    """Each embedding feature's length: the most common one among the reference's vectors."""
    dims: dict[str, int] = {}
    for spec in config.features:
        if spec.type != "embedding":
            continue
        lengths = Counter(len(v) for v in columns.get(spec.name, []) if isinstance(v, list))
        dims[spec.name] = lengths.most_common(1)[0][0] if lengths else 0
    return {k: v for k, v in dims.items() if v > 0}


def schema(config: ModelConfig, dims: dict[str, int]) -> dict[str, str]:
    cols: dict[str, str] = {}
    for spec in config.features:
        if spec.type != "embedding":
            cols[spec.name] = spec.type
        elif spec.name in dims:
            cols[spec.name] = "embedding"
    cols[SCORE_COLUMN] = "numeric"
    cols[PREDICTION_COLUMN] = "numeric" if config.task == "regression" else "categorical"
    return cols


def new_sample(config: ModelConfig, dims: dict[str, int], size: int) -> RowSample:
    return RowSample(size, schema(config, dims), dims)


def typed(kind: str, values: Sequence[Any], dim: int = 0) -> Any:
    """Raw event values as a sample column (wrong types become missing)."""
    if kind == "numeric":
        return numeric_array(list(values))[0]
    if kind == "categorical":
        keys = [to_category(v) for v in values]
        return [None if k is INVALID else k for k in keys]
    out = np.full((len(values), dim), np.nan, dtype=np.float32)
    for i, v in enumerate(values):
        if isinstance(v, list) and len(v) == dim:
            try:
                row = np.asarray(v, dtype=np.float32)
            except (TypeError, ValueError):
                continue
            if np.isfinite(row).all():
                out[i] = row
    return out


def columns_for(sample: RowSample, features: Mapping[str, Sequence[Any]], scores: Sequence[Any],
                predictions: Sequence[Any]) -> dict[str, Any]:
    """Typed columns for ``sample`` from raw per-column values of the same rows."""
    out: dict[str, Any] = {}
    for name, kind in sample.columns.items():
        if name == SCORE_COLUMN:
            out[name] = typed(kind, [confidence(s) for s in scores])
        elif name == PREDICTION_COLUMN:
            out[name] = typed(kind, predictions)
        else:
            out[name] = typed(kind, features.get(name, [None] * len(scores)),
                              sample.dims.get(name, 0))
    return out


def reference_sample(config: ModelConfig, features: dict[str, list[Any]], scores: list[Any],
                     predictions: list[Any], dims: dict[str, int]) -> RowSample:
    n = max((len(v) for v in features.values()), default=0)
    sample = new_sample(config, dims, config.drift.reference_sample_size)
    if n == 0:
        return sample
    pri = counter_priorities(0, n, config.drift.seed + 1)
    keep = np.argsort(pri, kind="stable")[: sample.size]
    pick = [int(i) for i in keep]

    def rows(col: list[Any]) -> list[Any]:
        return [col[i] if i < len(col) else None for i in pick]

    cols = columns_for(sample, {k: rows(v) for k, v in features.items()},
                       rows(scores) if scores else [None] * len(pick),
                       rows(predictions) if predictions else [None] * len(pick))
    sample.update(cols, pri[keep])
    sample.n_seen = n
    return sample
