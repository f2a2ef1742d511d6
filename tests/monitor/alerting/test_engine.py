"""The per-series state machine: for/clear windows, hysteresis, revisions, gaps, persistence."""

from __future__ import annotations

import json
from collections.abc import Iterable

import pytest

from monitor.alerting.engine import (
    SeriesState,
    Transition,
    active_alert,
    active_alerts,
    apply,
    evaluate,
    fingerprint,
    series_labels,
)
from monitor.alerting.rules import Condition, Match, Rule, ValueTest
from monitor.records import MetricRecord
from tests.monitor.alerting._records import rec, w

MATCH = Match(family="data_drift", metric="psi")
STATUS = Rule(name="drift", match=MATCH, condition=Condition(status=["alert"]))
ABOVE = Condition(value=ValueTest(op=">", threshold=0.3))
BAND = Rule(name="band", match=MATCH, condition=ABOVE,
            clear=Condition(value=ValueTest(op="<", threshold=0.2)))
FP = fingerprint(series_labels(STATUS, rec(0)))
BAND_FP = fingerprint(series_labels(BAND, rec(0)))

Step = list[tuple[str, str | None, int, float | None]]


def feed(rule: Rule, records: Iterable[MetricRecord], state: SeriesState | None = None
         ) -> tuple[SeriesState, list[Step]]:
    """Apply records one by one; the transitions of each, as (kind, alert_id, window, value)."""
    steps: list[Step] = []
    for r in records:
        state, out = apply(rule, state, r)
        steps.append([(t.kind, t.alert_id, t.window_start, t.value) for t in out])
    assert state is not None
    return state, steps


def alerts(*statuses: str) -> list[MetricRecord]:
    return [rec(i, float(i), s) for i, s in enumerate(statuses)]


def test_fingerprint_is_stable_and_sorted() -> None:
    labels = series_labels(STATUS, rec(0))
    assert labels == {"model_id": "m", "rule": "drift", "family": "data_drift", "metric": "psi",
                      "feature": "age", "slice": ""}
    assert FP == "b8e413b3711f86c1"
    assert fingerprint(dict(reversed(labels.items()))) == FP
    assert fingerprint({"a": "x\nb=y"}) != fingerprint({"a": "x", "b": "y"})


def test_for_windows_pending_then_firing_at_the_exact_window() -> None:
    rule = STATUS.model_copy(update={"for_windows": 3})
    state, steps = feed(rule, alerts("alert", "alert", "alert", "alert", "ok"))
    assert steps == [
        [("pending", None, w(0), 0.0)],
        [],
        [("firing", f"{FP}-{w(2)}", w(2), 2.0)],
        [],
        [("resolved", f"{FP}-{w(2)}", w(4), 4.0)],
    ]
    assert (state.state, state.fired_at, state.resolved_at) == ("inactive", w(2), w(4))


def test_a_broken_run_goes_back_to_inactive_without_firing() -> None:
    rule = STATUS.model_copy(update={"for_windows": 2})
    state, steps = feed(rule, alerts("alert", "warning", "alert", "insufficient_data", "alert",
                                     "alert"))
    assert steps == [[("pending", None, w(0), 0.0)], [], [("pending", None, w(2), 2.0)], [],
                     [("pending", None, w(4), 4.0)], [("firing", f"{FP}-{w(5)}", w(5), 5.0)]]
    assert (state.state, state.active_at) == ("firing", w(4))


def test_hysteresis_pages_once_for_a_flapping_value() -> None:
    values = [0.1, 0.35, 0.25, 0.32, 0.22, 0.34, 0.21, 0.15, 0.25]
    records = [rec(i, v) for i, v in enumerate(values)]
    _, steps = feed(BAND, records)
    fired = f"{BAND_FP}-{w(1)}"
    assert [s for s in steps if s] == [[("firing", fired, w(1), 0.35)],
                                      [("resolved", fired, w(7), 0.15)]]
    plain = BAND.model_copy(update={"clear": None})
    fp = fingerprint(series_labels(plain, records[0]))
    _, steps = feed(plain, records)
    assert [t for s in steps for t in s] == [
        ("firing", f"{fp}-{w(1)}", w(1), 0.35), ("resolved", f"{fp}-{w(1)}", w(2), 0.25),
        ("firing", f"{fp}-{w(3)}", w(3), 0.32), ("resolved", f"{fp}-{w(3)}", w(4), 0.22),
        ("firing", f"{fp}-{w(5)}", w(5), 0.34), ("resolved", f"{fp}-{w(5)}", w(6), 0.21)]


def test_clear_windows_need_consecutive_clear_windows() -> None:
    rule = STATUS.model_copy(update={"clear_windows": 3})
    _, steps = feed(rule, alerts("alert", "ok", "ok", "alert", "ok", "insufficient_data", "ok",
                                 "ok", "ok", "ok"))
    fired = f"{FP}-{w(0)}"
    assert steps == [[("firing", fired, w(0), 0.0)], [], [], [], [], [], [], [],
                     [("resolved", fired, w(8), 8.0)], []]


