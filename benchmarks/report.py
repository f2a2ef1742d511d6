"""Render the results of :mod:`benchmarks.run` as docs/benchmarks.md."""

from __future__ import annotations

import math
from typing import Any

from benchmarks.common import median

BACKTEST_TARGET = 200_000
WORKER_TARGET = 30_000


def _n(x: float | None, digits: int = 0) -> str:
    if x is None or math.isnan(x):
        return "n/a"
    return f"{x:,.{digits}f}"


def _k(n: int | str) -> str:
    n = int(n)
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"


def _med(runs: list[dict[str, Any]], key: str) -> float:
    return median([float(r[key]) for r in runs if r.get(key) is not None])


def _spread(runs: list[dict[str, Any]], key: str, digits: int = 0) -> str:
    values = sorted(float(r[key]) for r in runs)
    if len(values) < 2:
        return "1 run"
    return f"{len(values)} runs, {_n(values[0], digits)} to {_n(values[-1], digits)}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *["| " + " | ".join(r) + " |" for r in rows], ""]


def machine(m: dict[str, Any], quick: bool) -> list[str]:
    pkgs = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    return [
        "## Machine", "",
        *_table(["", ""], [
            ["CPU", f"{m['cpu']} ({m['cores']} cores)"],
            ["RAM", f"{_n(m['ram_gib'], 1)} GiB"],
            ["OS, Python", f"{m['os']}, Python {m['python']}"],
            ["packages", pkgs],
            ["revision", f"{m['revision']}, measured {m['date']}"],
            ["mode", "quick (small sizes)" if quick else "full"],
        ]),
        f"Every figure is the median of repeated runs, each in a fresh process (runs per figure "
        f"are given). The machine is shared: the broker, PostgreSQL and other processes run on "
        f"the same {m['cores']} cores, so single runs vary by 10-20%.", "",
    ]


def summary(r: dict[str, Any]) -> list[str]:
    base = r.get("baseline") or {}
    rows = []
    for n, runs in r["backtest"].items():
        rate = _med(runs, "events_per_s")
        before = (base.get("backtest") or {}).get(n)
        rows.append([f"backtest, {_k(n)} events", f">= {_n(BACKTEST_TARGET)}/s",
                     f"{_n(_med(before, 'events_per_s'))}/s" if before else "n/a",
                     f"{_n(rate)}/s", "met" if rate >= BACKTEST_TARGET else "**missed**"])
    for key, w in r.get("worker", {}).items():
        if key.startswith("current:"):
            db = key.split(":")[1]
            rate = _med(w["runs"], "events_per_s")
            before = ((base.get("worker") or {}).get(db) or {}).get("runs")
            rows.append([f"worker, one process, {db}", f">= {_n(WORKER_TARGET)}/s",
                         f"{_n(_med(before, 'events_per_s'))}/s" if before else "n/a",
                         f"{_n(rate)}/s", "met" if rate >= WORKER_TARGET else "**missed**"])
    return ["## Summary", "",
            *_table(["what", "target", "before (median)", "now (median)", ""], rows),
            "\"Before\": the same benchmark on the code before this optimisation pass (see "
            "section 4).", ""]


