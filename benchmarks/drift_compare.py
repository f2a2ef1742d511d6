"""Driftline against Evidently on the same table: time, peak memory and per-column verdicts.

Each side runs in a fresh process (``python -m benchmarks.child drift_driftline|drift_evidently``)
and generates the same reference and current tables from the same seed, as pandas DataFrames,
untimed. Peak memory is the process's peak resident set (``VmHWM``, as for every other child of
the harness), read before the untimed checks, and started again (``clear_refs``) once the
frames are built, so that building them does not count; "growth" is the peak minus the resident
set at that point.

Driftline, timed: ``columns_from_events`` + ``build_profile`` on the reference rows (rows built
from the reference frame untimed), then the current frame as ``Prediction`` batches of
``BATCH`` through ``WindowState.update`` (batches built from the frame's columns, timed apart),
then ``compute_window_records`` with ``drift.mode: evidently``. Evidently, timed:
``Report([DataDriftPreset()]).run(...)`` and ``snapshot.dict()``.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks import common, drift_data

BATCH = 5000
DRIFTED = (*(drift_data.Shift(f"num_{i:02d}", 0.5) for i in range(6)),
           drift_data.Shift("cat_0", 0.2), drift_data.Shift("cat_1", 0.2))
P_VALUE_TESTS = ("ks", "chisquare", "z")
# Evidently's display names of the methods it picks, in Driftline's names.
EVIDENTLY_METHODS = {"K-S p_value": "ks", "chi-square p_value": "chisquare",
                     "Z-test p_value": "z", "Wasserstein distance (normed)": "wasserstein",
                     "Jensen-Shannon distance": "jensenshannon"}


def _tables(args: dict[str, Any]) -> tuple[drift_data.Table, drift_data.Table]:
    seed = int(args.get("seed", 11))
    return (drift_data.table(int(args["reference_rows"]), (seed, 0)),
            drift_data.table(int(args["n_rows"]), (seed, 1), DRIFTED))


def _from_frame(frame: Any) -> drift_data.Table:
    return drift_data.Table({n: frame[n].to_numpy() for n in drift_data.NUMERIC},
                            {n: frame[n].to_numpy() for n in drift_data.CATEGORICAL})


def _verdicts(records: list[Any]) -> dict[str, dict[str, Any]]:
    """Per column: the test, the score Evidently reports for it (the p-value of a test with
    one, else the distance) and whether the record is an alert."""
    return {r.feature: {"method": r.metric,
                        "value": r.p_value if r.metric in P_VALUE_TESTS else r.value,
                        "statistic": r.value, "drifted": r.status == "alert"}
            for r in records if r.family == "data_drift" and r.feature}


def driftline(args: dict[str, Any]) -> dict[str, Any]:
    from monitor.records import IngestionCounts, compute_window_records
    from monitor.reference import build_profile, columns_from_events
    from monitor.window_state import WindowState

    ref_t, cur_t = _tables(args)
    ref_frame, cur_frame = ref_t.frame(), cur_t.frame()
    del ref_t, cur_t
    cfg = drift_data.model_config("evidently")
    ref_rows = drift_data.reference_rows(_from_frame(ref_frame))
    reset = common.reset_peak_rss()
    rss_loaded = common.current_rss_mib()
    with common.timed() as fit:
        profile = build_profile(cfg, columns_from_events(cfg, ref_rows), version=1)
    state = WindowState(cfg, profile)
    build_s = update_s = 0.0
    batches = drift_data.events(_from_frame(cur_frame), BATCH)
    while True:
        started = time.perf_counter()
        batch = next(batches, None)
        build_s += time.perf_counter() - started
        if batch is None:
            break
        started = time.perf_counter()
        state.update(batch)
        update_s += time.perf_counter() - started
    with common.timed() as close:
        records = compute_window_records(cfg, profile, drift_data.START_MS, state,
                                         IngestionCounts())
    peak = common.peak_rss_mib()
    out: dict[str, Any] = {
        "n_rows": len(cur_frame), "reference_rows": len(ref_frame), "fit_s": fit.seconds,
        "update_s": update_s, "build_s": build_s, "records_s": close.seconds,
        "seconds": fit.seconds + update_s + close.seconds,
        "with_build_s": fit.seconds + update_s + close.seconds + build_s,
        "rss_loaded_mib": rss_loaded, "peak_rss_mib": peak, "peak_reset": reset,
        "sample_size": cfg.drift.sample_size, "verdicts": _verdicts(records)}
    out.update(_with_multivariate(profile, state))
    if args.get("exact_check"):
        out["exact"] = _exact(profile, _from_frame(cur_frame))
    return out


def _with_multivariate(profile: Any, state: Any) -> dict[str, Any]:
    """The same window's records with Driftline's default multivariate test on (MMD).

    Timed the second time: the first call in a process also warms torch's kernels up (kept as
    ``records_multivariate_first_s``), which a worker pays once, not per window."""
    from monitor.records import IngestionCounts, compute_window_records

    with common.timed() as imported:
        import torch  # noqa: F401 - loaded once per worker; timed apart from the records

    cfg = drift_data.model_config("evidently", multivariate=True)
    with common.timed() as first:
        compute_window_records(cfg, profile, drift_data.START_MS, state, IngestionCounts())
    with common.timed() as close:
        records = compute_window_records(cfg, profile, drift_data.START_MS, state,
                                         IngestionCounts())
    joint = [{"metric": r.metric, "value": r.value, "p_value": r.p_value, "status": r.status}
             for r in records if r.family == "multivariate_drift"]
    return {"torch_import_s": imported.seconds, "records_multivariate_s": close.seconds,
            "records_multivariate_first_s": first.seconds,
            "peak_rss_torch_mib": common.peak_rss_mib(), "multivariate": joint,
            "verdicts_multivariate_on": _verdicts(records)}


def _exact(profile: Any, cur: drift_data.Table) -> dict[str, Any]:
    """Evidently-mode verdicts with the largest row sample (the whole window up to 20,000)."""
    from detectors.sample import counter_priorities
    from monitor.records import IngestionCounts, compute_window_records
    from monitor.window_state import WindowState

    size = min(20_000, cur.n)
    cfg = drift_data.model_config("evidently", sample_size=size)
    state = WindowState(cfg, profile)
    drift_data.fill(state, cur, counter_priorities(0, cur.n, 5))
    records = compute_window_records(cfg, profile, drift_data.START_MS, state, IngestionCounts())
    return {"sample_size": size, "verdicts": _verdicts(records)}


def _evidently_drifted(method: str, value: float, threshold: float) -> bool:
    """Evidently 0.7.23's own rule per test: K-S ``p <= t``, other tests ``p < t``, distances
    ``>= t`` (``legacy/calculations/stattests/*.py``)."""
    if method == "K-S p_value":
        return value <= threshold
    if "p_value" in method:
        return value < threshold
    return value >= threshold


def evidently(args: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        from evidently import DataDefinition, Dataset, Report
        from evidently.presets import DataDriftPreset
    except Exception as exc:  # noqa: BLE001 - reported as the result, e.g. a pandas/numpy clash
        return {"error": f"{type(exc).__name__}: {exc}"}
    import_s = time.perf_counter() - started
    ref_t, cur_t = _tables(args)
    ref_frame, cur_frame = ref_t.frame(), cur_t.frame()
    del ref_t, cur_t
    definition = DataDefinition(numerical_columns=drift_data.NUMERIC,
                                categorical_columns=drift_data.CATEGORICAL)
    reset = common.reset_peak_rss()
    rss_loaded = common.current_rss_mib()
    with common.timed() as t:
        snapshot = Report([DataDriftPreset()]).run(
            Dataset.from_pandas(cur_frame, data_definition=definition),
            Dataset.from_pandas(ref_frame, data_definition=definition))
        result = snapshot.dict()
    peak = common.peak_rss_mib()
    verdicts: dict[str, dict[str, Any]] = {}
    count = None
    for m in result["metrics"]:
        cfg = m["config"]
        if cfg.get("type", "").endswith("DriftedColumnsCount"):
            count = m["value"]["count"]
        elif cfg.get("type", "").endswith("ValueDrift"):
            value, threshold = float(m["value"]), float(cfg["threshold"])
            verdicts[cfg["column"]] = {
                "method": EVIDENTLY_METHODS.get(cfg["method"], cfg["method"]), "value": value,
                "drifted": _evidently_drifted(cfg["method"], value, threshold)}
    return {"n_rows": len(cur_frame), "reference_rows": len(ref_frame), "seconds": t.seconds,
            "import_s": import_s, "rss_loaded_mib": rss_loaded, "peak_rss_mib": peak,
            "peak_reset": reset,
            "drifted_count": count, "verdicts": verdicts}


def agreement(ours: dict[str, dict[str, Any]],
              theirs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Columns whose test or verdict differ, and the largest gap between the statistics."""
    method_diff = sorted(c for c in theirs if ours.get(c, {}).get("method") != theirs[c]["method"])
    verdict_diff = sorted(c for c in theirs if ours.get(c, {}).get("drifted")
                          != theirs[c]["drifted"])
    gaps = {c: abs(float(ours[c]["value"]) - theirs[c]["value"]) for c in theirs
            if c in ours and ours[c].get("value") is not None}
    worst = max(gaps, key=lambda c: gaps[c]) if gaps else None
    return {"columns": len(theirs), "method_diff": method_diff, "verdict_diff": verdict_diff,
            "details": {c: {"driftline": ours.get(c), "evidently": theirs[c]}
                        for c in sorted(set(method_diff) | set(verdict_diff))},
            "max_gap": gaps[worst] if worst else None, "max_gap_column": worst,
            "drifted": sorted(c for c in theirs if theirs[c]["drifted"])}
