"""The processing core on seeded streams, against every store (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import Engine

from monitor.records import MetricRecord
from tests.factories import FEEDBACK, HOUR, config, event, feedback, message, reference
from tests.monitor.harness import Harness

T0 = 1_795_000_000_000 - 1_795_000_000_000 % HOUR  # an hour boundary in Nov 2026
NOW = T0 + 30 * HOUR


def make(engine: Engine | None, partitions: int = 1) -> Harness:
    cfg = config()
    return Harness(cfg, reference(cfg), engine, partitions=partitions, now_ms=NOW)


def stream(n: int, start: int, step: int, seed: int = 1, shift: float = 0.0,
           first: int = 0) -> list[dict[str, object]]:
    rng = random.Random(seed)
    return [event(first + i, start + i * step, rng.gauss(shift, 1), rng.choice("abc"))
            for i in range(n)]


def test_window_closes_when_watermark_passes(engine_for: Engine | None) -> None:
    h = make(engine_for)
    evs = stream(100, T0, 1000)
    h.apply([message(e, i) for i, e in enumerate(evs)])
    assert h.maintain() == []
    h.apply([message(event(1000, T0 + HOUR + 4 * 60_000), 100)])
    assert h.maintain() == []  # watermark = 1h04m - 5m < 1h
    h.apply([message(event(1001, T0 + HOUR + 6 * 60_000), 101)])
    changes = h.maintain()
    assert [(c.window_start, c.action) for c in changes] == [(T0, "close")]
    assert h.value(T0, "ingestion", "events").value == 100
    assert h.value(T0, "data_drift", "wasserstein", "x").status == "ok"
    assert h.value(T0, "data_drift", "drift_share").value == 0.0


def test_late_event_revises_then_too_late_is_counted(engine_for: Engine | None) -> None:
    h = make(engine_for)
    h.apply([message(e, i) for i, e in enumerate(stream(50, T0, 1000))])
    h.apply([message(event(500, T0 + HOUR + 10 * 60_000), 50)])
    assert [c.action for c in h.maintain()] == ["close"]
    assert h.value(T0, "ingestion", "events").value == 50
    # within the allowed lateness (1h after the window end): the window is revised
    h.apply([message(event(501, T0 + 30 * 60_000), 51)])
    assert [c.action for c in h.maintain()] == ["revise"]
    rec = h.value(T0, "ingestion", "events")
    assert (rec.value, rec.revision) == (51, 1)
    # event time moves past window end + lateness: final; a later event is only counted
    h.apply([message(event(502, T0 + 2 * HOUR + 10 * 60_000), 52)])
    actions = [(c.window_start, c.action) for c in h.maintain()]
    assert (T0, "finalize") in actions
    stats = h.apply([message(event(503, T0 + 59 * 60_000), 53)])
    assert (stats.accepted, stats.late) == (0, 1)
    assert h.value(T0, "ingestion", "late_events").value == 1
    assert h.value(T0, "ingestion", "events").value == 51


def test_duplicates_are_ignored(engine_for: Engine | None) -> None:
    h = make(engine_for)
    evs = stream(20, T0, 1000)
    h.apply([message(e, i) for i, e in enumerate(evs)] + [message(evs[3], 20)])
    stats = h.apply([message(e, 21 + i) for i, e in enumerate(evs[:5])])
    assert (stats.accepted, stats.duplicates) == (0, 5)
    h.maintain(flush=True)
    assert h.value(T0, "ingestion", "events").value == 20
    assert h.value(T0, "ingestion", "duplicates").value == 6


def test_poison_messages_go_to_dead_letters_and_the_rest_flows(
        engine_for: Engine | None) -> None:
    h = make(engine_for)
    good = stream(10, T0, 1000)
    poison = [
        b"{not json",
        b"[1, 2]",
        b'{"model_id": "m", "timestamp": "2026-11-21T10:00:00Z"}',
        b'{"model_id": "m", "prediction_id": "z1", "timestamp": "2026-11-21T10:00:00Z",'
        b' "features": {}, "prediction": 1, "score": NaN}',
        message(event(900, T0, model_id="nope"), 0).value,
        message(event(901, NOW + 5 * HOUR), 0).value,
        message(event(902, NOW - 400 * 24 * HOUR), 0).value,
        b'{"model_id": "m", "prediction_id": "z2", "timestamp": "yesterday", "features": {},'
        b' "prediction": 1}',
        b'{"model_id": "m", "prediction_id": "z3", "timestamp": %d, "features": [],'
        b' "prediction": 1}' % T0,
        b'{"pad": "' + b"x" * 300_000 + b'"}',
    ]
    msgs = [message(good[0], 0)] + [message(p, 1 + i) for i, p in enumerate(poison)]
    msgs += [message(e, 20 + i) for i, e in enumerate(good[1:])]
    stats = h.apply(msgs)
    assert stats.accepted == 10
    assert dict(stats.dead_letter_reasons) == {
        "bad_json": 1, "not_an_object": 1, "missing_field": 1, "not_finite": 1,
        "unknown_model": 1, "timestamp_in_future": 1, "timestamp_too_old": 1,
        "bad_timestamp": 1, "wrong_type": 1, "oversize": 1}


def test_feedback_joins_in_either_order(engine_for: Engine | None) -> None:
    h = make(engine_for)
    evs = stream(3, T0, 1000)
    h.apply([message(feedback("p0", T0 + 5000, label=0, click=1), 0, stream=FEEDBACK)])
    h.apply([message(e, i) for i, e in enumerate(evs)])
    h.apply([message(feedback("p0", T0 + 9000, label=1, click=1), 1, stream=FEEDBACK),
             message(feedback("p0", T0 + 7000, label=0, click=0), 2, stream=FEEDBACK),
             message(feedback("p1", T0 + 7000, label=1, click=1), 3, stream=FEEDBACK),
             message(feedback("p1", T0 + 7000, label=1, click=1), 4, stream=FEEDBACK)])
    assert h.joined("p0") == (1, {"click": 2.0}, 3)
    assert h.joined("p1") == (1, {"click": 1.0}, 1)
    assert h.joined("p2") == (None, None, 0)


def _strip(records: list[MetricRecord]) -> list[tuple[object, ...]]:
    return sorted((r.model_id, r.window_start, r.family, r.metric, r.feature, r.value, r.n,
                   r.status) for r in records)


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
def test_partitions_merge_to_the_same_records(engine_for: Engine | None,
                                              sqlite_url: str) -> None:
    evs = stream(3000, T0, 3000, shift=0.0) + stream(3000, T0 + 9000_000, 3000, shift=0.8,
                                                    first=3000)
    one = make(None)
    one.apply([message(e, i) for i, e in enumerate(evs)])
    one.maintain(flush=True)
    two = make(engine_for, partitions=3)
    offsets = [0, 0, 0]
    for i in range(0, len(evs), 500):
        batch = []
        for e in evs[i:i + 500]:
            p = hash(str(e["prediction_id"])) % 3
            batch.append(message(e, offsets[p], partition=p))
            offsets[p] += 1
        two.apply(batch)
        two.maintain()
    two.maintain(flush=True)
    assert _strip(two.records()) == _strip(one.records())
    drifted = {r.feature for r in one.records()
               if r.family == "data_drift" and r.status == "alert" and r.feature}
    assert drifted == {"x"}
