"""Backtest of simulated traffic with concept drift: labels tell what drift tests cannot."""

from __future__ import annotations

import statistics
from pathlib import Path

import orjson

from monitor import simulate
from monitor.backtest import run_backtest
from monitor.config import parse_config
from monitor.reference import build_profile, columns_from_events
from monitor.timeutil import parse_timestamp


def test_concept_drift_shows_in_labels_not_in_inputs_or_estimates(tmp_path: Path) -> None:
    spec = simulate.SimulationSpec(n_numeric=4, n_categorical=1, n_events=12_000,
                                   rate_per_s=2.0, drift_at=6000, drift_features=(),
                                   concept_drift=True, feedback_share=1.0,
                                   label_delay_ms=60_000, seed=3)
    doc = simulate.model_config(spec, window="15m")
    doc["drift"] = {"multivariate": {"enabled": False}}
    config = parse_config(doc)
    profile = build_profile(config, columns_from_events(
        config, simulate.reference_rows(spec, 5000)), version=1)
    preds, fb = simulate.write_files(spec, tmp_path)
    result = run_backtest(config, profile, preds, fb)
    records = result.records
    lines = preds.read_text().splitlines()
    change_ms = parse_timestamp(orjson.loads(lines[6000])["timestamp"])  # first concept-drifted

    def by_window(family: str, metric: str) -> dict[int, str]:
        return {r.window_start: r.status for r in records
                if (r.family, r.metric, r.feature) == (family, metric, None)}

    before = [w for w in by_window("performance", "accuracy") if w + config.window_ms <= change_ms]
    after = [w for w in by_window("performance", "accuracy") if w >= change_ms]
    acc = {r.window_start: r.value for r in records
           if (r.family, r.metric) == ("performance", "accuracy")}
    est = {r.window_start: r.value for r in records
           if (r.family, r.metric) == ("estimated_performance", "accuracy")}
    assert statistics.mean(acc[w] for w in after) < statistics.mean(acc[w] for w in before) - 0.1
    # the blind spot: CBPE sees the same scores, so its estimate does not move
    assert abs(statistics.mean(est[w] for w in after)
               - statistics.mean(est[w] for w in before)) < 0.03
    # the inputs did not drift
    assert all(s != "alert" for s in by_window("data_drift", "drift_share").values())
    # the error-stream detectors see it, and not before the change
    ddm = by_window("concept_drift", "ddm")
    assert all(ddm[w] != "alert" for w in before)
    first_alert = min(w for w, status in ddm.items() if status == "alert")
    assert first_alert <= change_ms < first_alert + config.window_ms  # the window of the change
    orphans = [d for d in result.dead_letters if d.reason == "orphan_feedback"]
    assert orphans == []
