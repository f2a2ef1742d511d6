"""Measurements that run in a fresh interpreter: ``python -m benchmarks.child NAME JSON``.

Each prints one ``RESULT {json}`` line with what it measured and the process's peak resident
memory, so one process measures one thing and the peaks do not mix.
"""

from __future__ import annotations

import cProfile
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import common, profiling


def _drifted(records: list[Any]) -> list[str]:
    return sorted({r.feature for r in records if r.family == "data_drift" and r.feature
                   and r.status == "alert"})


def backtest(args: dict[str, Any]) -> dict[str, Any]:
    """``run_backtest`` over a predictions file: events/s and peak memory."""
    from monitor.backtest import run_backtest

    path, n = Path(args["path"]), int(args["n_events"])
    cfg, profile = common.model_config(), common.load_reference(Path(args["reference"]))
    limits = common.event_limits(n)
    rss_before = common.current_rss_mib()
    with common.timed() as t:
        result = run_backtest(cfg, profile, path, limits=limits)
    s = result.stats
    events = s.accepted + s.duplicates + s.late + s.dead_letters
    return {"n_events": events, "seconds": t.seconds, "events_per_s": events / t.seconds,
            "accepted": s.accepted, "dead_letters": s.dead_letters,
            "windows": len({r.window_start for r in result.records}),
            "records": len(result.records), "drifted_features": _drifted(result.records),
            "rss_before_mib": rss_before, "rss_after_mib": common.current_rss_mib(),
            "peak_rss_mib": common.peak_rss_mib(),
            "store_sizes": {"claimed_event_ids": len(result.store.claimed),
                            "predictions": len(result.store.predictions)},
            "state_bytes_per_window": _state_bytes(result.store)}


def _state_bytes(store: Any) -> float:
    """Mean size of a final window's merged state: what a window keeps, whatever its size."""
    sizes = [len(b) for b in store.merged.values()]
    return sum(sizes) / len(sizes) if sizes else 0.0


def profile_backtest(args: dict[str, Any]) -> dict[str, Any]:
    """The same backtest under cProfile: own time per pipeline stage and the top functions."""
    from monitor.backtest import run_backtest

    path, n = Path(args["path"]), int(args["n_events"])
    cfg, profile = common.model_config(), common.load_reference(Path(args["reference"]))
    limits = common.event_limits(n)
    with common.timed() as plain:
        run_backtest(cfg, profile, path, limits=limits)
    prof = cProfile.Profile()
    with common.timed() as profiled:
        prof.enable()
        run_backtest(cfg, profile, path, limits=limits)
        prof.disable()
    return {"n_events": n, "seconds": plain.seconds, "events_per_s": n / plain.seconds,
            "profiled_seconds": profiled.seconds, "stages": profiling.stage_times(prof),
            "top": profiling.top_functions(prof)}


def floors(args: dict[str, Any]) -> dict[str, Any]:
    """Upper bounds: each stage of the backtest alone, in batches of 5000 as the backtest runs.

    Cumulative: reading lines; + ``orjson.loads``; + validation (``decode_prediction``, which
    includes the loads); + the window-state update of every feature.
    """
    import orjson

    from monitor.backtest import BATCH, file_batches
    from monitor.events import decode_prediction
    from monitor.processing import collector_paused
    from monitor.window_state import WindowState

    path, n = Path(args["path"]), int(args["n_events"])
    cfg, profile = common.model_config(), common.load_reference(Path(args["reference"]))
    limits = common.event_limits(n)
    out: dict[str, float] = {}
    with collector_paused():
        with common.timed() as t:
            for _ in file_batches(path, BATCH):
                pass
        out["read lines"] = n / t.seconds
        with common.timed() as t:
            for _, lines in file_batches(path, BATCH):
                [orjson.loads(line) for line in lines]
        out["+ orjson.loads"] = n / t.seconds
        with common.timed() as t:
            for _, lines in file_batches(path, BATCH):
                [decode_prediction(line, limits) for line in lines]
        out["+ validation (decode_prediction)"] = n / t.seconds
        state = WindowState(cfg, profile)
        with common.timed() as t:
            for _, lines in file_batches(path, BATCH):
                state.update([decode_prediction(line, limits) for line in lines])
        out["+ window state update (25 features)"] = n / t.seconds
    return {"n_events": n, "events_per_s": out}


