"""Alert rules, their per-series state machine, silences, inhibition and notification timing.

Pure: no database and no network. The caller persists :class:`SeriesState` and
:class:`GroupState` as JSON and turns transitions and notifications into outbox rows.

- :mod:`.rules`: ``Rule``, ``AlertingConfig``, ``default_rules()``.
- :mod:`.engine`: ``evaluate(rules, states, records)``, ``apply``, ``fingerprint``, the
  ``ActiveAlert`` view.
- :mod:`.silences`: ``Matcher``, ``Silence``, ``InhibitRule``, ``silences()``, ``inhibited()``.
- :mod:`.grouping`: ``plan(group, alerts, now_ms, ...)`` and ``Notification``.
"""

from monitor.alerting.engine import (
    ActiveAlert,
    SeriesState,
    Transition,
    active_alert,
    active_alerts,
    apply,
    evaluate,
    fingerprint,
    series_labels,
)
from monitor.alerting.grouping import GroupState, Notification, plan
from monitor.alerting.rules import (
    AlertingConfig,
    Condition,
    Match,
    Rule,
    ValueTest,
    default_inhibit_rules,
    default_rules,
)
from monitor.alerting.silences import InhibitRule, Matcher, Silence, inhibited, silences

__all__ = ["ActiveAlert", "AlertingConfig", "Condition", "GroupState", "InhibitRule", "Match",
           "Matcher", "Notification", "Rule", "SeriesState", "Silence", "Transition", "ValueTest",
           "active_alert", "active_alerts", "apply", "default_inhibit_rules", "default_rules",
           "evaluate", "fingerprint", "inhibited", "plan", "series_labels", "silences"]
