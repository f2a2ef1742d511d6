"""Panel queries over the metric records, declared once and turned into SQL.

A :class:`RecordQuery` says which records a panel shows (family, metrics, whether features and
slices are null, any, or the dashboard's selection) and how (one series per name, a value
transform, interval bands, or a table of the latest window). :meth:`RecordQuery.sql` writes the
PostgreSQL query over ``reporting.metric_records`` with Grafana's macros; :meth:`RecordQuery.rows`
computes the same rows from metric records in the API's JSON shape, which is how the tests check
every panel against the API.

>>> q = RecordQuery("data_drift", metrics=("drift_share",))
>>> print(q.sql())  # doctest: +NORMALIZE_WHITESPACE
SELECT time, metric AS metric, value AS value
FROM reporting.metric_records
WHERE model_id = ${model:sqlstring} AND family = 'data_drift' AND metric IN ('drift_share')
  AND feature IS NULL AND slice IS NULL AND $__timeFilter(time)
ORDER BY 1, 2
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

STATUS_LEVEL = {"ok": 0, "warning": 1, "alert": 2}
#: How a record's number becomes the panel's value.
VALUES = {
    "value": "value",
    "error": "1 - value",                                     # accuracy -> error rate
    "status": "status_level",                                 # ok 0, warning 1, alert 2
    "per_second": "value / EXTRACT(EPOCH FROM (window_end - time))",
    "percent": "100 * value",
}
#: Filters on ``feature`` and ``slice``: null (model level), any non-null, or the selection.
SCOPES = ("null", "any", "var")
BANDS = {"ci_low": "low", "ci_high": "high", "threshold": "threshold"}


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


@dataclass(frozen=True)
class RecordQuery:
    """Metric records of one family for a panel (see the module docstring)."""

    family: str
    metrics: tuple[str, ...] = ()       # exact names; empty: every metric but ``exclude``
    metric_prefix: str | None = None    # e.g. "worst."
    #: The metric from a template variable: "{kpi}", "worst.{kpi}", "{kpi}.change".
    metric_template: str | None = None
    exclude: tuple[str, ...] = ()
    #: Only metrics without a dot: a KPI's own values, not its ``.change`` test.
    plain: bool = False
    feature: str = "null"
    slice: str = "null"
    #: Columns whose values, joined by a space, name each series.
    series: tuple[str, ...] = ("metric",)
    value: str = "value"
    bands: tuple[str, ...] = ()         # extra series from ci_low / ci_high / threshold
    #: A table of the latest window in range with these columns instead of time series.
    table: tuple[str, ...] = ()
    limit: int | None = None
    #: Put before every series name ("realized ", "estimated ").
    name_prefix: str = ""

    def __post_init__(self) -> None:
        if self.feature not in SCOPES or self.slice not in SCOPES:
            raise ValueError(f"feature and slice scopes are one of {SCOPES}")
        if self.value not in VALUES or any(b not in BANDS for b in self.bands):
            raise ValueError(f"value is one of {sorted(VALUES)}, bands of {sorted(BANDS)}")

    # ------------------------------------------------------------------ SQL
    def _where(self) -> list[str]:
        out = ["model_id = ${model:sqlstring}", f"family = '{self.family}'"]
        if self.metric_template:
            before, rest = self.metric_template.split("{", 1)
            name, after = rest.split("}", 1)
            parts = ([f"'{before}'"] if before else []) + [f"${{{name}:sqlstring}}"] + (
                [f"'{after}'"] if after else [])
            out.append("metric = " + " || ".join(parts))
        elif self.metric_prefix:
            out.append(f"metric LIKE '{self.metric_prefix}%'")
        if self.metrics:
            out.append(f"metric IN ({_sql_list(self.metrics)})")
        if self.exclude:
            out.append(f"metric NOT IN ({_sql_list(self.exclude)})")
        if self.plain:
            out.append("metric NOT LIKE '%.%'")
        for column, scope in (("feature", self.feature), ("slice", self.slice)):
            if scope == "null":
                out.append(f"{column} IS NULL")
            elif scope == "any":
                out.append(f"{column} IS NOT NULL")
            else:
                out.append(f"{column} IN (${{{column}:sqlstring}})")
        return out

    def _series(self) -> str:
        name = self.series[0] if len(self.series) == 1 else (
            "concat_ws(' ', " + ", ".join(self.series) + ")")
        return f"'{self.name_prefix}' || {name}" if self.name_prefix else name

    def sql(self) -> str:
        where = self._where()
        if self.table:
            latest = " AND ".join([*where[:2], "$__timeFilter(time)"])
            order = "status_level DESC NULLS LAST, " + ("p_value NULLS LAST, " if
                                                        "p_value" in self.table else "")
            limit = f"\nLIMIT {self.limit}" if self.limit else ""
            return (f"SELECT {', '.join(self.table)}\nFROM reporting.metric_records\nWHERE "
                    + "\n  AND ".join(where)
                    + f"\n  AND time = (SELECT max(time) FROM reporting.metric_records"
                    f" WHERE {latest})\nORDER BY {order}{self._series()}{limit}")
        cond = " AND ".join(where[:3]) + "\n  AND " + " AND ".join(
            [*where[3:], "$__timeFilter(time)"])
        parts = [f"SELECT time, {self._series()} AS metric, {VALUES[self.value]} AS value\n"
                 f"FROM reporting.metric_records\nWHERE {cond}"]
        for band in self.bands:
            parts.append(f"SELECT time, {self._series()} || ' {BANDS[band]}' AS metric, "
                         f"{band} AS value\nFROM reporting.metric_records\nWHERE {cond}")
        return "\nUNION ALL\n".join(parts) + "\nORDER BY 1, 2"

    # ------------------------------------------------------------------ the same in Python
    def _keeps_metric(self, metric: str, variables: Mapping[str, Sequence[str]]) -> bool:
        if self.metric_template:
            name = self.metric_template.split("{", 1)[1].split("}", 1)[0]
            if metric != self.metric_template.replace("{" + name + "}", variables[name][0]):
                return False
        elif self.metric_prefix and not metric.startswith(self.metric_prefix):
            return False
        if (self.metrics and metric not in self.metrics) or metric in self.exclude:
            return False
        return not (self.plain and "." in metric)

    def _keeps(self, r: Mapping[str, Any], variables: Mapping[str, Sequence[str]]) -> bool:
        if r["family"] != self.family or not self._keeps_metric(str(r["metric"]), variables):
            return False
        for column, scope in (("feature", self.feature), ("slice", self.slice)):
            value = r[column]
            if (scope == "null" and value is not None) or (scope == "any" and value is None):
                return False
            if scope == "var" and value not in variables[column]:
                return False
        return True

    def _value(self, r: Mapping[str, Any]) -> float | None:
        v = r["value"]
        if self.value == "status":
            return STATUS_LEVEL.get(str(r["status"]))
        if v is None:
            return None
        if self.value == "error":
            return 1 - float(v)
        if self.value == "percent":
            return 100 * float(v)
        if self.value == "per_second":
            span = _seconds(r["window_end"]) - _seconds(r["window_start"])
            return float(v) / span
        return float(v)

    def rows(self, records: Iterable[Mapping[str, Any]],
             variables: Mapping[str, Sequence[str]]) -> list[tuple[Any, ...]]:
        """The query's rows computed from API metric records (``window_start`` as RFC 3339):
        ``(window_start, series, value)`` for series, or the table's columns for the latest
        window. Only records inside the dashboard's time range should be passed."""
        kept = [r for r in records if self._keeps(r, variables)]
        if self.table:
            family_times = [r["window_start"] for r in records if r["family"] == self.family]
            if not family_times:
                return []
            latest = max(family_times, key=_seconds)
            kept = [r for r in kept if r["window_start"] == latest]
            return [tuple(_column(r, c) for c in self.table) for r in kept]
        out = []
        for r in kept:
            name = self.name_prefix + " ".join(str(r[c]) for c in self.series
                                               if r[c] is not None)
            out.append((r["window_start"], name, self._value(r)))
            for band in self.bands:
                out.append((r["window_start"], f"{name} {BANDS[band]}", r[band]))
        return out


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _column(r: Mapping[str, Any], column: str) -> Any:
    source = column.split(" AS ", maxsplit=1)[0].strip()
    if source == "status_level":
        return STATUS_LEVEL.get(str(r["status"]))
    if source == "time":
        return r["window_start"]
    return r[source]