def backtest(r: dict[str, Any]) -> list[str]:
    rows, mem = [], []
    for n, runs in r["backtest"].items():
        rows.append([_k(n), _n(_med(runs, "seconds"), 2), _n(_med(runs, "events_per_s")),
                     _spread(runs, "events_per_s"), str(runs[0]["windows"]),
                     ", ".join(runs[0]["drifted_features"]) or "none"])
        mem.append([_k(n), _n(_med(runs, "rss_before_mib")), _n(_med(runs, "peak_rss_mib")),
                    _n(_med(runs, "peak_rss_mib") - _med(runs, "rss_before_mib")),
                    _n(runs[0]["state_bytes_per_window"])])
    sizes = list(r["backtest"])
    lines = [
        "## 1. Backtest throughput", "",
        "`monitor.backtest.run_backtest` over `predictions.jsonl` written by "
        "`monitor.simulate.write_files` (20 numeric + 5 categorical features, ~576 bytes a "
        "line, 10 events/s of event time, 1 h windows, drift from event 50,000 on in "
        "`num_00`-`num_02`), reference profile frozen from "
        f"{_n(r['plan']['reference_rows'])} `reference_rows`. Time from opening the file to "
        "the last window finalized.", "",
        *_table(["events", "seconds", "events/s", "spread", "windows", "drift alerts on"], rows),
        "### Peak memory", "",
        *_table(["events", "RSS before (MiB)", "peak RSS (MiB)", "growth (MiB)",
                 "state per final window (bytes)"], mem),
    ]
    if len(sizes) >= 2:
        a, b = r["backtest"][sizes[0]], r["backtest"][sizes[-1]]
        grow = (_med(b, "peak_rss_mib") - _med(a, "peak_rss_mib")) * 2**20
        per_event = grow / (int(sizes[-1]) - int(sizes[0]))
        lines += [
            "Window state is O(bins): a final window's merged state is the same few kilobytes "
            "whatever the window's size. The backtest's memory is not independent of stream "
            f"length, though: it grows by about {_n(per_event)} bytes per event, because "
            "`MemoryStore` keeps, like the database does, every claimed event id (the "
            "exactly-once dedup set, `claimed`) and every prediction (`predictions`, the join "
            "store for late feedback). Both are O(events) by design; bounding them needs a "
            "retention rule (e.g. forget ids of finalized windows, predictions older than the "
            "feedback horizon) that changes which late duplicates are recognised, so it is "
            "a behaviour change, not an optimisation.", ""]
    return lines


def worker(r: dict[str, Any]) -> list[str]:
    w = r.get("worker")
    if not w:
        return []
    rows = []
    for key, v in w.items():
        if not key.startswith("current:"):
            continue
        runs = v["runs"]
        rows.append([key.split(":")[1], _n(_med(runs, "events_per_s")),
                     _spread(runs, "events_per_s"), _n(_med(runs, "events_per_s_from_start")),
                     _n(_med(runs, "join_s"), 1), _n(_med(runs, "mean_batch")),
                     _n(_med(runs, "windows_closed")), _n(_med(runs, "close_cost_s") * 1e3, 1),
                     _n(_med(runs, "close_latency_s") * 1e3, 1), _n(_med(runs, "peak_rss_mib"))])
    p = w["produce"]
    lines = [
        "## 2. Worker: broker to committed windows", "",
        f"{_n(w['events'])} simulated predictions produced to a {w['partitions']}-partition "
        f"topic of the embedded broker (tansu) before the worker starts "
        f"({_n(p['messages'] / p['seconds'])} messages/s with the simulator's tuned producer, "
        f"generation included; {_n(p['mean_bytes'])} bytes each). Each run: a fresh database "
        "(migrated; model with 15 min windows and its reference registered), a fresh consumer "
        "group, one `monitor.worker.Worker` (default settings: `poll_max_records` 5000) in a "
        "process of its own, stopped once its committed batches cover the stream; the offsets "
        "stored in `consumer_offsets` are then checked to cover every message. events/s counts "
        "from the first committed batch to the last; \"from start\" includes the consumer-group "
        "join (~3 s against tansu, `session_timeout_ms / 2`).", "",
        "Window close: cost = one `_settle` (merge of the partition states, statistics and "
        "records, write, commit); latency = from the commit of the batch after which the window "
        "became due to its records being committed (the heartbeat and the watermark query "
        "run in between).", "",
        *_table(["database", "events/s", "spread", "from start", "join (s)", "mean batch",
                 "windows closed", "close cost (ms)", "close latency (ms)", "peak RSS (MiB)"],
                rows),
    ]
    if "postgresql_skipped" in w:
        lines += [f"PostgreSQL skipped: {w['postgresql_skipped']}", ""]
    return lines


