"""Alert rules: which metric records a rule watches, when it fires and when it clears.

A rule matches records by glob patterns (``fnmatch``, case-sensitive) on ``family``, ``metric``,
``feature`` and ``slice``; ``None`` matches anything, ``"-"`` matches only a null field (slice
``"-"`` is the whole model), and any other pattern matches only a present value (``feature: "*"``
is every per-feature record, never the dataset-level one).

>>> rule = Rule(name="psi_high", match=Match(family="data_drift", metric="psi", feature="*"),
...             condition=Condition(value=ValueTest(op=">", threshold=0.3)),
...             clear=Condition(value=ValueTest(op="<", threshold=0.2)))
>>> def psi(feature, value):
...     return MetricRecord("m", 0, 1, "data_drift", "psi", feature, None, value, 0.3,
...                         None, None, None, 500, "ok")
>>> rule.match.matches(psi("age", 0.4)), rule.match.matches(psi(None, 0.4))
(True, False)
>>> rule.verdict(psi("age", 0.4)), rule.verdict(psi("age", 0.25)), rule.verdict(psi("age", 0.1))
(True, None, False)
>>> [r.name for r in AlertingConfig().effective_rules()]
['data_drift_sustained', 'performance_drop', 'kpi_drop', 'ingestion_stall']
"""

from __future__ import annotations

import re
import string
from fnmatch import fnmatchcase
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from monitor.alerting.silences import LABEL_NAME_PATTERN, InhibitRule, Matcher
from monitor.config_base import Duration, _check_duration, _Strict
from monitor.metric_record import MetricRecord
from monitor.timeutil import parse_duration

__all__ = ["SERIES_LABELS", "SUMMARY_FIELDS", "AlertingConfig", "Condition", "Match", "Rule",
           "Status", "ValueTest", "default_inhibit_rules", "default_rules"]

Status = Literal["ok", "warning", "alert", "insufficient_data"]
NULL = "-"
SERIES_LABELS = ("model_id", "rule", "family", "metric", "feature", "slice")
RESERVED_LABELS = frozenset((*SERIES_LABELS, "severity"))
SUMMARY_FIELDS = frozenset(("model_id", "family", "metric", "feature", "slice", "value",
                            "threshold"))


def _glob(pattern: str | None, value: str | None) -> bool:
    if pattern is None:
        return True
    if pattern == NULL:
        return value is None
    return value is not None and fnmatchcase(value, pattern)


class Match(_Strict):
    """Which records a rule looks at; every given field must match."""

    family: str | None = Field(default=None, min_length=1, max_length=256)
    metric: str | None = Field(default=None, min_length=1, max_length=256)
    feature: str | None = Field(default=None, min_length=1, max_length=256)
    slice: str | None = Field(default=None, min_length=1, max_length=256)
    status: list[Status] | None = Field(default=None, min_length=1)

    def matches(self, record: MetricRecord) -> bool:
        return (_glob(self.family, record.family) and _glob(self.metric, record.metric)
                and _glob(self.feature, record.feature) and _glob(self.slice, record.slice)
                and (self.status is None or record.status in self.status))


class ValueTest(_Strict):
    """``record.value <op> threshold``."""

    op: Literal[">", ">=", "<", "<="]
    threshold: float = Field(allow_inf_nan=False)

    def holds(self, value: float) -> bool:
        if self.op == ">":
            return value > self.threshold
        if self.op == ">=":
            return value >= self.threshold
        if self.op == "<":
            return value < self.threshold
        return value <= self.threshold


class Condition(_Strict):
    """Exactly one of ``status`` (the record's status is listed) or ``value`` (a comparison)."""

    status: list[Status] | None = Field(default=None, min_length=1)
    value: ValueTest | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        if (self.status is None) == (self.value is None):
            raise ValueError("a condition needs exactly one of 'status' or 'value'")
        return self

    def holds(self, record: MetricRecord) -> bool | None:
        """True or False, or None when the record cannot tell (insufficient data, no value).

        >>> r = MetricRecord("m", 0, 1, "kpi", "ctr.change", None, None, None, 0.05, None,
        ...                  None, None, 0, "insufficient_data")
        >>> Condition(status=["alert"]).holds(r), Condition(status=["insufficient_data"]).holds(r)
        (None, True)
        """
        if self.status is not None:
            if record.status in self.status:
                return True
            return None if record.status == "insufficient_data" else False
        assert self.value is not None  # the validator guarantees one of the two
        return None if record.value is None else self.value.holds(record.value)


