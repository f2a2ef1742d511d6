"""Metric records shaped like the ones the service writes, for the alerting tests."""

from __future__ import annotations

from monitor.records import MetricRecord

HOUR = 3_600_000
T0 = 1_795_255_200_000  # 2026-11-21T10:00:00Z, on an hour boundary


def w(i: int) -> int:
    """Start of the i-th hourly window."""
    return T0 + i * HOUR


def rec(i: int, value: float | None = None, status: str = "ok", *, model: str = "m",
        family: str = "data_drift", metric: str = "psi", feature: str | None = "age",
        slice: str | None = None, threshold: float | None = 0.2, revision: int = 0
        ) -> MetricRecord:
    return MetricRecord(model, w(i), w(i) + HOUR, family, metric, feature, slice, value,
                        threshold, None, None, None, 1000, status, revision)
