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

from monitor.config import ModelConfig
from monitor.records import INSUFFICIENT, OK, MetricRecord
from monitor.reference import ReferenceProfile
from monitor.store import Outcome

LABEL_FAMILIES = frozenset({"performance", "estimated_performance", "concept_drift"})


class _Out:
    def __init__(self, config: ModelConfig, start: int, revision: int) -> None:
        self.config, self.start, self.revision = config, start, revision
        self.records: list[MetricRecord] = []

    def add(self, family: str, metric: str, value: float | None, n: int, status: str, *,
            feature: str | None = None, threshold: float | None = None,
            p_value: float | None = None, ci: tuple[float | None, float | None] = (None, None)
            ) -> None:
        def r(x: float | None) -> float | None:
            return None if x is None or not np.isfinite(x) else round(float(x), 12)

        self.records.append(MetricRecord(
            self.config.model_id, self.start, self.start + self.config.window_ms, family,
            metric, feature, None, r(value), r(threshold), r(p_value), r(ci[0]), r(ci[1]), n,
            status, self.revision))


def compute_label_records(config: ModelConfig, profile: ReferenceProfile, window_start: int,
                          outcomes: list[Outcome], revision: int = 0) -> list[MetricRecord]:
    """Every label-dependent record of one window."""
    out = _Out(config, window_start, revision)
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
    return out.records


def _realized(out: _Out, config: ModelConfig, profile: ReferenceProfile,
              labelled: list[Outcome]) -> None:
    """Realized metrics; filled in by the performance detectors."""
    del out, config, profile, labelled


def binary_label(value: Any) -> int | None:
    """A label or prediction of a binary model as 0/1 (booleans, numbers, "0"/"1"/"true")."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.lower() in ("0", "1", "true", "false"):
        return int(value.lower() in ("1", "true"))
    return None