class Rule(_Strict):
    """One alert rule. ``for_windows`` consecutive windows where ``condition`` holds make it fire
    (it is pending before that); once firing, ``clear_windows`` consecutive windows where ``clear``
    holds (by default: where ``condition`` does not) resolve it."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    match: Match
    condition: Condition
    clear: Condition | None = None
    for_windows: int = Field(default=1, ge=1, le=1000)
    clear_windows: int = Field(default=1, ge=1, le=1000)
    severity: Literal["critical", "warning", "info"] = "warning"
    labels: dict[str, str] = Field(default_factory=dict, max_length=32)
    summary: str = Field(
        default="{model_id}: {family} {metric} feature {feature} slice {slice} is {value} "
                "(threshold {threshold})", max_length=1000)

    @field_validator("labels")
    @classmethod
    def _label_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not re.fullmatch(LABEL_NAME_PATTERN, key):
                raise ValueError(f"labels: {key!r} is not a label name")
            if key in RESERVED_LABELS:
                raise ValueError(f"labels: {key!r} is set by the engine and cannot be given")
        return value

    @field_validator("summary")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        try:
            parts = list(string.Formatter().parse(value))
        except ValueError as exc:
            raise ValueError(f"summary: {exc}") from None
        allowed = ", ".join(sorted(SUMMARY_FIELDS))
        for _, field, spec, conversion in parts:
            if field is None:
                continue
            if field not in SUMMARY_FIELDS:
                raise ValueError(f"summary: unknown placeholder {{{field}}}; use {allowed}")
            if spec or conversion:
                raise ValueError(f"summary: placeholder {{{field}}} takes no format or conversion")
        return value

    def verdict(self, record: MetricRecord) -> bool | None:
        """What one window says: True the condition holds, False the clear condition holds,
        None neither (inside the hysteresis band, or the record cannot tell). The condition wins
        when both hold."""
        fire = self.condition.holds(record)
        if fire:
            return True
        if self.clear is None:
            return None if fire is None else False
        return False if self.clear.holds(record) else None


def default_rules() -> list[Rule]:
    """The rules every model gets unless its configuration says otherwise."""
    alert: list[Status] = ["alert"]
    return [
        Rule(name="data_drift_sustained",
             match=Match(family="data_drift", metric="drift_share", feature=NULL),
             condition=Condition(status=alert), for_windows=2, severity="warning",
             summary="{model_id}: share of drifted features {value} above {threshold} "
                     "for 2 windows (slice {slice})"),
        Rule(name="performance_drop", match=Match(family="performance"),
             condition=Condition(status=alert), severity="critical",
             summary="{model_id}: {metric} {feature} is {value} (threshold {threshold}, "
                     "slice {slice})"),
        Rule(name="kpi_drop", match=Match(family="kpi", metric="*.change"),
             condition=Condition(status=alert), severity="critical",
             summary="{model_id}: {metric} changed (p-value {value}, alpha {threshold}, "
                     "slice {slice})"),
        Rule(name="ingestion_stall", match=Match(family="ingestion", metric="stall"),
             condition=Condition(status=alert), severity="critical",
             summary="{model_id}: ingestion stalled ({value})"),
    ]


def default_inhibit_rules() -> list[InhibitRule]:
    """An ingestion stall mutes the drift alerts of the same model."""
    return [InhibitRule(
        source=[Matcher(name="family", op="=", value="ingestion"),
                Matcher(name="metric", op="=", value="stall")],
        target=[Matcher(name="family", op="=~",
                        value="data_drift|multivariate_drift|prediction_drift")],
        equal=["model_id"])]


class AlertingConfig(_Strict):
    """Rules and notification timing. ``rules: None`` means the default rules; a list adds to the
    defaults, or replaces them with ``include_defaults: false``."""

    include_defaults: bool = True
    rules: list[Rule] | None = Field(default=None, max_length=500)
    group_wait: Duration = "30s"
    group_interval: Duration = "5m"
    repeat_interval: Duration = "4h"
    inhibit: list[InhibitRule] = Field(default_factory=default_inhibit_rules, max_length=100)

    _check = field_validator("group_wait", "group_interval", "repeat_interval")(_check_duration)

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, value: list[Rule] | None, info: ValidationInfo) -> list[Rule] | None:
        if value is None:
            return None
        names = [r.name for r in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rules: duplicate rule names: {', '.join(dupes)}")
        if info.data.get("include_defaults", True):
            taken = sorted({r.name for r in default_rules()} & set(names))
            if taken:
                raise ValueError(f"rules: {', '.join(taken)} is a default rule name; rename it "
                                 "or set include_defaults: false to replace the defaults")
        return value

    def effective_rules(self) -> list[Rule]:
        if self.rules is None:
            return default_rules()
        return [*default_rules(), *self.rules] if self.include_defaults else list(self.rules)

    @property
    def group_wait_ms(self) -> int:
        return parse_duration(self.group_wait)

    @property
    def group_interval_ms(self) -> int:
        return parse_duration(self.group_interval)

    @property
    def repeat_interval_ms(self) -> int:
        return parse_duration(self.repeat_interval)