def evidently(args: dict[str, Any]) -> dict[str, Any]:
    """Evidently ``DataDriftPreset`` on the same rows (25 feature columns)."""
    import orjson

    path, n, ref_n = Path(args["path"]), int(args["n_events"]), int(args["reference_rows"])
    started = time.perf_counter()
    try:
        import pandas as pd
        from evidently import DataDefinition, Dataset, Report
        from evidently.presets import DataDriftPreset
    except Exception as exc:  # noqa: BLE001 - reported as the result, e.g. a pandas/numpy clash
        return {"error": f"{type(exc).__name__}: {exc}"}
    import_s = time.perf_counter() - started
    from monitor.simulate import reference_rows

    s = common.spec(n)
    with common.timed() as load, path.open("rb") as fh:
        current = pd.DataFrame([orjson.loads(line)["features"] for line in fh])
    reference = pd.DataFrame([r["features"] for r in reference_rows(s, ref_n,
                                                                     with_outcomes=False)])
    definition = DataDefinition(numerical_columns=s.numeric_names,
                                categorical_columns=s.categorical_names)
    rss_loaded = common.current_rss_mib()
    with common.timed() as t:
        snapshot = Report([DataDriftPreset()]).run(
            Dataset.from_pandas(current, data_definition=definition),
            Dataset.from_pandas(reference, data_definition=definition))
        result = snapshot.dict()
    count: dict[str, Any] = next((m["value"] for m in result["metrics"]
                                  if m["metric_name"].startswith("DriftedColumnsCount")), {})
    drifted = [m["config"]["column"] for m in result["metrics"]
               if m["config"].get("type", "").endswith("ValueDrift") and _value_drift(m)]
    return {"n_events": len(current), "reference_rows": len(reference), "seconds": t.seconds,
            "rows_per_s": len(current) / t.seconds, "import_s": import_s,
            "load_s": load.seconds,
            "drifted_count": count.get("count"), "drifted_features": sorted(drifted),
            "methods": sorted({m["config"]["method"] for m in result["metrics"]
                               if "method" in m["config"]}),
            "rss_loaded_mib": rss_loaded, "peak_rss_mib": common.peak_rss_mib()}


def _value_drift(metric: dict[str, Any]) -> bool:
    """Evidently's rule: p-value tests drift below the threshold, distances at or above it."""
    value, cfg = float(metric["value"]), metric["config"]
    threshold = float(cfg["threshold"])
    if "p_value" in cfg["method"]:
        return value < threshold
    return value >= threshold


def worker(args: dict[str, Any]) -> dict[str, Any]:
    from benchmarks import worker_bench

    return worker_bench.run_worker(args)


def consume(args: dict[str, Any]) -> dict[str, Any]:
    from benchmarks import worker_bench

    return worker_bench.consume_only(args)


def drift_driftline(args: dict[str, Any]) -> dict[str, Any]:
    from benchmarks import drift_compare

    return drift_compare.driftline(args)


def drift_evidently(args: dict[str, Any]) -> dict[str, Any]:
    from benchmarks import drift_compare

    return drift_compare.evidently(args)


def drift_multivariate(args: dict[str, Any]) -> dict[str, Any]:
    from benchmarks import drift_multivariate

    return drift_multivariate.measure(args)


FUNCTIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "backtest": backtest, "profile_backtest": profile_backtest, "evidently": evidently,
    "worker": worker, "floors": floors, "consume": consume,
    "drift_driftline": drift_driftline, "drift_evidently": drift_evidently,
    "drift_multivariate": drift_multivariate,
}


def main() -> int:
    name, raw = sys.argv[1], sys.argv[2]
    result = FUNCTIONS[name](json.loads(raw))
    result.setdefault("peak_rss_mib", common.peak_rss_mib())
    source = sys.modules.get("monitor") or sys.modules.get("detectors")
    if source is not None:
        result["source"] = str(Path(source.__file__ or "").parent.parent)
    print(common.RESULT_PREFIX + json.dumps(result, default=float), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
