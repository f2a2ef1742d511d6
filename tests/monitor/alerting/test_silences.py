"""Matchers, silences (with expiry) and inhibition."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from monitor.alerting.engine import active_alerts, evaluate
from monitor.alerting.rules import AlertingConfig, default_inhibit_rules
from monitor.alerting.silences import InhibitRule, Matcher, Silence, inhibited, silences
from tests.monitor.alerting._records import rec

LABELS = {"model_id": "ctr", "rule": "kpi_drop", "family": "kpi", "metric": "ctr.change",
          "feature": "", "slice": "device=ios"}


def m(name: str, op: str, value: str) -> Matcher:
    return Matcher.model_validate({"name": name, "op": op, "value": value})


def test_the_four_matcher_ops() -> None:
    cases = [
        (m("family", "=", "kpi"), True), (m("family", "=", "kp"), False),
        (m("family", "!=", "kpi"), False), (m("family", "!=", "data_drift"), True),
        (m("slice", "=~", "device=.*"), True), (m("slice", "=~", "device"), False),
        (m("slice", "=~", "ios"), False),  # anchored: no partial match
        (m("metric", "=~", "ctr|ctr.change"), True),
        (m("slice", "!~", "device=(ios|android)"), False), (m("slice", "!~", "ios"), True),
        (m("feature", "=", ""), True),  # present but empty
        (m("team", "=", ""), True), (m("team", "!~", ".+"), True),  # absent reads as ""
        (m("team", "=~", ".+"), False),
    ]
    assert [(c.name, c.op, c.value, c.matches(LABELS)) for c, _ in cases] == [
        (c.name, c.op, c.value, want) for c, want in cases]


def test_matchers_are_validated() -> None:
    with pytest.raises(ValidationError) as info:
        m("slice", "=~", "device=(ios")
    [err] = info.value.errors()
    assert (err["loc"], err["msg"]) == (
        ("value",), "Value error, invalid regular expression 'device=(ios': missing ), "
                    "unterminated subpattern at position 7")
    assert m("slice", "=", "device=(ios").value == "device=(ios"  # plain equality: no regex
    with pytest.raises(ValidationError) as info:
        m("bad-name", "==", "x")
    assert [e["loc"] for e in info.value.errors()] == [("name",), ("op",)]


def test_silences_match_all_matchers_while_active() -> None:
    ios = Silence(id="s-ios", matchers=[m("model_id", "=", "ctr"), m("slice", "=~", "device=ios")],
                  starts_at_ms=1_000, ends_at_ms=2_000, created_by="ana", comment="ios release")
    kpis = Silence(id="s-kpi", matchers=[m("family", "=", "kpi"), m("rule", "!=", "other")],
                   starts_at_ms=0, ends_at_ms=5_000, created_by="bo")
    android = {**LABELS, "slice": "device=android"}
    assert silences(LABELS, [ios, kpis], 999) == ["s-kpi"]
    assert silences(LABELS, [ios, kpis], 1_000) == ["s-ios", "s-kpi"]
    assert silences(android, [ios, kpis], 1_500) == ["s-kpi"]
    assert silences(LABELS, [ios, kpis], 2_000) == ["s-kpi"]  # the end is exclusive: expired
    assert silences(LABELS, [ios, kpis], 5_000) == []
    assert (ios.active(1_999), ios.active(2_000)) == (True, False)


def test_a_silence_must_be_narrow_and_ordered() -> None:
    with pytest.raises(ValidationError) as info:
        Silence(id="all", matchers=[m("team", "=~", ".*")], starts_at_ms=0, ends_at_ms=1,
                created_by="x")
    assert [(e["loc"], e["msg"]) for e in info.value.errors()] == [
        (("matchers",), "Value error, matchers: at least one matcher must not match the empty "
                        "value")]
    with pytest.raises(ValidationError) as info:
        Silence(id="s", matchers=[m("family", "=", "kpi")], starts_at_ms=5, ends_at_ms=5,
                created_by="x")
    assert [e["msg"] for e in info.value.errors()] == [
        "Value error, ends_at_ms must be after starts_at_ms"]


STALL = {"model_id": "ctr", "rule": "ingestion_stall", "family": "ingestion", "metric": "stall",
         "feature": "", "slice": ""}
DRIFT = {"model_id": "ctr", "rule": "data_drift_sustained", "family": "data_drift",
         "metric": "drift_share", "feature": "", "slice": ""}


def test_an_ingestion_stall_inhibits_drift_alerts_of_the_same_model() -> None:
    rules = default_inhibit_rules()
    assert inhibited(DRIFT, [STALL], rules)
    assert inhibited({**DRIFT, "family": "prediction_drift"}, [STALL, DRIFT], rules)
    assert not inhibited({**DRIFT, "model_id": "other"}, [STALL], rules)  # equal: model_id
    assert not inhibited(LABELS, [STALL], rules)  # kpi is not a target
    assert not inhibited(DRIFT, [DRIFT], rules)
    assert not inhibited(STALL, [STALL], rules)
    assert not inhibited(DRIFT, [], rules)


def test_an_alert_never_inhibits_itself() -> None:
    both = InhibitRule(source=[m("family", "=~", "data_drift|kpi")],
                       target=[m("family", "=~", "data_drift|kpi")], equal=["model_id"])
    assert not inhibited(DRIFT, [DRIFT], [both])
    # another alert matching both sides cannot inhibit it either (Alertmanager's rule)
    assert not inhibited(DRIFT, [LABELS], [both])
    one_way = InhibitRule(source=[m("family", "=", "kpi")], target=[m("family", "=~", ".*")])
    assert inhibited(DRIFT, [LABELS], [one_way])
    assert not inhibited(LABELS, [LABELS], [one_way])
    with pytest.raises(ValidationError) as info:
        InhibitRule(source=[m("a", "=", "b")], target=[m("a", "=", "c")], equal=["bad-name"])
    assert [e["msg"] for e in info.value.errors()] == [
        "Value error, equal: 'bad-name' is not a label name"]


def test_silences_and_inhibition_on_engine_alerts() -> None:
    cfg = AlertingConfig()
    records = [rec(i, 0.9, "alert", model="ctr", family="data_drift", metric="drift_share",
                   feature=None) for i in range(2)]
    records.append(rec(1, 3600.0, "alert", model="ctr", family="ingestion", metric="stall",
                       feature=None))
    rules = cfg.effective_rules()
    states, _ = evaluate(rules, {}, records)
    views = active_alerts(rules, states.values())
    firing = [v.labels for v in views if v.state == "firing"]
    assert [(v.rule, inhibited(v.labels, firing, cfg.inhibit)) for v in views] == [
        ("data_drift_sustained", True), ("ingestion_stall", False)]
    mute = Silence(id="s1", matchers=[m("severity", "=", "critical")], starts_at_ms=0,
                   ends_at_ms=10, created_by="ana")
    assert [(v.rule, silences(v.labels, [mute], 5)) for v in views] == [
        ("data_drift_sustained", []), ("ingestion_stall", ["s1"])]
