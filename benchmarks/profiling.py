"""Turn a cProfile run into "where the time goes": own time per stage of the pipeline.

Functions are put into stages by module; the own time of a C function (``orjson.loads``,
``dict.get``, a numpy call, a database driver call) goes to the stage of its callers, shared in
proportion to the time each caller spent in it. The shares are of profiled time: cProfile adds a
little to every Python call, so stages made of many small calls look a bit bigger than they are.
"""

from __future__ import annotations

import cProfile
import pstats
from collections import defaultdict
from typing import Any

Func = tuple[str, int, str]

#: (stage, test on "path:function") in order; the first match wins.
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("JSON decode (orjson.loads)", ("orjson",)),
    ("Kafka client (poll, fetch, decode records)", ("/kafka/",)),
    ("database (SQLAlchemy, driver, SQL store)",
     ("/sqlalchemy/", "/psycopg/", "sqlite3", "monitor/db/", "_sqlite3")),
    ("event validation (decode_prediction, timestamps)",
     ("monitor/events.py", "monitor/timeutil.py")),
    ("window state (columns, histogram updates)",
     ("monitor/window_state.py", "detectors/histograms.py", "/numpy/", "collections/__init__",
      "_count_elements")),
    ("window close (merge, statistics, records)",
     ("monitor/records.py", "detectors/", "/scipy/")),
    ("in-memory store (dedup set, predictions)", ("monitor/memory_store.py",)),
    ("reading the input file", ("monitor/backtest.py",)),
    ("processing core (batching, dedup, clock)", ("monitor/processing.py", "monitor/worker.py",
                                                  "monitor/registry.py")),
]
OTHER = "other"


def _name(func: Func) -> str:
    filename, _, name = func
    return f"{filename}:{name}"


def _own_stage(func: Func) -> str | None:
    text = _name(func).replace("\\", "/")
    for stage, needles in STAGES:
        if any(n in text for n in needles):
            return stage
    if func[0] == "~" or func[0].startswith("<"):
        return None  # a C function or generated code: its callers decide
    return OTHER


def stage_times(profile: cProfile.Profile) -> dict[str, float]:
    """Own time per stage, in seconds (profiled)."""
    stats: dict[Func, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    memo: dict[Func, dict[str, float]] = {}

    def shares(func: Func, depth: int = 0) -> dict[str, float]:
        """How one second of ``func``'s own time splits over stages."""
        if func in memo:
            return memo[func]
        stage = _own_stage(func)
        if stage is not None:
            memo[func] = {stage: 1.0}
            return memo[func]
        callers = stats.get(func, (0, 0, 0.0, 0.0, {}))[4]
        total = sum(c[2] for c in callers.values())
        out: dict[str, float] = defaultdict(float)
        if depth > 20 or not callers or total <= 0:
            out[OTHER] = 1.0
        else:
            for caller, c in callers.items():
                for s, w in shares(caller, depth + 1).items():
                    out[s] += w * c[2] / total
        memo[func] = dict(out)
        return memo[func]

    times: dict[str, float] = defaultdict(float)
    for func, (_, _, own, _, _) in stats.items():
        for stage, weight in shares(func).items():
            times[stage] += own * weight
    return dict(sorted(times.items(), key=lambda kv: -kv[1]))


def top_functions(profile: cProfile.Profile, n: int = 15) -> list[dict[str, Any]]:
    stats: dict[Func, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    rows = sorted(stats.items(), key=lambda kv: -kv[1][2])[:n]
    return [{"function": _short(func), "calls": nc, "own_s": own, "cumulative_s": cum}
            for func, (_, nc, own, cum, _) in rows]


def _short(func: Func) -> str:
    filename, line, name = func
    if filename == "~":
        return name
    filename = filename.replace("\\", "/")
    for marker in ("site-packages/", "/monitor/", "/detectors/", "/lib/python3.11/"):
        if marker in filename:
            tail = filename.rsplit(marker, 1)[1]
            filename = (marker.strip("/") + "/" if marker in ("/monitor/", "/detectors/")
                        else "") + tail
            break
    return f"{filename}:{line}({name})"
