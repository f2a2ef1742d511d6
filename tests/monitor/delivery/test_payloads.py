"""Alertmanager, Slack and PagerDuty bodies of a notification, compared whole."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, Literal

import pytest

from monitor.delivery.payloads import (
    AlertView,
    Notification,
    alertmanager_payload,
    encode_json,
    pagerduty_payload,
    pagerduty_severity,
    slack_payload,
)

T_FIRE = 1_795_255_200_000  # 2026-11-21T10:00:00Z
T_OLD = 1_795_251_600_123  # 2026-11-21T09:00:00.123Z
T_END = 1_795_258_800_000  # 2026-11-21T11:00:00Z
RUNBOOK = "https://runbooks.example/psi"


def exact(text: str) -> str:
    """A ``pytest.raises`` pattern that matches ``text`` and nothing else."""
    return f"^{re.escape(text)}$"


def firing(**changes: Any) -> AlertView:
    alert = AlertView("a1", "3f2c1b0a9d8e7f60", "fraud-v3", "feature_drift", "critical",
                      "firing", T_FIRE, None, {"feature": "amount", "team": "risk"},
                      {"summary": "PSI 0.31 on amount", "runbook_url": RUNBOOK})
    return dataclasses.replace(alert, **changes)


def resolved(**changes: Any) -> AlertView:
    alert = AlertView("a2", "9e8d7c6b5a493827", "fraud-v3", "feature_drift", "warning",
                      "resolved", T_OLD, T_END, {"feature": "country", "team": "risk"},
                      {"summary": "PSI 0.12 on country", "runbook_url": RUNBOOK})
    return dataclasses.replace(alert, **changes)


def notification(*alerts: AlertView, url: str = "https://driftline.example.com") -> Notification:
    alerts = alerts or (firing(), resolved())
    status: Literal["firing", "resolved"] = (
        "firing" if any(a.state == "firing" for a in alerts) else "resolved")
    return Notification('{}:{model_id="fraud-v3"}', "oncall", status, alerts, "n-1", url,
                        {"model_id": "fraud-v3"})


# --- the data ------------------------------------------------------------------------------------

def test_alert_state_is_checked() -> None:
    with pytest.raises(ValueError, match=exact("alert state must be 'firing' or 'resolved', "
                                               "not 'pending'")):
        firing(state="pending")
    with pytest.raises(ValueError, match=exact("alert fingerprint must not be empty")):
        firing(fingerprint="")


def test_notification_status_follows_its_alerts_as_in_alertmanager() -> None:
    with pytest.raises(ValueError, match=exact("notification status is 'resolved' but its "
                                               "alerts say 'firing'")):
        Notification("g", "r", "resolved", (firing(), resolved()), "n-1")
    with pytest.raises(ValueError, match=exact("notification status is 'firing' but its "
                                               "alerts say 'resolved'")):
        Notification("g", "r", "firing", (resolved(),), "n-1")
    with pytest.raises(ValueError, match=exact("a notification needs at least one alert")):
        Notification("g", "r", "firing", (), "n-1")


def test_encode_json_is_compact_utf8_and_stable() -> None:
    n = notification()
    body = encode_json(alertmanager_payload(n))
    assert body == encode_json(alertmanager_payload(n))
    assert json.loads(body) == alertmanager_payload(n)
    assert b": " not in body
    assert b", " not in body.replace(b"feature=", b"")
    assert encode_json({"s": "ü"}) == b'{"s":"\xc3\xbc"}'
    with pytest.raises(ValueError, match="Out of range float values"):
        encode_json({"x": float("nan")})


# --- Alertmanager --------------------------------------------------------------------------------

def test_alertmanager_payload_whole() -> None:
    assert alertmanager_payload(notification()) == {
        "version": "4",
        "groupKey": '{}:{model_id="fraud-v3"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "oncall",
        "groupLabels": {"model_id": "fraud-v3"},
        "commonLabels": {"alertname": "feature_drift", "model_id": "fraud-v3", "team": "risk"},
        "commonAnnotations": {"runbook_url": RUNBOOK},
        "externalURL": "https://driftline.example.com",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "feature_drift", "feature": "amount",
                           "model_id": "fraud-v3", "severity": "critical", "team": "risk"},
                "annotations": {"runbook_url": RUNBOOK, "summary": "PSI 0.31 on amount"},
                "startsAt": "2026-11-21T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "https://driftline.example.com/api/v1/models/fraud-v3",
                "fingerprint": "3f2c1b0a9d8e7f60",
            },
            {
                "status": "resolved",
                "labels": {"alertname": "feature_drift", "feature": "country",
                           "model_id": "fraud-v3", "severity": "warning", "team": "risk"},
                "annotations": {"runbook_url": RUNBOOK, "summary": "PSI 0.12 on country"},
                "startsAt": "2026-11-21T09:00:00.123Z",
                "endsAt": "2026-11-21T11:00:00Z",
                "generatorURL": "https://driftline.example.com/api/v1/models/fraud-v3",
                "fingerprint": "9e8d7c6b5a493827",
            },
        ],
    }


def test_alertmanager_truncation_keeps_common_labels_of_all_alerts() -> None:
    body = alertmanager_payload(notification(), max_alerts=1)
    assert body["truncatedAlerts"] == 1
    assert [a["fingerprint"] for a in body["alerts"]] == ["3f2c1b0a9d8e7f60"]
    assert body["commonLabels"] == {"alertname": "feature_drift", "model_id": "fraud-v3",
                                    "team": "risk"}
    assert alertmanager_payload(notification(), max_alerts=5)["truncatedAlerts"] == 0
    with pytest.raises(ValueError, match=exact("max_alerts must be 0 (no limit) or positive")):
        alertmanager_payload(notification(), max_alerts=-1)


def test_alertmanager_all_resolved_and_without_an_external_url() -> None:
    body = alertmanager_payload(notification(resolved(), url=""))
    assert body["status"] == "resolved"
    assert body["externalURL"] == ""
    assert body["alerts"][0]["generatorURL"] == ""
    assert body["commonLabels"] == {"alertname": "feature_drift", "feature": "country",
                                    "model_id": "fraud-v3", "severity": "warning",
                                    "team": "risk"}


def test_identity_labels_win_over_labels_of_the_same_name() -> None:
    alert = firing(labels={"severity": "low", "alertname": "x", "model_id": "y", "slice": "eu"})
    assert alertmanager_payload(notification(alert))["alerts"][0]["labels"] == {
        "alertname": "feature_drift", "model_id": "fraud-v3", "severity": "critical",
        "slice": "eu"}


def test_generator_url_quotes_the_model_id() -> None:
    body = alertmanager_payload(notification(firing(model_id="team a/b"),
                                             url="https://d.example/"))
    assert body["alerts"][0]["generatorURL"] == "https://d.example/api/v1/models/team%20a%2Fb"


# --- Slack ---------------------------------------------------------------------------------------

def test_slack_payload_whole() -> None:
    assert slack_payload(notification()) == {
        "text": "[FIRING:1] feature_drift on model fraud-v3",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "emoji": True,
                                        "text": "[FIRING:1] feature_drift on model fraud-v3"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": (
                ":red_circle: *feature_drift* on `fraud-v3` (critical, firing)\n"
                "PSI 0.31 on amount\n"
                "since 2026-11-21T10:00:00Z\n"
                "feature=amount, team=risk")}},
            {"type": "section", "text": {"type": "mrkdwn", "text": (
                ":large_green_circle: *feature_drift* on `fraud-v3` (warning, resolved)\n"
                "PSI 0.12 on country\n"
                "since 2026-11-21T09:00:00.123Z, ended 2026-11-21T11:00:00Z\n"
                "feature=country, team=risk")}},
        ],
    }


def test_slack_titles() -> None:
    assert slack_payload(notification(resolved()))["text"] == (
        "[RESOLVED] feature_drift on model fraud-v3")
    mixed = notification(firing(), firing(rule="label_shift", model_id="churn-v1",
                                          fingerprint="f2"))
    assert slack_payload(mixed)["text"] == "[FIRING:2] 2 rules on 2 models"


def test_slack_escapes_its_control_characters() -> None:
    alert = firing(rule="a<b>&c", labels={"k": "<!channel>"},
                   annotations={"description": "x > y & <@U123>"})
    text = slack_payload(notification(alert))["blocks"][1]["text"]["text"]
    assert text == (":red_circle: *a&lt;b&gt;&amp;c* on `fraud-v3` (critical, firing)\n"
                    "x &gt; y &amp; &lt;@U123&gt;\n"
                    "since 2026-11-21T10:00:00Z\n"
                    "k=&lt;!channel&gt;")


def test_slack_clips_header_and_section_text() -> None:
    alert = firing(rule="r" * 200, annotations={"summary": "s" * 5000})
    body = slack_payload(notification(alert))
    header = body["blocks"][0]["text"]["text"]
    assert len(header) == 150
    assert header.endswith("r…")
    section = body["blocks"][1]["text"]["text"]
    assert len(section) == 3000
    assert section.endswith("s…")


def many(count: int) -> Notification:
    return notification(*(firing(alert_id=f"a{i}", fingerprint=f"f{i:03d}") for i in range(count)))


@pytest.mark.parametrize(("count", "sections", "note"), [
    (1, 1, None),
    (49, 49, None),
    (50, 48, "…and 2 more alerts not shown; see <https://driftline.example.com|Driftline>"),
    (120, 48, "…and 72 more alerts not shown; see <https://driftline.example.com|Driftline>"),
])
def test_slack_never_sends_more_than_50_blocks(count: int, sections: int,
                                               note: str | None) -> None:
    blocks = slack_payload(many(count))["blocks"]
    assert len(blocks) <= 50
    assert blocks[0]["type"] == "header"
    assert sum(b["type"] == "section" for b in blocks) == sections
    if note is None:
        assert blocks[-1]["type"] == "section"
    else:
        assert len(blocks) == 50
        assert blocks[-1] == {"type": "context",
                              "elements": [{"type": "mrkdwn", "text": note}]}


def test_slack_truncation_note_without_an_external_url() -> None:
    n = dataclasses.replace(many(60), external_url="")
    assert slack_payload(n)["blocks"][-1]["elements"][0]["text"] == (
        "…and 12 more alerts not shown")


# --- PagerDuty -----------------------------------------------------------------------------------

def test_pagerduty_payload_whole() -> None:
    assert pagerduty_payload(notification(), "R0UTINGKEY") == [
        {
            "routing_key": "R0UTINGKEY",
            "event_action": "trigger",
            "dedup_key": "3f2c1b0a9d8e7f60",
            "payload": {
                "summary": "feature_drift on fraud-v3: PSI 0.31 on amount",
                "source": "driftline/fraud-v3",
                "severity": "critical",
                "timestamp": "2026-11-21T10:00:00Z",
                "custom_details": {
                    "alertname": "feature_drift", "feature": "amount", "model_id": "fraud-v3",
                    "severity": "critical", "team": "risk",
                    "runbook_url": RUNBOOK, "summary": "PSI 0.31 on amount",
                },
            },
            "client": "Driftline",
            "client_url": "https://driftline.example.com",
        },
        {"routing_key": "R0UTINGKEY", "event_action": "resolve",
         "dedup_key": "9e8d7c6b5a493827"},
    ]


def test_pagerduty_resolve_events_carry_only_three_fields() -> None:
    (event,) = pagerduty_payload(notification(resolved()), "R0UTINGKEY")
    assert event == {"routing_key": "R0UTINGKEY", "event_action": "resolve",
                     "dedup_key": "9e8d7c6b5a493827"}


def test_pagerduty_dedup_key_is_stable_across_firing_and_resolved() -> None:
    fire = pagerduty_payload(notification(firing()), "K")
    clear = pagerduty_payload(notification(firing(state="resolved", ends_at_ms=T_END)), "K")
    assert fire[0]["dedup_key"] == clear[0]["dedup_key"] == "3f2c1b0a9d8e7f60"
    assert [fire[0]["event_action"], clear[0]["event_action"]] == ["trigger", "resolve"]


def test_pagerduty_summary_without_annotation_and_clipped_to_1024() -> None:
    plain = pagerduty_payload(notification(firing(annotations={})), "K")[0]
    assert plain["payload"]["summary"] == "feature_drift on fraud-v3"
    assert plain["payload"]["custom_details"] == {
        "alertname": "feature_drift", "feature": "amount", "model_id": "fraud-v3",
        "severity": "critical", "team": "risk"}
    long = pagerduty_payload(notification(firing(annotations={"summary": "x" * 2000})), "K")[0]
    assert len(long["payload"]["summary"]) == 1024
    assert long["payload"]["summary"].startswith("feature_drift on fraud-v3: xxx")
    assert long["payload"]["summary"].endswith("x…")


def test_pagerduty_without_an_external_url_has_no_client_url() -> None:
    (event,) = pagerduty_payload(notification(firing(), url=""), "K")
    assert event["client"] == "Driftline"
    assert "client_url" not in event


@pytest.mark.parametrize(("ours", "theirs"), [
    ("critical", "critical"), ("CRITICAL", "critical"), ("page", "critical"),
    ("fatal", "critical"), ("error", "error"), ("high", "error"), ("major", "error"),
    ("warning", "warning"), ("warn", "warning"), ("medium", "warning"), ("minor", "warning"),
    ("info", "info"), ("low", "info"), ("none", "info"), (" Info ", "info"),
    ("unheard-of", "warning"), ("", "warning"),
])
def test_pagerduty_severity(ours: str, theirs: str) -> None:
    assert pagerduty_severity(ours) == theirs
    (event,) = pagerduty_payload(notification(firing(severity=ours)), "K")
    assert event["payload"]["severity"] == theirs


def test_pagerduty_refuses_what_it_cannot_send() -> None:
    for key in ("", " K", "K "):
        with pytest.raises(ValueError, match=exact("routing_key must be a non-empty integration "
                                                   "key without spaces")):
            pagerduty_payload(notification(), key)
    with pytest.raises(ValueError, match=exact("fingerprint longer than 255 characters cannot "
                                               "be a PagerDuty dedup_key")):
        pagerduty_payload(notification(firing(fingerprint="f" * 256)), "K")
    assert pagerduty_payload(notification(firing(fingerprint="f" * 255)), "K")[0][
        "dedup_key"] == "f" * 255
