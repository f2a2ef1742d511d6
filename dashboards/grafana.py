"""A small builder for Grafana dashboard JSON (schema version 39): just what Driftline uses.

Panels are laid out left to right in rows of 24 grid units; ids follow their order, so the JSON
is the same every time it is generated.

>>> d = Dashboard("x-uid", "X", "About X.", [Panel("A table", "table", [Target("SELECT 1")])])
>>> model = d.to_json()
>>> model["uid"], model["panels"][0]["gridPos"], model["panels"][0]["targets"][0]["format"]
('x-uid', {'h': 8, 'w': 12, 'x': 0, 'y': 0}, 'table')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dashboards.catalog import DATASOURCE_TYPE, DATASOURCE_UID

DATASOURCE = {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}
SCHEMA_VERSION = 39
TABLE_KINDS = ("table", "stat", "bargauge")


@dataclass(frozen=True)
class Target:
    """One SQL query of a panel; ``fmt`` is ``time_series`` or ``table``."""

    sql: str
    fmt: str = "table"
    #: What the query declares (a :class:`~dashboards.queries.RecordQuery`), for the tests;
    #: not part of the JSON.
    source: object = None

    def to_json(self, ref: str) -> dict[str, Any]:
        return {"refId": ref, "datasource": DATASOURCE, "editorMode": "code", "format": self.fmt,
                "rawQuery": True, "rawSql": self.sql}


@dataclass(frozen=True)
class Panel:
    """A panel: ``kind`` is a Grafana panel type (``timeseries``, ``table``, ``stat``,
    ``state-timeline``, ``heatmap``, ``bargauge``)."""

    title: str
    kind: str
    targets: list[Target]
    description: str = ""
    width: int = 12
    height: int = 8
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    #: Thresholds as (value, colour) steps after the base colour green, e.g. [(0.5, "red")].
    steps: list[tuple[float, str]] = field(default_factory=list)
    #: Value-to-text mappings (state timelines of statuses).
    mappings: list[dict[str, Any]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)

    def to_json(self, panel_id: int, x: int, y: int) -> dict[str, Any]:
        defaults: dict[str, Any] = {
            "color": {"mode": "thresholds" if self.kind in TABLE_KINDS or self.steps
                      else "palette-classic"},
            "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": None}]
                           + [{"color": c, "value": v} for v, c in self.steps]},
            "mappings": self.mappings,
        }
        for key, value in (("unit", self.unit), ("min", self.min), ("max", self.max)):
            if value is not None:
                defaults[key] = value
        if self.custom:
            defaults["custom"] = self.custom
        return {
            "id": panel_id, "type": self.kind, "title": self.title,
            "description": self.description, "datasource": DATASOURCE,
            "gridPos": {"h": self.height, "w": self.width, "x": x, "y": y},
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": self.options,
            "targets": [t.to_json(chr(ord("A") + i)) for i, t in enumerate(self.targets)],
        }


@dataclass(frozen=True)
class Variable:
    """A query template variable (``multi`` ones include "All")."""

    name: str
    label: str
    sql: str
    multi: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "label": self.label, "type": "query", "datasource": DATASOURCE,
            "query": self.sql, "definition": self.sql, "refresh": 2, "sort": 1,
            "multi": self.multi, "includeAll": self.multi,
            "current": {}, "options": [], "hide": 0, "skipUrlSync": False,
        }


@dataclass(frozen=True)
class Annotation:
    """Events drawn on every time series panel, from a SQL query with ``time``, ``timeend``,
    ``text`` and ``tags`` columns."""

    name: str
    sql: str
    color: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "datasource": DATASOURCE, "enable": True, "hide": False,
                "iconColor": self.color, "rawQuery": self.sql,
                "target": {"refId": "Anno", "rawSql": self.sql, "format": "table",
                           "rawQuery": True, "editorMode": "code"}}


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: list[Panel]
    variables: list[Variable] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    time_from: str = "now-7d"

    def to_json(self) -> dict[str, Any]:
        panels, x, y, row_height = [], 0, 0, 0
        for i, p in enumerate(self.panels, start=1):
            if x + p.width > 24:
                x, y, row_height = 0, y + row_height, 0
            panels.append(p.to_json(i, x, y))
            x, row_height = x + p.width, max(row_height, p.height)
        builtin = {"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                   "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                   "name": "Annotations & Alerts", "type": "dashboard"}
        return {
            "uid": self.uid, "title": self.title, "description": self.description,
            "tags": ["driftline"], "timezone": "utc", "editable": True,
            "schemaVersion": SCHEMA_VERSION, "version": 1, "graphTooltip": 1,
            "refresh": "1m", "time": {"from": self.time_from, "to": "now"},
            "templating": {"list": [v.to_json() for v in self.variables]},
            "annotations": {"list": [builtin] + [a.to_json() for a in self.annotations]},
            "links": [{"title": "Driftline dashboards", "type": "dashboards",
                       "tags": ["driftline"], "asDropdown": True, "includeVars": True,
                       "keepTime": True}],
            "panels": panels,
        }
