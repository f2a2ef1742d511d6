"""Grafana's SQL macros and ``${var:sqlstring}`` variables, expanded as Grafana's PostgreSQL
datasource expands them: for running panel queries outside Grafana (tests, the README's
pictures).

>>> from datetime import datetime, timezone
>>> t0 = datetime(2026, 11, 17, tzinfo=timezone.utc)
>>> t1 = datetime(2026, 11, 18, tzinfo=timezone.utc)
>>> print(expand("WHERE $__timeFilter(time) AND m IN (${m:sqlstring})", t0, t1,
...             {"m": ["a", "it's"]}))
WHERE time BETWEEN '2026-11-17T00:00:00Z' AND '2026-11-18T00:00:00Z' AND m IN ('a','it''s')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text

_VARIABLE = re.compile(r"\$\{(\w+):sqlstring\}")
_TIME_FILTER = re.compile(r"\$__timeFilter\(([^)]+)\)")


class UnknownVariable(KeyError):
    """A query names a template variable the caller gave no value for."""


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def expand(sql: str, time_from: datetime, time_to: datetime,
           variables: Mapping[str, Sequence[str]]) -> str:
    """``sql`` with ``$__timeFilter(col)``, ``$__timeFrom()``, ``$__timeTo()`` and every
    ``${name:sqlstring}`` (each value quoted, joined by commas) replaced."""

    def variable(m: re.Match[str]) -> str:
        if m.group(1) not in variables:
            raise UnknownVariable(m.group(1))
        return ",".join("'" + v.replace("'", "''") + "'" for v in variables[m.group(1)])

    out = _VARIABLE.sub(variable, sql)
    out = _TIME_FILTER.sub(
        lambda m: f"{m.group(1)} BETWEEN '{_stamp(time_from)}' AND '{_stamp(time_to)}'", out)
    out = out.replace("$__timeFrom()", f"'{_stamp(time_from)}'")
    return out.replace("$__timeTo()", f"'{_stamp(time_to)}'")


def run(engine: Engine, sql: str, time_from: datetime, time_to: datetime,
        variables: Mapping[str, Sequence[str]]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run a panel query as Grafana would: its column names and rows."""
    expanded = expand(sql, time_from, time_to, variables).replace(":", r"\:")  # no binds
    with engine.connect() as conn:
        result = conn.execute(text(expanded))
        return list(result.keys()), [tuple(r) for r in result]


def all_values(engine: Engine, variables: Iterable[Any], time_from: datetime,
               time_to: datetime, given: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """``given`` plus every other template variable set to "All" (each query's values, in
    order; a variable's query may use the ones before it)."""
    values = dict(given)
    for v in variables:
        if v.name not in values:
            values[v.name] = [row[0] for row in run(engine, v.sql, time_from, time_to,
                                                     values)[1]]
    return values
