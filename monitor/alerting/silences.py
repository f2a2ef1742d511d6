"""Label matchers, silences and inhibition, with Alertmanager's semantics.

A label that an alert does not carry reads as the empty string; regular expressions are fully
anchored (``=~ "data_.*"`` must match the whole value).

>>> m = Matcher(name="family", op="=~", value="data_drift|prediction_drift")
>>> m.matches({"family": "data_drift"}), m.matches({"family": "data_drift_x"})
(True, False)
>>> s = Silence(id="s1", matchers=[Matcher(name="model_id", op="=", value="ctr")],
...             starts_at_ms=0, ends_at_ms=1000, created_by="ana", comment="deploy")
>>> silences({"model_id": "ctr"}, [s], now_ms=500), silences({"model_id": "ctr"}, [s], 1000)
(['s1'], [])
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from monitor.config_base import _Strict

__all__ = ["LABEL_NAME_PATTERN", "InhibitRule", "Matcher", "Silence", "inhibited", "silences"]

LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"

Labels = Mapping[str, str]


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


class Matcher(_Strict):
    """``name op value``: ``=`` equal, ``!=`` not equal, ``=~`` regex match, ``!~`` no match."""

    name: str = Field(pattern=LABEL_NAME_PATTERN)
    op: Literal["=", "!=", "=~", "!~"]
    value: str = Field(max_length=1024)

    @field_validator("value")
    @classmethod
    def _valid_regex(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("op") in ("=~", "!~"):
            try:
                _compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        return value

    def matches(self, labels: Labels) -> bool:
        """Whether ``labels`` satisfy this matcher (a missing label is ``""``).

        >>> Matcher(name="slice", op="!~", value=".+").matches({"family": "kpi"})
        True
        """
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = _compile(self.value).fullmatch(actual) is not None
        return found if self.op == "=~" else not found


def _all_match(matchers: Sequence[Matcher], labels: Labels) -> bool:
    return all(m.matches(labels) for m in matchers)


class Silence(_Strict):
    """Mutes every alert whose labels satisfy all ``matchers`` during ``[starts_at, ends_at)``.

    Like Alertmanager, at least one matcher must not match the empty label, so that a silence
    can never mute everything by accident.
    """

    id: str = Field(min_length=1, max_length=128)
    matchers: list[Matcher] = Field(min_length=1, max_length=64)
    starts_at_ms: int = Field(ge=0)
    ends_at_ms: int = Field(ge=0)
    created_by: str = Field(min_length=1, max_length=256)
    comment: str = Field(default="", max_length=2000)

    @field_validator("matchers")
    @classmethod
    def _not_everything(cls, value: list[Matcher]) -> list[Matcher]:
        if all(m.matches({}) for m in value):
            raise ValueError("matchers: at least one matcher must not match the empty value")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Silence:
        if self.ends_at_ms <= self.starts_at_ms:
            raise ValueError("ends_at_ms must be after starts_at_ms")
        return self

    def active(self, now_ms: int) -> bool:
        """Started and not yet expired at ``now_ms`` (the end is exclusive)."""
        return self.starts_at_ms <= now_ms < self.ends_at_ms

    def mutes(self, labels: Labels, now_ms: int) -> bool:
        return self.active(now_ms) and _all_match(self.matchers, labels)


def silences(labels: Labels, silences: Sequence[Silence], now_ms: int) -> list[str]:
    """Ids of the silences that mute an alert with ``labels`` at ``now_ms``, in input order."""
    return [s.id for s in silences if s.mutes(labels, now_ms)]


class InhibitRule(_Strict):
    """While an alert matching ``source`` fires, alerts matching ``target`` with the same values
    of the ``equal`` labels are muted.

    >>> rule = InhibitRule(source=[Matcher(name="metric", op="=", value="stall")],
    ...                    target=[Matcher(name="family", op="=", value="data_drift")],
    ...                    equal=["model_id"])
    >>> stall = {"model_id": "m", "family": "ingestion", "metric": "stall"}
    >>> inhibited({"model_id": "m", "family": "data_drift", "metric": "x"}, [stall], [rule])
    True
    >>> inhibited({"model_id": "n", "family": "data_drift", "metric": "x"}, [stall], [rule])
    False
    """

    source: list[Matcher] = Field(min_length=1, max_length=64)
    target: list[Matcher] = Field(min_length=1, max_length=64)
    equal: list[str] = Field(default_factory=list, max_length=64)

    @field_validator("equal")
    @classmethod
    def _label_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.fullmatch(LABEL_NAME_PATTERN, name):
                raise ValueError(f"equal: {name!r} is not a label name")
        return value

    def inhibits(self, labels: Labels, source: Labels) -> bool:
        """Whether the firing alert ``source`` mutes the alert ``labels`` under this rule."""
        if not (_all_match(self.target, labels) and _all_match(self.source, source)):
            return False
        # Alertmanager: an alert matching both sides cannot be inhibited by another one that also
        # matches both sides (which includes itself).
        if _all_match(self.source, labels) and _all_match(self.target, source):
            return False
        return all(labels.get(n, "") == source.get(n, "") for n in self.equal)


def inhibited(labels: Labels, firing: Sequence[Labels], rules: Sequence[InhibitRule]) -> bool:
    """Whether any firing alert (other than the alert itself) inhibits ``labels``."""
    own = dict(labels)
    return any(rule.inhibits(labels, src) for rule in rules for src in firing
               if dict(src) != own)