def test_a_revision_updates_the_same_alert() -> None:
    state, steps = feed(STATUS, alerts("ok", "alert", "alert"))
    fired = f"{FP}-{w(1)}"
    assert steps == [[], [("firing", fired, w(1), 1.0)], []]
    revised = [rec(1, 9.5, "alert", revision=1), rec(2, 9.6, "alert", revision=1)]
    state, steps = feed(STATUS, revised, state)
    assert steps == [[("updated", fired, w(1), 9.5)], [("updated", fired, w(2), 9.6)]]
    assert (state.state, state.alert_id, state.value) == ("firing", fired, 9.6)
    state, steps = feed(STATUS, [rec(3, 0.0, "ok")], state)
    assert steps == [[("resolved", fired, w(3), 0.0)]]


def test_the_same_record_twice_changes_nothing() -> None:
    state, _ = feed(STATUS, alerts("alert", "alert"))
    again, out = apply(STATUS, state, rec(1, 1.0, "alert"))
    assert (again, out) == (state, [])
    again, out = apply(STATUS, state, rec(0, 0.0, "alert", revision=1))
    assert (again, out) == (state, [])


def test_a_revision_that_moves_the_start_keeps_the_alert_id() -> None:
    rule = STATUS.model_copy(update={"for_windows": 2})
    state, _ = feed(rule, alerts("alert", "alert", "alert", "alert"))
    fired = f"{FP}-{w(1)}"
    assert state.alert_id == fired
    state, steps = feed(rule, [rec(0, 0.0, "ok", revision=1)], state)
    assert steps == [[("updated", fired, w(0), 0.0)]]
    assert (state.state, state.alert_id, state.fired_at, state.active_at) == (
        "firing", fired, w(1), w(1))


def test_a_revision_makes_a_pending_series_fire() -> None:
    rule = STATUS.model_copy(update={"for_windows": 2})
    state, steps = feed(rule, alerts("ok", "alert"))
    assert steps == [[], [("pending", None, w(1), 1.0)]]
    state, steps = feed(rule, [rec(0, 7.0, "alert", revision=1)], state)
    assert steps == [[("firing", f"{FP}-{w(1)}", w(1), 1.0)]]
    assert (state.state, state.active_at, state.fired_at) == ("firing", w(0), w(1))


def test_a_revision_resolves_an_alert() -> None:
    state, _ = feed(STATUS, alerts("alert", "alert"))
    fired = f"{FP}-{w(0)}"
    state, steps = feed(STATUS, [rec(1, 1.0, "ok", revision=1)], state)
    assert steps == [[("resolved", fired, w(1), 1.0)]]
    # and a further revision of the same window re-opens the same alert, not a new one
    state, steps = feed(STATUS, [rec(1, 1.0, "alert", revision=2)], state)
    assert steps == [[("firing", fired, w(0), 0.0)]]
    assert (state.state, state.alert_id, state.resolved_at) == ("firing", fired, None)


def test_a_revision_resolves_at_the_recomputed_window() -> None:
    rule = STATUS.model_copy(update={"clear_windows": 2})
    state, steps = feed(rule, alerts("alert", "alert", "ok"))
    fired = f"{FP}-{w(0)}"
    assert steps == [[("firing", fired, w(0), 0.0)], [], []]
    state, steps = feed(rule, [rec(1, 1.0, "ok", revision=1)], state)
    assert steps == [[("resolved", fired, w(2), 2.0)]]
    assert state.resolved_at == w(2)


def test_gaps_neither_break_nor_extend_a_run() -> None:
    rule = STATUS.model_copy(update={"for_windows": 2})
    state, steps = feed(rule, [rec(0, 0.0, "alert"), rec(2, 2.0, "alert")])
    assert steps == [[("pending", None, w(0), 0.0)], [("firing", f"{FP}-{w(2)}", w(2), 2.0)]]
    # the missing window arriving late is a revision: it breaks the run
    state, steps = feed(rule, [rec(1, 1.0, "ok")], state)
    assert steps == [[("resolved", f"{FP}-{w(2)}", w(1), 1.0), ("pending", None, w(2), 2.0)]]
    assert [e[0] for e in state.history] == [w(0), w(1), w(2)]


def test_history_is_bounded_and_the_band_holds_beyond_it() -> None:
    values = [0.35] + [0.25] * 15 + [0.1]
    state, steps = feed(BAND, [rec(i, v) for i, v in enumerate(values)])
    fired = f"{BAND_FP}-{w(0)}"
    assert [(i, s) for i, s in enumerate(steps) if s] == [
        (0, [("firing", fired, w(0), 0.35)]), (16, [("resolved", fired, w(16), 0.1)])]
    assert len(state.history) == 9
    assert (state.history[0][0], state.folded_through) == (w(8), w(7))
    assert state.base.state == "firing"
    # a revision older than the history is ignored
    again, out = apply(BAND, state, rec(3, 0.1, revision=1))
    assert (again, out) == (state, [])


