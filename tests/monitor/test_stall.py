"""An ingestion stall: one model's events stop while the stream's event time moves on."""

from __future__ import annotations

from monitor.events import EventLimits
from monitor.memory_store import MemoryStore
from monitor.processing import ModelRuntime, Processor
from monitor.registry import StaticRegistry
from tests.factories import HOUR, config, event, message, reference

T0 = 1_795_000_000_000 - 1_795_000_000_000 % HOUR


def test_a_model_whose_events_stop_gets_a_stall_alert_that_clears_when_they_return() -> None:
    live, quiet = config(model_id="live", ooo="1m"), config(model_id="quiet", ooo="1m")
    processor = Processor(StaticRegistry([ModelRuntime(live, reference(live)),
                                          ModelRuntime(quiet, reference(quiet))]),
                          EventLimits(now_ms=T0 + 40 * HOUR))
    store = MemoryStore()
    offset = 0

    def send(model_id: str, w: int, n: int = 20) -> None:
        nonlocal offset
        batch = []
        for i in range(n):
            ev = event(offset, T0 + w * HOUR + i * 60_000, model_id=model_id)
            batch.append(message(ev | {"prediction_id": f"{model_id}{offset}"}, offset))
            offset += 1
        processor.apply_batch(store, batch)
        processor.maintain(store.transaction)

    for w in range(2):
        send("live", w)
        send("quiet", w)
    for w in range(2, 7):  # "quiet" stops sending for five windows
        send("live", w)
    stalls = {r.window_start: r.status for r in store.all_records()
              if r.model_id == "quiet" and r.metric == "stall"}
    assert stalls == {T0 + w * HOUR: s for w, s in
                      [(0, "ok"), (1, "ok"), (2, "alert"), (3, "alert"), (4, "alert"),
                       (5, "alert")]}
    firing = [a for a in store.alerts.values() if a.rule == "ingestion_stall"]
    assert [(a.model_id, a.state, a.starts_at_ms) for a in firing] == [
        ("quiet", "firing", T0 + 2 * HOUR)]
    assert not any(r.model_id == "live" and r.metric == "stall" and r.status == "alert"
                   for r in store.all_records())
    for w in range(7, 10):  # events return
        send("quiet", w)
        send("live", w)
    (alert,) = [a for a in store.alerts.values() if a.rule == "ingestion_stall"]
    assert (alert.state, alert.ends_at_ms) == ("resolved", T0 + 7 * HOUR)
