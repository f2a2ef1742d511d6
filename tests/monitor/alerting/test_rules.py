"""Rule and configuration validation, matching, and the default rules on real-looking records."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from monitor.alerting.engine import evaluate
from monitor.alerting.rules import AlertingConfig, Condition, Match, Rule, ValueTest
from tests.monitor.alerting._records import rec, w

STATUS_ALERT: dict[str, Any] = {"status": ["alert"]}


def errors(model: type[Any], data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in info.value.errors()]


def rule_data(**changes: Any) -> dict[str, Any]:
    return {"name": "r", "match": {}, "condition": STATUS_ALERT, **changes}


def test_a_condition_needs_exactly_one_of_status_and_value() -> None:
    msg = "Value error, a condition needs exactly one of 'status' or 'value'"
    assert errors(Condition, {}) == [("", msg)]
    assert errors(Condition, {"status": ["alert"], "value": {"op": ">", "threshold": 1}}) == [
        ("", msg)]
    assert errors(Rule, rule_data(condition={})) == [("condition", msg)]
    assert errors(Rule, rule_data(clear={"value": {"op": "=", "threshold": 1}})) == [
        ("clear.value.op", "Input should be '>', '>=', '<' or '<='")]
    assert errors(Condition, {"status": ["bad"]}) == [
        ("status.0", "Input should be 'ok', 'warning', 'alert' or 'insufficient_data'")]


def test_summary_placeholders_are_checked() -> None:
    assert errors(Rule, rule_data(summary="{model_id} {oops}")) == [
        ("summary", "Value error, summary: unknown placeholder {oops}; use family, feature, "
                    "metric, model_id, slice, threshold, value")]
    assert errors(Rule, rule_data(summary="{value:.2f}")) == [
        ("summary", "Value error, summary: placeholder {value} takes no format or conversion")]
    assert errors(Rule, rule_data(summary="{value")) == [
        ("summary", "Value error, summary: expected '}' before end of string")]
    ok = Rule.model_validate(rule_data(summary="{model_id} {family} {metric} {feature} {slice} "
                                                "{value} {threshold} {{literal}}"))
    assert ok.summary.startswith("{model_id}")


def test_rule_names_labels_and_windows_are_checked() -> None:
    assert errors(Rule, rule_data(name="Bad-Name"))[0][0] == "name"
    assert errors(Rule, rule_data(labels={"team-x": "a"})) == [
        ("labels", "Value error, labels: 'team-x' is not a label name")]
    assert errors(Rule, rule_data(labels={"severity": "a"})) == [
        ("labels", "Value error, labels: 'severity' is set by the engine and cannot be given")]
    assert errors(Rule, rule_data(for_windows=0)) == [
        ("for_windows", "Input should be greater than or equal to 1")]
    assert errors(Rule, rule_data(surprise=1)) == [("surprise", "Extra inputs are not permitted")]


def test_alerting_config_rules_and_defaults() -> None:
    assert [r.name for r in AlertingConfig().effective_rules()] == [
        "data_drift_sustained", "performance_drop", "kpi_drop", "ingestion_stall"]
    mine = rule_data(name="mine")
    added = AlertingConfig.model_validate({"rules": [mine]})
    assert [r.name for r in added.effective_rules()] == [
        "data_drift_sustained", "performance_drop", "kpi_drop", "ingestion_stall", "mine"]
    only = AlertingConfig.model_validate({"rules": [mine], "include_defaults": False})
    assert [r.name for r in only.effective_rules()] == ["mine"]
    assert AlertingConfig.model_validate({"rules": []}).effective_rules() == (
        AlertingConfig().effective_rules())
    assert errors(AlertingConfig, {"rules": [mine, mine]}) == [
        ("rules", "Value error, rules: duplicate rule names: mine")]
    assert errors(AlertingConfig, {"rules": [rule_data(name="kpi_drop")]}) == [
        ("rules", "Value error, rules: kpi_drop is a default rule name; rename it or set "
                  "include_defaults: false to replace the defaults")]
    replaced = AlertingConfig.model_validate(
        {"rules": [rule_data(name="kpi_drop")], "include_defaults": False})
    assert [r.name for r in replaced.effective_rules()] == ["kpi_drop"]


def test_alerting_config_durations() -> None:
    cfg = AlertingConfig()
    assert (cfg.group_wait_ms, cfg.group_interval_ms, cfg.repeat_interval_ms) == (
        30_000, 300_000, 14_400_000)
    assert AlertingConfig(group_wait="1m", repeat_interval=60_000).repeat_interval_ms == 60_000
    assert errors(AlertingConfig, {"group_interval": "soon"}) == [
        ("group_interval", "Value error, invalid duration 'soon': use a number and a unit "
                           "(ms, s, m, h, d, w)")]
    [inhibit] = cfg.inhibit
    assert [(m.name, m.op, m.value) for m in inhibit.source] == [
        ("family", "=", "ingestion"), ("metric", "=", "stall")]
    assert [(m.name, m.op, m.value) for m in inhibit.target] == [
        ("family", "=~", "data_drift|multivariate_drift|prediction_drift")]
    assert inhibit.equal == ["model_id"]


def test_match_globs_and_null() -> None:
    whole = Match(family="slice_*", slice="-")
    assert whole.matches(rec(0, family="slice_performance", slice=None))
    assert not whole.matches(rec(0, family="slice_performance", slice="device=ios"))
    per_slice = Match(slice="device=*")
    assert per_slice.matches(rec(0, slice="device=ios"))
    assert not per_slice.matches(rec(0, slice=None))  # a glob needs a present value
    assert not Match(metric="PSI").matches(rec(0, metric="psi"))  # case-sensitive
    assert Match(metric="p?i", feature="[a-b]*").matches(rec(0, metric="psi", feature="age"))
    assert Match(status=["warning", "alert"]).matches(rec(0, status="warning"))
    assert not Match(status=["warning", "alert"]).matches(rec(0, status="ok"))
    assert not Match(family="-").matches(rec(0))  # family is never null
    assert Match().matches(rec(0, feature=None))


def test_verdicts_of_status_and_value_conditions() -> None:
    status = Rule(name="s", match=Match(), condition=Condition(status=["alert"]))
    assert [status.verdict(rec(0, status=s)) for s in
            ("alert", "warning", "ok", "insufficient_data")] == [True, False, False, None]
    band = Rule(name="v", match=Match(), condition=Condition(value=ValueTest(op=">=", threshold=3)),
                clear=Condition(value=ValueTest(op="<=", threshold=1)))
    assert [band.verdict(rec(0, v)) for v in (3.0, 2.0, 1.0, None)] == [True, None, False, None]
    both = Rule(name="b", match=Match(), condition=Condition(value=ValueTest(op=">", threshold=1)),
                clear=Condition(value=ValueTest(op="<", threshold=5)))
    assert both.verdict(rec(0, 2.0)) is True  # the condition wins when both hold


def test_default_rules_on_real_looking_records() -> None:
    rules = AlertingConfig().effective_rules()
    window = [
        rec(0, 0.31, "alert", metric="wasserstein", feature="age", threshold=0.1),
        rec(0, 0.6, "alert", metric="drift_share", feature=None, threshold=0.5),
        rec(0, 0.71, "alert", family="performance", metric="accuracy", feature=None,
            threshold=0.8),
        rec(0, 0.9, "ok", family="performance", metric="label_coverage", feature=None,
            threshold=None),
        rec(0, 0.04, "alert", family="kpi", metric="ctr", feature=None, slice="device=ios"),
        rec(0, 0.001, "alert", family="kpi", metric="ctr.change", feature=None,
            slice="device=ios", threshold=0.05),
        rec(0, 1200.0, "alert", family="ingestion", metric="stall", feature=None,
            threshold=None),
        rec(0, 5000.0, "ok", family="ingestion", metric="events", feature=None, threshold=None),
    ]
    states, out = evaluate(rules, {}, window)
    assert sorted(s.labels["rule"] for s in states.values()) == [
        "data_drift_sustained", "ingestion_stall", "kpi_drop", "performance_drop",
        "performance_drop"]
    by_fp = {s.fingerprint: s.labels for s in states.values()}
    assert [(t.kind, by_fp[t.fingerprint]["rule"], by_fp[t.fingerprint]["metric"], t.value)
            for t in out] == [
        ("pending", "data_drift_sustained", "drift_share", 0.6),
        ("firing", "performance_drop", "accuracy", 0.71),
        ("firing", "kpi_drop", "ctr.change", 0.001),
        ("firing", "ingestion_stall", "stall", 1200.0)]
    states, out = evaluate(rules, states, [rec(1, 0.7, "alert", metric="drift_share",
                                               feature=None, threshold=0.5)])
    [fired] = out
    assert (fired.kind, fired.window_start, fired.value) == ("firing", w(1), 0.7)
    assert states[fired.fingerprint].labels == {
        "model_id": "m", "rule": "data_drift_sustained", "family": "data_drift",
        "metric": "drift_share", "feature": "", "slice": ""}
