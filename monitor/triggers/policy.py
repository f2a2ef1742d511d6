"""When a firing alert becomes a retraining trigger: the policy, the decision and the trigger id.

Everything here is pure: the caller reads the counts from the database (in the transaction that
writes the trigger, so two workers cannot both pass the cooldown) and passes them in.

>>> policy = TriggerPolicy.model_validate({"persistence": 2, "cooldown": "12h"})
>>> policy.cooldown_ms, policy.dispatch.type
(43200000, 'pull')
>>> decide(policy, now_ms=0, kill_switch=False, running=0, created_last_24h=0,
...        last_created_ms=None, firing_windows=2)
Decision(allowed=True, status='pending', reason='allowed: alert firing for 2 windows')
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, field_validator

from monitor.config_base import NAME_PATTERN, Duration, _check_duration, _Strict
from monitor.timeutil import parse_duration
from monitor.triggers.targets import DispatchTarget, PullDispatch

__all__ = ["DEFAULT_RULES", "Decision", "TriggerPolicy", "decide", "format_span", "trigger_id"]

DEFAULT_RULES = ("data_drift_sustained", "performance_drop", "kpi_drop")

RuleName = Annotated[str, Field(pattern=NAME_PATTERN)]


class TriggerPolicy(_Strict):
    """Which alerts trigger retraining, how often at most, and where the trigger goes."""

    enabled: bool = True
    on: list[RuleName] = Field(default_factory=lambda: list(DEFAULT_RULES), max_length=100)
    persistence: int = Field(default=1, ge=1, le=10_000, description="windows firing")
    cooldown: Duration = "24h"
    max_running: int = Field(default=1, ge=1, le=100)
    daily_budget: int = Field(default=3, ge=0, le=1000)
    approval: Literal["auto", "manual"] = "auto"
    dispatch: DispatchTarget = Field(default_factory=lambda: PullDispatch(type="pull"))

    _check_cooldown = field_validator("cooldown")(_check_duration)

    @field_validator("on")
    @classmethod
    def _unique_rules(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("duplicate alert rule names")
        return value

    @property
    def cooldown_ms(self) -> int:
        return parse_duration(self.cooldown)


@dataclass(frozen=True)
class Decision:
    """``allowed``: write a trigger row; ``status``: its first state; ``reason``: why, in words.

    ``awaiting_approval`` is allowed (the row is written, counts against the budget and waits for
    a person); ``suppressed`` is not (only the audit trail records it).
    """

    allowed: bool
    status: Literal["pending", "awaiting_approval", "suppressed"]
    reason: str


def trigger_id(model_id: str, reason_key: str, window_start_ms: int) -> str:
    """The trigger's id: ``trg_`` and 24 hex digits of a SHA-256 over its identity.

    The identity is the model, what triggered it (``reason_key``: the alert's fingerprint, or
    ``manual:<request id>``) and the start of the window that fired. Nothing else (no clock, no
    counter) goes in, so replaying the same stream, or a worker retrying after a crash, yields
    the same id: the database's unique key and the orchestrator (Airflow's ``dag_run_id``, the
    Kubeflow run's display name, the webhook's ``Idempotency-Key``) see a duplicate, not a new
    run. The inputs are encoded as a JSON array, so no two different inputs share an encoding.

    >>> trigger_id("churn", "data_drift_sustained", 1_700_000_000_000)
    'trg_...'
    >>> trigger_id("m", "r", 0) == trigger_id("m", "r", 0)
    True
    >>> trigger_id("m", "r", 0) == trigger_id("m", "r", 3_600_000)
    False
    """
    identity = json.dumps(["driftline.trigger.v1", model_id, reason_key, int(window_start_ms)],
                          ensure_ascii=False, separators=(",", ":"))
    return "trg_" + hashlib.sha256(identity.encode("utf-8")).hexdigest()[:24]


def decide(policy: TriggerPolicy, *, now_ms: int, kill_switch: bool, running: int,
           created_last_24h: int, last_created_ms: int | None, firing_windows: int,
           manual: bool = False) -> Decision:
    """Whether a trigger may be created now, checked in this order (the first failing rule wins).

    1. the kill switch (stops everything, manual triggers too);
    2. ``enabled`` (a disabled policy creates no trigger, manual ones included);
    3. ``persistence``: the alert fired for at least that many windows (not for manual ones);
    4. ``cooldown`` since the last trigger created for the model (not for manual ones);
    5. ``max_running`` triggers pending or running at a time;
    6. ``daily_budget`` triggers created in the last 24 hours;
    7. ``approval: manual`` holds automatic triggers for a person; a manual trigger is already a
       person's decision and is not held again.

    >>> p = TriggerPolicy(cooldown="24h")
    >>> decide(p, now_ms=3_600_000, kill_switch=False, running=0, created_last_24h=1,
    ...        last_created_ms=0, firing_windows=5).reason
    'cooldown: last trigger 1h ago, cooldown is 24h (23h left)'
    >>> decide(p, now_ms=3_600_000, kill_switch=False, running=0, created_last_24h=1,
    ...        last_created_ms=0, firing_windows=0, manual=True).status
    'pending'
    """
    reason = _switched_off(policy, kill_switch)
    if reason is None and not manual:
        reason = _not_yet(policy, now_ms, last_created_ms, firing_windows)
    if reason is None:
        reason = _no_capacity(policy, running, created_last_24h)
    if reason is not None:
        return Decision(False, "suppressed", reason)
    what = "manual trigger" if manual else f"alert firing for {firing_windows} windows"
    if policy.approval == "manual" and not manual:
        return Decision(True, "awaiting_approval", f"approval: {what}, waiting for approval")
    return Decision(True, "pending", f"allowed: {what}")


def _switched_off(policy: TriggerPolicy, kill_switch: bool) -> str | None:
    if kill_switch:
        return "kill switch: retraining triggers are switched off"
    if not policy.enabled:
        return "disabled: the trigger policy is disabled for this model"
    return None


def _not_yet(policy: TriggerPolicy, now_ms: int, last_created_ms: int | None,
             firing_windows: int) -> str | None:
    """Persistence and cooldown: the rules a manual trigger skips."""
    if firing_windows < policy.persistence:
        return f"persistence: alert firing for {firing_windows} of {policy.persistence} windows"
    if last_created_ms is not None and now_ms - last_created_ms < policy.cooldown_ms:
        elapsed = max(now_ms - last_created_ms, 0)
        configured = policy.cooldown
        if not isinstance(configured, str):
            configured = format_span(configured)
        return (f"cooldown: last trigger {format_span(elapsed)} ago, cooldown is {configured} "
                f"({format_span(policy.cooldown_ms - elapsed)} left)")
    return None


def _no_capacity(policy: TriggerPolicy, running: int, created_last_24h: int) -> str | None:
    if running >= policy.max_running:
        return (f"max_running: {running} trigger(s) running, at most {policy.max_running} "
                "at a time")
    if created_last_24h >= policy.daily_budget:
        return (f"daily_budget: {created_last_24h} trigger(s) in the last 24h, budget is "
                f"{policy.daily_budget}")
    return None


def format_span(ms: int) -> str:
    """A duration in words, largest two units, rounded up to the second.

    >>> format_span(90_061_000), format_span(1), format_span(0), format_span(3_600_000)
    ('1d 1h', '1s', '0s', '1h')
    """
    seconds = -(-ms // 1000)
    parts: list[str] = []
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts[:2]) or "0s"
