"""The rule engine: metric records in, per-series alert state and transitions out.

A series is one rule applied to one stream of records: the labels ``model_id, rule, family,
metric, feature, slice`` (a null field as ``""``), identified by :func:`fingerprint`. Its state
keeps a short window history, so that a revised record for a past window (late data) replaces
that window's verdict and the state is recomputed: the alert keeps its ``alert_id`` (an
``updated`` transition), or resolves, or fires, instead of a second alert being opened. A
window with no record (a gap) neither breaks nor extends a run; a record arriving late for such a
window is inserted like a revision. Revisions older than the kept history are ignored.

>>> from monitor.alerting.rules import Condition, Match, Rule
>>> rule = Rule(name="drift", match=Match(family="data_drift"),
...             condition=Condition(status=["alert"]), for_windows=2)
>>> def rec(start, status, value, revision=0):
...     return MetricRecord("m", start, start + 10, "data_drift", "psi", "age", None, value,
...                         0.2, None, None, None, 500, status, revision)
>>> states, out = evaluate([rule], {}, [rec(0, "alert", 0.3), rec(10, "alert", 0.4)])
>>> [(t.kind, t.window_start, t.alert_id) for t in out]
[('pending', 0, None), ('firing', 10, 'b8e413b3711f86c1-10')]
>>> states, out = evaluate([rule], states, [rec(10, "alert", 0.5, revision=1)])
>>> [(t.kind, t.window_start, t.alert_id, t.value) for t in out]
[('updated', 10, 'b8e413b3711f86c1-10', 0.5)]
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import Any, Literal

from monitor.alerting._replay import Phase, SeriesStatus, replay
from monitor.alerting.rules import Rule
from monitor.metric_record import MetricRecord
from monitor.timeutil import format_ms

__all__ = ["HISTORY_SLACK", "STATE_VERSION", "ActiveAlert", "Entry", "SeriesState", "Transition",
           "active_alert", "active_alerts", "apply", "evaluate", "fingerprint", "series_labels"]

STATE_VERSION = 1
HISTORY_SLACK = 8
"""Windows kept beyond ``max(for_windows, clear_windows)``: how far back a revision is honoured."""

Entry = tuple[int, bool | None, float | None]
"""One window: ``(window_start, verdict, value)``; see :meth:`Rule.verdict`."""


def series_labels(rule: Rule, record: MetricRecord) -> dict[str, str]:
    return {"model_id": record.model_id, "rule": rule.name, "family": record.family,
            "metric": record.metric, "feature": record.feature or "",
            "slice": record.slice or ""}


def fingerprint(labels: Mapping[str, str]) -> str:
    """The first 16 hex digits of SHA-256 over the UTF-8 lines ``name=value\\n``, sorted by
    name, with backslashes and newlines in values escaped (``\\\\``, ``\\n``). Stable across
    processes and releases: it keys persisted state and notifications.

    >>> fingerprint({"b": "2", "a": "1"}) == fingerprint({"a": "1", "b": "2"})
    True
    >>> fingerprint({"a": "1"})
    'fe3209d6d4f51935'
    """
    text = "".join(f"{name}={_escape(value)}\n" for name, value in sorted(labels.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


@dataclass(frozen=True)
class Transition:
    """A change of one alert: ``pending`` (``alert_id`` None), ``firing``, ``resolved``, or
    ``updated`` (a revised window changed a firing alert's evidence). ``window_start`` is the
    window where it happened, ``value`` that window's value."""

    kind: Literal["pending", "firing", "resolved", "updated"]
    alert_id: str | None
    fingerprint: str
    window_start: int
    value: float | None


@dataclass(frozen=True)
class SeriesState:
    """One series' alert state. ``history`` holds the last ``max(for_windows, clear_windows) +
    HISTORY_SLACK`` windows, oldest first; older windows are folded into ``base`` (the phase
    before ``history[0]``) and ``folded_through`` (the newest folded window), so recomputing
    from ``base`` over ``history`` is exact. ``fired_at``, ``alert_id`` and ``resolved_at``
    describe the current firing episode, or the last one once resolved."""

    fingerprint: str
    labels: dict[str, str]
    history: tuple[Entry, ...] = ()
    state: SeriesStatus = "inactive"
    active_at: int | None = None
    fired_at: int | None = None
    alert_id: str | None = None
    resolved_at: int | None = None
    threshold: float | None = None
    base: Phase = field(default_factory=Phase)
    folded_through: int | None = None

    def value_at(self, window_start: int | None) -> float | None:
        return next((v for ws, _, v in self.history if ws == window_start), None)

    @property
    def value(self) -> float | None:
        """The value of the newest window."""
        return self.history[-1][2] if self.history else None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (``json.dumps`` it); :meth:`from_json` reads it back."""
        return {"state_version": STATE_VERSION, "fingerprint": self.fingerprint,
                "labels": dict(self.labels), "history": [list(e) for e in self.history],
                "state": self.state, "active_at": self.active_at, "fired_at": self.fired_at,
                "alert_id": self.alert_id, "resolved_at": self.resolved_at,
                "threshold": self.threshold, "base": self.base.to_json(),
                "folded_through": self.folded_through}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SeriesState:
        if data.get("state_version") != STATE_VERSION:
            raise ValueError(f"unsupported series state version {data.get('state_version')!r}")
        if data["state"] not in ("inactive", "pending", "firing"):
            raise ValueError(f"unknown series state {data['state']!r}")
        history = tuple((int(ws), None if v is None else bool(v), None if x is None else float(x))
                        for ws, v, x in data["history"])
        return cls(str(data["fingerprint"]), {str(k): str(v) for k, v in data["labels"].items()},
                   history, data["state"], _opt(data["active_at"]), _opt(data["fired_at"]),
                   None if data["alert_id"] is None else str(data["alert_id"]),
                   _opt(data["resolved_at"]),
                   None if data["threshold"] is None else float(data["threshold"]),
                   Phase.from_json(data["base"]),
                   _opt(data["folded_through"]))


def _opt(value: Any) -> int | None:
    return None if value is None else int(value)


def _insert(history: tuple[Entry, ...], entry: Entry) -> tuple[Entry, ...]:
    kept = [e for e in history if e[0] != entry[0]]
    return tuple(sorted([*kept, entry], key=lambda e: e[0]))


def _bound(rule: Rule, state: SeriesState, history: tuple[Entry, ...]
           ) -> tuple[Phase, int | None, tuple[Entry, ...]]:
    """Fold the windows beyond the history bound into the base phase."""
    keep = max(rule.for_windows, rule.clear_windows) + HISTORY_SLACK
    if len(history) <= keep:
        return state.base, state.folded_through, history
    folded, history = history[:-keep], history[-keep:]
    base = replay(state.base, ((ws, v) for ws, v, _ in folded),
                  for_windows=rule.for_windows, clear_windows=rule.clear_windows)
    return base, folded[-1][0], history


def apply(rule: Rule, state: SeriesState | None, record: MetricRecord
          ) -> tuple[SeriesState, list[Transition]]:
    """Feed one record (new, or a revision of a window in the history) to one series.

    A record for a window at or before ``folded_through`` is too old to revise: it is ignored.
    The same record applied twice changes nothing. Raises ``ValueError`` if ``rule`` does not
    match ``record`` or ``state`` belongs to another series.
    """
    if not rule.match.matches(record):
        raise ValueError(f"rule {rule.name!r} does not match this record")
    labels = series_labels(rule, record)
    fp = fingerprint(labels)
    before = state if state is not None else SeriesState(fp, labels)
    if before.fingerprint != fp:
        raise ValueError("the state belongs to another series")
    ws = record.window_start
    if before.folded_through is not None and ws <= before.folded_through:
        return before, []
    entry: Entry = (ws, rule.verdict(record), record.value)
    newest = before.history[-1][0] if before.history else None
    revision = newest is not None and ws <= newest
    if revision and entry in before.history:
        return before, []
    base, folded_through, history = _bound(rule, before, _insert(before.history, entry))
    phase = replay(base, ((w, v) for w, v, _ in history), for_windows=rule.for_windows,
                   clear_windows=rule.clear_windows)
    kept = replace(before, history=history, base=base, folded_through=folded_through,
                   threshold=before.threshold if ws != newest and revision else record.threshold)
    after = _reconcile(kept, phase, ws)
    return after, _transitions(before, after, entry if revision else None)


def _reconcile(before: SeriesState, phase: Phase, ws: int) -> SeriesState:
    """``before`` (with its new history) moved to ``phase``; a firing alert keeps its
    ``alert_id`` while it stays firing."""
    fp = before.fingerprint
    if phase.state == "firing":
        if before.state == "firing":
            fired_at, alert_id = before.fired_at, before.alert_id
        else:
            fired_at, alert_id = phase.fired_at, f"{fp}-{phase.fired_at}"
        resolved_at = None
    elif before.state == "firing":
        fired_at, alert_id = before.fired_at, before.alert_id
        # The resolution this record caused: at or after its window.
        resolved = phase.resolved_at
        resolved_at = resolved if resolved is not None and resolved >= ws else ws
    else:
        fired_at, alert_id, resolved_at = before.fired_at, before.alert_id, before.resolved_at
    return replace(before, state=phase.state, active_at=phase.active_at, fired_at=fired_at,
                   alert_id=alert_id, resolved_at=resolved_at)


def _transitions(before: SeriesState, after: SeriesState, revised: Entry | None
                 ) -> list[Transition]:
    fp, out = after.fingerprint, []
    if before.state == "firing" and after.state != "firing":
        assert after.resolved_at is not None
        out.append(Transition("resolved", before.alert_id, fp, after.resolved_at,
                              after.value_at(after.resolved_at)))
    if after.state == "firing" and before.state != "firing":
        assert after.fired_at is not None
        out.append(Transition("firing", after.alert_id, fp, after.fired_at,
                              after.value_at(after.fired_at)))
    elif after.state == "pending" and before.state != "pending":
        assert after.active_at is not None
        out.append(Transition("pending", None, fp, after.active_at,
                              after.value_at(after.active_at)))
    if revised is not None and before.state == after.state == "firing":
        out.append(Transition("updated", after.alert_id, fp, revised[0], revised[2]))
    return out


def evaluate(rules: Iterable[Rule], states: Mapping[str, SeriesState],
             records: Iterable[MetricRecord]
             ) -> tuple[dict[str, SeriesState], list[Transition]]:
    """Apply every matching rule to every record, oldest window first (records of the same window
    keep their order, so a later revision wins). ``states`` is keyed by fingerprint and is not
    modified; the new mapping holds every series seen."""
    rules = list(rules)
    out = dict(states)
    transitions: list[Transition] = []
    for record in sorted(records, key=attrgetter("window_start")):
        for rule in rules:
            if not rule.match.matches(record):
                continue
            fp = fingerprint(series_labels(rule, record))
            out[fp], changes = apply(rule, out.get(fp), record)
            transitions.extend(changes)
    return out, transitions


@dataclass(frozen=True)
class ActiveAlert:
    """An alert as the API shows it (CONTRACT section 3), plus ``pending`` series.

    ``starts_at_ms`` is the window start where it fired (where it became pending, for a pending
    one); ``ends_at_ms`` the window start where it resolved. ``labels`` are the series labels,
    the rule's extra labels and ``severity``.
    """

    alert_id: str | None
    fingerprint: str
    model_id: str
    rule: str
    severity: str
    state: Literal["firing", "resolved", "pending"]
    starts_at_ms: int
    ends_at_ms: int | None
    labels: dict[str, str]
    annotations: dict[str, str]

    def to_public(self) -> dict[str, Any]:
        """The contract's alert record (times as RFC 3339, null feature and slice as null)."""
        label = {k: self.labels[k] or None for k in ("family", "metric", "feature", "slice")}
        return {"alert_id": self.alert_id, "model_id": self.model_id,
                "fingerprint": self.fingerprint, "rule": self.rule, "severity": self.severity,
                "state": self.state, "starts_at": format_ms(self.starts_at_ms),
                "ends_at": None if self.ends_at_ms is None else format_ms(self.ends_at_ms),
                "labels": label, "annotations": dict(self.annotations)}


def _show(value: float | str | None) -> str:
    if value is None or value == "":
        return "-"
    return value if isinstance(value, str) else f"{value:.6g}"


def active_alert(rule: Rule, state: SeriesState) -> ActiveAlert | None:
    """The view of one series: None while it is inactive and has never fired."""
    if state.state == "firing":
        kind: Literal["firing", "resolved", "pending"] = "firing"
        starts, ends = state.fired_at, None
    elif state.state == "pending":
        kind, starts, ends = "pending", state.active_at, None
    elif state.alert_id is not None:
        kind, starts, ends = "resolved", state.fired_at, state.resolved_at
    else:
        return None
    assert starts is not None
    labels = state.labels
    fields = {name: _show(labels[name]) for name in ("model_id", "family", "metric", "feature",
                                                     "slice")}
    summary = rule.summary.format(**fields, value=_show(state.value),
                                  threshold=_show(state.threshold))
    return ActiveAlert(None if kind == "pending" else state.alert_id, state.fingerprint,
                       labels["model_id"], rule.name, rule.severity, kind, starts, ends,
                       {**labels, **rule.labels, "severity": rule.severity},
                       {"summary": summary})


def active_alerts(rules: Iterable[Rule], states: Iterable[SeriesState]) -> list[ActiveAlert]:
    """Views of every series that is pending, firing or has fired, sorted by model, rule and
    fingerprint. Series of rules no longer configured are left out."""
    by_name = {r.name: r for r in rules}
    views = [active_alert(by_name[s.labels["rule"]], s) for s in states
             if s.labels.get("rule") in by_name]
    return sorted((v for v in views if v is not None),
                  key=lambda v: (v.model_id, v.rule, v.fingerprint))
