"""Labels arriving late: coverage and delay records, revisions, orphan feedback (every store)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from monitor.config import parse_config
from monitor.db.schema import DeadLetterRow
from tests.factories import FEEDBACK, HOUR, event, feedback, message, reference
from tests.monitor.harness import Harness

T0 = 1_795_000_000_000 - 1_795_000_000_000 % HOUR
NOW = T0 + 30 * HOUR


def make(engine: Engine | None) -> Harness:
    cfg = parse_config({
        "model_id": "m", "task": "binary_classification", "window": "1h",
        "features": [{"name": "x", "type": "numeric"}, {"name": "c", "type": "categorical"}],
        "lateness": {"out_of_orderness": "5m", "allowed_lateness": "1h",
                     "feedback_lateness": "2h"},
        "drift": {"min_samples": 5},
    })
    return Harness(cfg, reference(cfg), engine, now_ms=NOW)


def advance(h: Harness, ts: int, offset: int) -> None:
    """Move the predictions' event time to ``ts`` with one event, then maintain."""
    h.apply([message(event(offset, ts), offset)])
    h.maintain()


def dead_reasons(h: Harness) -> list[tuple[str, int]]:
    if h.memory is not None:
        return [(d.reason, d.offset) for d in h.memory.dead_letters]
    assert h.engine is not None
    with h.engine.connect() as conn:
        t = DeadLetterRow.__table__
        return [(r.reason, r.kafka_offset) for r in conn.execute(select(t).order_by(t.c.id))]


def test_coverage_delay_and_revisions_as_labels_arrive(engine_for: Engine | None) -> None:
    h = make(engine_for)
    h.apply([message(event(i, T0 + i * 1000, x=0.1 * i), i) for i in range(10)])
    # labels for p0..p4, each 60 s + i * 30 s after its prediction
    h.apply([message(feedback(f"p{i}", T0 + i * 1000 + 60_000 + i * 30_000, label=i % 2), i,
                     stream=FEEDBACK) for i in range(5)])
    advance(h, T0 + HOUR + 6 * 60_000, 100)  # closes the first window
    cov = h.value(T0, "performance", "label_coverage")
    assert (cov.value, cov.n, cov.revision) == (0.5, 10, 0)
    p50 = h.value(T0, "performance", "label_delay_p50_s")
    p95 = h.value(T0, "performance", "label_delay_p95_s")
    assert (p50.value, p50.n) == (120.0, 5)
    assert p95.value == pytest.approx(174.0)  # numpy's linear percentile of 60, 90, ..., 180

    # a label after the close revises the window
    h.apply([message(feedback("p5", T0 + 5000 + 60_000, label=1), 5, stream=FEEDBACK)])
    h.maintain()
    cov = h.value(T0, "performance", "label_coverage")
    assert (cov.value, cov.revision) == (0.6, 1)
    assert h.value(T0, "data_drift", "drift_share").revision == 1

    # once final, a label recomputes only the label families
    advance(h, T0 + 3 * HOUR, 101)
    h.apply([message(feedback("p6", T0 + 6000 + 60_000, label=0), 6, stream=FEEDBACK)])
    h.maintain()
    cov = h.value(T0, "performance", "label_coverage")
    assert (cov.value, cov.revision) == (0.7, 2)
    assert h.value(T0, "data_drift", "drift_share").revision == 1


def test_feedback_without_prediction_becomes_an_orphan_after_the_ttl(
        engine_for: Engine | None) -> None:
    h = make(engine_for)
    h.apply([message(event(0, T0), 0)])
    h.apply([message(feedback("ghost", T0 + 1000, label=1), 7, stream=FEEDBACK),
             message(feedback("late-pred", T0 + 2000, label=1), 8, stream=FEEDBACK)])
    advance(h, T0 + HOUR, 1)
    assert dead_reasons(h) == []  # within the 2h feedback lateness: still waiting
    h.apply([message(event(2, T0 + HOUR + 1000, event_id=None) | {"prediction_id": "late-pred"},
                     2)])
    advance(h, T0 + 3 * HOUR, 3)  # the model's event time passes T0 + 1s + 2h (+ 5m)
    assert dead_reasons(h) == [("orphan_feedback", 7)]
    label, _, count = h.joined("late-pred")
    assert (label, count) == (1, 1)


def test_final_windows_are_relabelled_at_most_once_per_interval() -> None:
    h = make(None)
    h.processor.relabel_interval_s = 3600.0
    h.apply([message(event(i, T0 + i * 1000), i) for i in range(10)])
    advance(h, T0 + 3 * HOUR, 100)  # closes and finalizes the window (the interval starts)
    assert h.value(T0, "performance", "label_coverage").value == 0.0
    h.apply([message(feedback("p1", T0 + 60_000, label=1), 1, stream=FEEDBACK)])
    h.maintain()
    assert h.value(T0, "performance", "label_coverage").value == 0.0  # waits for the interval
    h.maintain(flush=True)  # backtest's end of input, or the next interval
    cov = h.value(T0, "performance", "label_coverage")
    assert (cov.value, cov.revision) == (0.1, 1)