def _drifted(run: dict[str, Any]) -> str:
    names = run["drifted_features"]
    return f"{len(names)}: {', '.join(names)}" if names else "0"


def evidently(r: dict[str, Any]) -> list[str]:
    ev = r.get("evidently")
    if not ev:
        return ["## 3. Evidently", "", "Skipped (`--skip-evidently`).", ""]
    errors = [run["error"] for runs in ev.values() for run in runs if "error" in run]
    if errors:
        return ["## 3. Evidently", "", f"`import evidently` failed: `{errors[0]}`", ""]
    rows = []
    for n, runs in ev.items():
        bt = r["backtest"].get(n)
        dl_s = _med(bt, "seconds") if bt else float("nan")
        dl_mem = _med(bt, "peak_rss_mib") if bt else float("nan")
        ev_s, ev_mem = _med(runs, "seconds"), _med(runs, "peak_rss_mib")
        ev_all = ev_s + _med(runs, "load_s")
        rows.append([_k(n), f"{_n(ev_s, 1)} ({len(runs)} run{'s' * (len(runs) > 1)})",
                     _n(ev_all, 1), _n(ev_mem), _n(dl_s, 2), _n(dl_mem),
                     f"{_n(ev_s / dl_s, 1)}x / {_n(ev_all / dl_s, 1)}x",
                     f"{_n(ev_mem / dl_mem, 1)}x", _drifted(runs[0])])
    first = next(iter(ev.values()))[0]
    return [
        "## 3. Evidently 0.7 DataDriftPreset on the same rows", "",
        "`Report([DataDriftPreset()]).run(current, reference)` plus `snapshot.dict()`, with "
        "`Dataset.from_pandas` and a `DataDefinition` naming the 20 numeric and 5 categorical "
        f"columns; reference: {_n(first['reference_rows'])} rows from the same "
        "`reference_rows` stream as Driftline's profile (its DataFrame is built untimed, as "
        "Driftline's reference profile is). Timed: the report, and apart the loading of the "
        "same JSONL file into a DataFrame (`orjson.loads` per line, features only), so that "
        "\"with loading\" compares file to drift result on both sides; `import evidently` "
        f"took {_n(first['import_s'], 1)} s more. Peak RSS includes both DataFrames. "
        "Driftline: the backtest medians above on the same file, which also validate and "
        "deduplicate every event, apply watermarks and write every window's records. "
        "Evidently picked: " + ", ".join(first["methods"]) + " (above 1,000 reference rows).",
        "",
        *_table(["rows", "Evidently report (s)", "with loading (s)", "Evidently peak RSS (MiB)",
                 "Driftline (s)", "Driftline peak RSS (MiB)", "time ratio (report / with "
                 "loading)", "memory ratio", "Evidently drifted columns"], rows),
        "The mission's anchor (146 s and 1.9 GB at 1M rows) used a 1M-row reference; here "
        "the reference has 100k rows.", "",
    ]


def render(r: dict[str, Any]) -> str:
    from benchmarks.report_profile import where_the_time_goes

    lines = ["# Driftline benchmarks", "",
             "Written by `make bench` (`python -m benchmarks.run --out docs/benchmarks.md`); "
             "`--quick` for a smoke run, `--skip-evidently` to leave Evidently out, `--only "
             "drift` to rerun only the drift sections (5-8). Do not edit by hand: rerun it.", ""]
    lines += machine(r["machine"], r["quick"])
    lines += summary(r)
    lines += backtest(r)
    lines += worker(r)
    lines += evidently(r)
    lines += where_the_time_goes(r)
    if r.get("drift"):
        from benchmarks.report_drift import render as drift

        lines += ["", drift(r["drift"])]
    return "\n".join(lines).rstrip() + "\n"