def test_state_json_round_trip() -> None:
    state, _ = feed(BAND, [rec(i, v) for i, v in enumerate([0.35] + [0.25] * 10 + [None])])
    data = json.loads(json.dumps(state.to_json()))
    assert data["state_version"] == 1
    assert data["history"][-1] == [w(11), None, None]
    back = SeriesState.from_json(data)
    assert back == state
    assert apply(BAND, back, rec(12, 0.1)) == apply(BAND, state, rec(12, 0.1))
    with pytest.raises(ValueError, match="unsupported series state version 2"):
        SeriesState.from_json({**data, "state_version": 2})
    with pytest.raises(ValueError, match="unknown series state 'on'"):
        SeriesState.from_json({**data, "state": "on"})


def test_apply_refuses_a_foreign_record_or_state() -> None:
    with pytest.raises(ValueError, match="rule 'drift' does not match this record"):
        apply(STATUS, None, rec(0, family="kpi"))
    state, _ = apply(STATUS, None, rec(0, feature="age"))
    with pytest.raises(ValueError, match="the state belongs to another series"):
        apply(STATUS, state, rec(0, feature="income"))


def test_evaluate_orders_by_window_and_keys_by_fingerprint() -> None:
    rules = [STATUS.model_copy(update={"for_windows": 2}), BAND]
    records = [rec(1, 0.4, "alert"), rec(0, 0.5, "alert"), rec(0, 0.1, "ok", feature="income")]
    states, out = evaluate(rules, {}, records)
    income = fingerprint(series_labels(STATUS, records[2]))
    income_band = fingerprint(series_labels(BAND, records[2]))
    assert sorted(states) == sorted([FP, BAND_FP, income, income_band])
    assert out == [
        Transition("pending", None, FP, w(0), 0.5),
        Transition("firing", f"{BAND_FP}-{w(0)}", BAND_FP, w(0), 0.5),
        Transition("firing", f"{FP}-{w(1)}", FP, w(1), 0.4),
    ]
    before = dict(states)
    again, out = evaluate(rules, states, [rec(1, 0.3, "ok", revision=1),
                                          rec(1, 0.45, "alert", revision=2)])
    assert states == before
    # 0.3 is inside the band of BAND (clear below 0.2): that alert stays firing, updated
    assert out == [Transition("resolved", f"{FP}-{w(1)}", FP, w(1), 0.3),
                   Transition("updated", f"{BAND_FP}-{w(0)}", BAND_FP, w(1), 0.3),
                   Transition("firing", f"{FP}-{w(1)}", FP, w(1), 0.45),
                   Transition("updated", f"{BAND_FP}-{w(0)}", BAND_FP, w(1), 0.45)]
    assert again[FP].alert_id == f"{FP}-{w(1)}"


def test_active_alert_views() -> None:
    rule = BAND.model_copy(update={
        "labels": {"team": "ranking"}, "severity": "critical",
        "summary": "{model_id} {family}/{metric} {feature} {slice}: {value} > {threshold}"})
    state, _ = feed(rule, [rec(0, 0.1), rec(1, 0.35123456, threshold=None)])
    view = active_alert(rule, state)
    assert view is not None
    assert (view.alert_id, view.state, view.starts_at_ms, view.ends_at_ms) == (
        f"{BAND_FP}-{w(1)}", "firing", w(1), None)
    assert view.labels == {"model_id": "m", "rule": "band", "family": "data_drift",
                           "metric": "psi", "feature": "age", "slice": "", "team": "ranking",
                           "severity": "critical"}
    assert view.annotations == {"summary": "m data_drift/psi age -: 0.351235 > -"}
    assert view.to_public() == {
        "alert_id": f"{BAND_FP}-{w(1)}", "model_id": "m", "fingerprint": BAND_FP,
        "rule": "band", "severity": "critical", "state": "firing",
        "starts_at": "2026-11-21T11:00:00Z", "ends_at": None,
        "labels": {"family": "data_drift", "metric": "psi", "feature": "age", "slice": None},
        "annotations": {"summary": "m data_drift/psi age -: 0.351235 > -"}}
    resolved, _ = feed(rule, [rec(2, 0.1)], state)
    view = active_alert(rule, resolved)
    assert view is not None
    assert (view.state, view.starts_at_ms, view.ends_at_ms) == ("resolved", w(1), w(2))
    assert view.annotations == {"summary": "m data_drift/psi age -: 0.1 > 0.2"}
    pending_rule = STATUS.model_copy(update={"for_windows": 2})
    pending, _ = feed(pending_rule, alerts("alert"))
    view = active_alert(pending_rule, pending)
    assert view is not None
    assert (view.alert_id, view.state, view.starts_at_ms) == (None, "pending", w(0))
    quiet, _ = feed(STATUS, alerts("ok"))
    assert active_alert(STATUS, quiet) is None
    views = active_alerts([rule, pending_rule], [quiet, resolved, pending])
    assert [(v.rule, v.state) for v in views] == [("band", "resolved"), ("drift", "pending")]
