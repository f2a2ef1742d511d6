"""Every branch of ``decide``, in its order, and the stability of ``trigger_id``."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from monitor.triggers.policy import Decision, TriggerPolicy, decide, format_span, trigger_id
from monitor.triggers.targets import AirflowDispatch, PullDispatch

HOUR = 3_600_000
NOW = 1_767_225_600_000
ALLOWED = Decision(True, "pending", "allowed: alert firing for 3 windows")


def check(policy: TriggerPolicy | None = None, **overrides: Any) -> Decision:
    """``decide`` with everything permissive unless overridden."""
    args: dict[str, Any] = {"now_ms": NOW, "kill_switch": False, "running": 0,
                            "created_last_24h": 0, "last_created_ms": None,
                            "firing_windows": 3, "manual": False}
    args.update(overrides)
    return decide(policy or TriggerPolicy(persistence=3), **args)


# --- the policy ------------------------------------------------------------------------------


def test_defaults() -> None:
    policy = TriggerPolicy()
    assert policy.enabled is True
    assert policy.on == ["data_drift_sustained", "performance_drop", "kpi_drop"]
    assert (policy.persistence, policy.cooldown, policy.cooldown_ms) == (1, "24h", 24 * HOUR)
    assert (policy.max_running, policy.daily_budget, policy.approval) == (1, 3, "auto")
    assert policy.dispatch == PullDispatch(type="pull")


def test_a_full_policy_parses() -> None:
    policy = TriggerPolicy.model_validate({
        "on": ["performance_drop"], "persistence": 2, "cooldown": "6h", "max_running": 2,
        "daily_budget": 0, "approval": "manual",
        "dispatch": {"type": "airflow", "url": "https://airflow.example", "dag_id": "retrain",
                     "conf": {"env": "prod"}},
    })
    assert isinstance(policy.dispatch, AirflowDispatch)
    assert policy.dispatch.conf == {"env": "prod"}
    assert policy.cooldown_ms == 6 * HOUR


@pytest.mark.parametrize(("data", "field"), [
    ({"persistence": 0}, "persistence"),
    ({"cooldown": "soon"}, "cooldown"),
    ({"max_running": 0}, "max_running"),
    ({"daily_budget": -1}, "daily_budget"),
    ({"approval": "sometimes"}, "approval"),
    ({"on": ["kpi_drop", "kpi_drop"]}, "on"),
    ({"on": ["has space"]}, "on.0"),
    ({"unknown": 1}, "unknown"),
    ({"dispatch": {"type": "ftp", "url": "ftp://x"}}, "dispatch"),
])
def test_invalid_policies_name_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        TriggerPolicy.model_validate(data)
    assert [".".join(str(p) for p in e["loc"]) for e in info.value.errors()] == [field]


# --- decide, rule by rule --------------------------------------------------------------------


def test_allowed() -> None:
    assert check() == ALLOWED


def test_kill_switch_stops_everything_manual_included() -> None:
    expected = Decision(False, "suppressed", "kill switch: retraining triggers are switched off")
    assert check(kill_switch=True) == expected
    assert check(kill_switch=True, manual=True) == expected
    assert check(TriggerPolicy(enabled=False), kill_switch=True) == expected


def test_disabled_policy() -> None:
    expected = Decision(False, "suppressed",
                        "disabled: the trigger policy is disabled for this model")
    assert check(TriggerPolicy(enabled=False)) == expected
    assert check(TriggerPolicy(enabled=False), manual=True) == expected


def test_persistence_not_reached() -> None:
    assert check(firing_windows=2) == Decision(
        False, "suppressed", "persistence: alert firing for 2 of 3 windows")
    assert check(firing_windows=3) == ALLOWED


def test_cooldown() -> None:
    assert check(last_created_ms=NOW - 90 * 60_000) == Decision(
        False, "suppressed", "cooldown: last trigger 1h 30m ago, cooldown is 24h (22h 30m left)")
    assert check(last_created_ms=NOW - 24 * HOUR) == ALLOWED  # the cooldown has just ended
    assert check(last_created_ms=NOW - 24 * HOUR + 1).reason.endswith("(1s left)")


def test_cooldown_given_in_milliseconds() -> None:
    policy = TriggerPolicy(persistence=3, cooldown=2 * HOUR)
    assert check(policy, last_created_ms=NOW - HOUR).reason == (
        "cooldown: last trigger 1h ago, cooldown is 2h (1h left)")


def test_one_running_at_a_time() -> None:
    assert check(running=1) == Decision(
        False, "suppressed", "max_running: 1 trigger(s) running, at most 1 at a time")
    assert check(TriggerPolicy(persistence=3, max_running=2), running=1) == ALLOWED


def test_daily_budget_exhausted() -> None:
    assert check(created_last_24h=3) == Decision(
        False, "suppressed", "daily_budget: 3 trigger(s) in the last 24h, budget is 3")
    assert check(created_last_24h=2) == ALLOWED
    assert check(TriggerPolicy(daily_budget=0), manual=True).reason.startswith("daily_budget")


def test_manual_approval() -> None:
    policy = TriggerPolicy(persistence=3, approval="manual")
    assert check(policy) == Decision(
        True, "awaiting_approval", "approval: alert firing for 3 windows, waiting for approval")
    # a manual trigger is a person's decision already
    assert check(policy, manual=True) == Decision(True, "pending", "allowed: manual trigger")


def test_manual_triggers_skip_persistence_and_cooldown_only() -> None:
    manual: dict[str, Any] = {"manual": True, "firing_windows": 0,
                              "last_created_ms": NOW - 60_000}
    assert check(**manual) == Decision(True, "pending", "allowed: manual trigger")
    assert check(**manual, running=1).reason.startswith("max_running:")
    assert check(**manual, created_last_24h=3).reason.startswith("daily_budget:")
    assert check(**manual, kill_switch=True).reason.startswith("kill switch:")


def test_the_first_failing_rule_is_reported() -> None:
    everything: dict[str, Any] = {"firing_windows": 0, "last_created_ms": NOW, "running": 5,
                                  "created_last_24h": 9}
    assert check(**everything).reason.startswith("persistence:")
    everything["firing_windows"] = 3
    assert check(**everything).reason.startswith("cooldown:")
    everything["last_created_ms"] = None
    assert check(**everything).reason.startswith("max_running:")
    everything["running"] = 0
    assert check(**everything).reason.startswith("daily_budget:")
    everything["created_last_24h"] = 0
    assert check(**everything) == ALLOWED


# --- trigger ids -----------------------------------------------------------------------------


def test_trigger_id_is_stable() -> None:
    first = trigger_id("churn", "fp:9f2c", NOW)
    assert first == trigger_id("churn", "fp:9f2c", NOW)
    assert first.startswith("trg_")
    assert len(first) == 4 + 24
    # pinned: a change of encoding would give replayed alerts new ids, and new runs
    assert first == "trg_a42c67fa605f6790a9d41c25"
    assert trigger_id("m", "r", 0) == "trg_6c8c388105125d8055297ad1"


def test_trigger_id_differs_across_inputs() -> None:
    ids = {
        trigger_id("churn", "fp:9f2c", NOW),
        trigger_id("churn2", "fp:9f2c", NOW),
        trigger_id("churn", "fp:9f2d", NOW),
        trigger_id("churn", "fp:9f2c", NOW + HOUR),
        trigger_id("churn", "manual:req-1", NOW),
        # no separator ambiguity: moving characters between fields changes the id
        trigger_id("a:b", "c", 0),
        trigger_id("a", "b:c", 0),
        trigger_id("a", "b", 0),
        trigger_id("ab", "", 0),
        trigger_id("", "ab", 0),
    }
    assert len(ids) == 10


def test_format_span() -> None:
    assert format_span(0) == "0s"
    assert format_span(999) == "1s"
    assert format_span(61_000) == "1m 1s"
    assert format_span(7 * 86_400_000 + 5 * HOUR + 3_000) == "7d 5h"

