"""Notification timelines of one group: group_wait, group_interval, repeat_interval, resolved."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Literal

import pytest

from monitor.alerting.engine import ActiveAlert
from monitor.alerting.grouping import TIMING, GroupState, Notification, notification_id, plan

S = 1_000
MIN = 60 * S
HOUR = 60 * MIN


def alert(fp: str, state: Literal["firing", "resolved", "pending"] = "firing",
          alert_id: str | None = None, model: str = "m") -> ActiveAlert:
    return ActiveAlert(alert_id or f"{fp}-0", fp, model, "kpi_drop", "critical", state, 0,
                       None if state != "resolved" else 1, {"slice": fp}, {"summary": fp})


def run(group: GroupState, alerts: list[ActiveAlert], now: int
        ) -> tuple[GroupState, Notification | None]:
    return plan(group, alerts, now, **TIMING)


def content(n: Notification | None) -> tuple[str, int, list[tuple[str, str]]] | None:
    if n is None:
        return None
    return n.status, n.flush_ms, [(a.fingerprint, a.state) for a in n.alerts]


def test_a_new_group_waits_group_wait() -> None:
    a = alert("a")
    g, n = run(GroupState("m"), [a], 10 * S)
    assert (n, g.first_seen_ms, g.last_flush_ms) == (None, 10 * S, None)
    g, n = run(g, [a], 39_999)
    assert n is None
    g, n = run(g, [a], 41 * S)
    assert content(n) == ("firing", 40 * S, [("a", "firing")])
    assert (g.last_flush_ms, g.last_sent) == (40 * S, {"a": ("firing", 40 * S, "a-0")})


def test_group_interval_batches_several_slices_into_one_notification() -> None:
    a, ios, android = alert("a"), alert("device=ios"), alert("device=android")
    g, _ = run(GroupState("m"), [a], 0)
    g, n = run(g, [a], 30 * S)
    assert content(n) == ("firing", 30 * S, [("a", "firing")])
    timeline = [(1 * MIN, [a, ios]), (2 * MIN, [a, ios, android]), (5 * MIN, [a, ios, android]),
                (5 * MIN + 29 * S, [a, ios, android])]
    for now, current in timeline:
        g, n = run(g, current, now)
        assert n is None
    g, n = run(g, [a, ios, android], 5 * MIN + 30 * S)
    assert content(n) == ("firing", 5 * MIN + 30 * S,
                          [("a", "firing"), ("device=android", "firing"),
                           ("device=ios", "firing")])
    # nothing new: the next ticks send nothing
    for now in (10 * MIN + 30 * S, 15 * MIN + 30 * S, 3 * HOUR):
        g, n = run(g, [a, ios, android], now)
        assert n is None
    assert g.last_flush_ms == 2 * HOUR + 55 * MIN + 30 * S


def test_repeat_interval_resends_an_unchanged_firing_group() -> None:
    a = alert("a")
    g, _ = run(GroupState("m"), [a], 0)
    g, first = run(g, [a], 30 * S)
    g, n = run(g, [a], 4 * HOUR + 29 * S)
    assert n is None
    g, n = run(g, [a], 4 * HOUR + 30 * S)
    assert content(n) == ("firing", 4 * HOUR + 30 * S, [("a", "firing")])
    assert first is not None
    assert n is not None
    assert n.notification_id != first.notification_id
    # a plan run late catches up to the latest tick of the grid
    g, n = run(g, [a], 8 * HOUR + 30 * S + 4 * MIN)
    assert content(n) == ("firing", 8 * HOUR + 30 * S, [("a", "firing")])


def test_resolved_alerts_are_sent_once_then_dropped() -> None:
    a, b = alert("a"), alert("b")
    g, _ = run(GroupState("m"), [a, b], 0)
    g, _ = run(g, [a, b], 30 * S)
    a_done = alert("a", "resolved")
    g, n = run(g, [a_done, b], 5 * MIN + 30 * S)
    assert content(n) == ("firing", 5 * MIN + 30 * S, [("a", "resolved"), ("b", "firing")])
    assert g.last_sent == {"b": ("firing", 5 * MIN + 30 * S, "b-0")}
    g, n = run(g, [a_done, b], 10 * MIN + 30 * S)
    assert n is None
    b_done = alert("b", "resolved")
    g, n = run(g, [a_done, b_done], 15 * MIN + 30 * S)
    assert content(n) == ("resolved", 15 * MIN + 30 * S, [("b", "resolved")])
    assert g == GroupState("m")  # forgotten: the next alert waits group_wait again
    g, n = run(g, [a_done, b_done], 20 * MIN)
    assert (g, n) == (GroupState("m"), None)
    c = alert("c")
    g, n = run(g, [c], 21 * MIN)
    assert (n, g.first_seen_ms) == (None, 21 * MIN)
    g, n = run(g, [c], 21 * MIN + 30 * S)
    assert content(n) == ("firing", 21 * MIN + 30 * S, [("c", "firing")])


def test_an_alert_resolved_before_group_wait_is_never_sent() -> None:
    g, _ = run(GroupState("m"), [alert("a")], 0)
    g, n = run(g, [alert("a", "resolved")], 30 * S)
    assert (g, n) == (GroupState("m"), None)
    g, n = run(g, [alert("a", "resolved"), alert("p", "pending")], 60 * S)
    assert (g, n) == (GroupState("m"), None)


def test_a_new_episode_of_the_same_fingerprint_is_a_change() -> None:
    g, _ = run(GroupState("m"), [alert("a", alert_id="a-1")], 0)
    g, _ = run(g, [alert("a", alert_id="a-1")], 30 * S)
    g, n = run(g, [alert("a", alert_id="a-2")], 5 * MIN + 30 * S)
    assert n is not None
    assert [a.alert_id for a in n.alerts] == ["a-2"]


def test_an_alert_left_out_by_the_caller_is_dropped_quietly() -> None:
    a, b = alert("a"), alert("b")
    g, _ = run(GroupState("m"), [a, b], 0)
    g, _ = run(g, [a, b], 30 * S)
    g, n = run(g, [a], 5 * MIN + 30 * S)  # b silenced
    assert n is None
    assert g.last_sent == {"a": ("firing", 30 * S, "a-0")}
    g, n = run(g, [a, b], 10 * MIN + 30 * S)  # silence over: b is news again
    assert content(n) == ("firing", 10 * MIN + 30 * S, [("a", "firing"), ("b", "firing")])


def test_notification_id_is_stable_for_the_same_content() -> None:
    a, b = alert("a"), alert("b")
    g, _ = run(GroupState("m"), [a], 0)
    first_try = run(g, [a, b], 30 * S)
    retry = run(g, [b, a], 45 * S)  # same saved state, later call: same notification
    assert first_try == retry
    n = first_try[1]
    assert n is not None
    assert n.notification_id == notification_id("m", [b, a], 30 * S)
    assert len(n.notification_id) == 32
    assert notification_id("m", [a], 30 * S) != n.notification_id
    assert notification_id("m", [a, b], 31 * S) != n.notification_id
    assert notification_id("m", [a, alert("b", alert_id="b-9")], 30 * S) != n.notification_id
    assert notification_id("m", [a, replace(b, state="resolved")], 30 * S) != n.notification_id


def test_group_state_json_round_trip_and_checks() -> None:
    g, _ = run(GroupState("m"), [alert("a")], 0)
    g, _ = run(g, [alert("a")], 30 * S)
    data = json.loads(json.dumps(g.to_json()))
    assert data == {"state_version": 1, "key": "m", "first_seen_ms": 0,
                    "last_flush_ms": 30 * S, "last_sent": {"a": ["firing", 30 * S, "a-0"]}}
    assert GroupState.from_json(data) == g
    with pytest.raises(ValueError, match="unsupported group state version None"):
        GroupState.from_json({})
    with pytest.raises(ValueError, match="every alert of group 'm' must have that model_id"):
        run(g, [alert("x", model="other")], 60 * S)
