"""Drift verdicts of whole windows in both selection modes, on seeded data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from detectors.drift.jensen_shannon import jensen_shannon_statistic
from detectors.drift.ks import ks_statistic
from detectors.drift.wasserstein import wasserstein_statistic
from monitor.config import ModelConfig, parse_config
from monitor.events import Prediction
from monitor.records import IngestionCounts, MetricRecord, compute_window_records
from monitor.reference import ReferenceProfile, build_profile, columns_from_events
from monitor.window_state import WindowState

T0 = 1_795_000_000_000


def cfg(**drift: Any) -> ModelConfig:
    return parse_config({
        "model_id": "m", "task": "binary_classification", "window": "1h",
        "features": [{"name": "x", "type": "numeric"}, {"name": "y", "type": "numeric"},
                     {"name": "c", "type": "categorical"}, {"name": "b", "type": "categorical"}],
        "drift": {"multivariate": {"enabled": False}, **drift},
    })


def rows(n: int, seed: int, shift: float = 0.0, mix: float = 0.0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1, n)
    y = rng.normal(0, 1, n)
    c = rng.choice(["a", "b", "c", "d"], n, p=[0.4 - mix, 0.3, 0.2, 0.1 + mix])
    b = rng.choice(["yes", "no"], n, p=[0.3, 0.7])
    score = rng.random(n)
    return [{"features": {"x": float(x[i]), "y": float(y[i]), "c": str(c[i]), "b": str(b[i])},
             "score": float(score[i]), "prediction": int(score[i] > 0.5)} for i in range(n)]


def profile(config: ModelConfig, n: int, seed: int = 1) -> ReferenceProfile:
    return build_profile(config, columns_from_events(config, rows(n, seed)), version=1)


def window(config: ModelConfig, prof: ReferenceProfile, data: list[dict[str, Any]],
           prefix: str = "e") -> WindowState:
    state = WindowState(config, prof)
    state.update([Prediction("m", f"{prefix}{i}", f"{prefix}{i}", T0 + i, r["features"],
                             r["prediction"], r["score"], {}, None)
                  for i, r in enumerate(data)])
    return state


def records(config: ModelConfig, prof: ReferenceProfile,
            state: WindowState) -> dict[tuple[str, str | None], MetricRecord]:
    recs = compute_window_records(config, prof, T0 - T0 % 3_600_000, state, IngestionCounts())
    return {(r.family, r.feature): r for r in recs if r.family in ("data_drift",
                                                                    "prediction_drift")}


def test_calibrated_mode_flags_exactly_the_shifted_features() -> None:
    c = cfg()
    prof = profile(c, 5000)
    got = records(c, prof, window(c, prof, rows(2000, 2, shift=0.3, mix=0.15)))
    assert {f: (r.metric, r.status) for (fam, f), r in got.items() if fam == "data_drift"} == {
        "x": ("wasserstein", "alert"), "y": ("wasserstein", "ok"),
        "c": ("jensenshannon", "alert"), "b": ("jensenshannon", "ok"),
        None: ("drift_share", "alert")}
    x = got[("data_drift", "x")]
    assert x.p_value is not None
    assert x.p_value == pytest.approx(1 / 2001)  # no resample of 2000 came near it
    assert x.value == pytest.approx(0.3, abs=0.05)  # binned normed Wasserstein of a 0.3 sd shift
    assert x.threshold is not None
    assert 0.075 <= x.threshold < x.value
    assert got[("data_drift", "y")].p_value > 0.01


def test_negligible_shift_on_a_huge_window_is_a_warning_not_an_alert() -> None:
    c = cfg()
    prof = profile(c, 5000)
    got = records(c, prof, window(c, prof, rows(60_000, 3, shift=0.05)))
    x = got[("data_drift", "x")]
    assert x.p_value is not None
    assert x.p_value == pytest.approx(1 / 2001)  # the shift is real ...
    assert x.value is not None
    assert x.value < 0.075
    assert x.status == "warning"
    assert got[("data_drift", None)].status == "ok"


def test_small_windows_are_insufficient_below_min_samples() -> None:
    c = cfg(min_samples=100)
    prof = profile(c, 2000)
    got = records(c, prof, window(c, prof, rows(99, 4, shift=2.0)))
    assert {r.status for (fam, _), r in got.items() if fam == "data_drift"} == {
        "insufficient_data"}


def test_bonferroni_and_bh_agree_on_one_strong_shift() -> None:
    for correction in ("bh", "bonferroni"):
        c = cfg(correction=correction)
        prof = profile(c, 5000)
        got = records(c, prof, window(c, prof, rows(1500, 5, shift=0.5)))
        assert got[("data_drift", "x")].status == "alert"
        assert got[("data_drift", "y")].status == "ok"


def test_evidently_mode_small_reference_uses_ks_chisquare_and_z() -> None:
    c = cfg(mode="evidently")
    prof = profile(c, 800)
    data = rows(600, 6, shift=0.4)
    state = window(c, prof, data)
    got = records(c, prof, state)
    metrics = {f: r.metric for (fam, f), r in got.items() if fam == "data_drift"}
    assert metrics == {"x": "ks", "y": "ks", "c": "chisquare", "b": "z", None: "drift_share"}
    ref_x = [r["features"]["x"] for r in rows(800, 1)]
    stat, p = ks_statistic(np.array(ref_x), np.array([r["features"]["x"] for r in data]))
    assert got[("data_drift", "x")].value == pytest.approx(stat, rel=1e-12)
    assert got[("data_drift", "x")].p_value == pytest.approx(p, rel=1e-9)
    assert got[("data_drift", "x")].status == "alert"
    assert got[("data_drift", "x")].threshold == 0.05


def test_evidently_mode_large_reference_uses_wasserstein_and_jensenshannon() -> None:
    c = cfg(mode="evidently", reference_sample_size=5000, sample_size=1000)
    prof = profile(c, 3000)
    data = rows(900, 7, shift=0.5, mix=0.15)
    got = records(c, prof, window(c, prof, data))
    ref = rows(3000, 1)
    stat, _ = wasserstein_statistic(np.array([r["features"]["x"] for r in ref]),
                                    np.array([r["features"]["x"] for r in data]))
    assert got[("data_drift", "x")].metric == "wasserstein"
    assert got[("data_drift", "x")].value == pytest.approx(stat, rel=1e-9)
    assert got[("data_drift", "c")].metric == "jensenshannon"
    counts = {k: [sum(r["features"]["c"] == k for r in d) for k in "abcd"]
              for k, d in (("ref", ref), ("cur", data))}
    js, _ = jensen_shannon_statistic(np.array(counts["ref"] + [0]), np.array(counts["cur"] + [0]))
    assert got[("data_drift", "c")].value == pytest.approx(js, rel=1e-9)
    assert {f: r.status for (fam, f), r in got.items() if fam == "data_drift"} == {
        "x": "alert", "y": "ok", "c": "alert", "b": "ok", None: "alert"}  # half drifted


def test_forced_method_runs_on_every_feature() -> None:
    c = cfg(method="psi")
    prof = profile(c, 3000)
    got = records(c, prof, window(c, prof, rows(1000, 8, shift=1.0)))
    assert got[("data_drift", "x")].metric == "psi"
    assert got[("data_drift", "x")].status == "alert"
    assert got[("data_drift", "y")].status == "ok"


def test_window_samples_merge_into_the_whole() -> None:
    c = cfg(sample_size=300)
    prof = profile(c, 2000)
    data = rows(1000, 9)
    whole = window(c, prof, data)
    left, right = window(c, prof, data[:400]), WindowState(c, prof)
    right.update([Prediction("m", f"e{i}", f"e{i}", T0 + i, r["features"], r["prediction"],
                             r["score"], {}, None) for i, r in enumerate(data) if i >= 400])
    merged = left.merge(right)
    assert merged.sample.priorities.tolist() == whole.sample.priorities.tolist()
    assert merged.sample.data["x"].tolist() == whole.sample.data["x"].tolist()
    again = WindowState.from_json(merged.to_json(), c, prof)
    assert again.sample.data["c"].tolist() == whole.sample.data["c"].tolist()
    assert len(again.sample) == 300
    assert again.sample.n_seen == 1000


def test_schema_changes_are_data_quality_records() -> None:
    c = cfg()
    prof = profile(c, 2000)
    data = rows(200, 10)
    for r in data:
        del r["features"]["y"]
        r["features"]["z_new"] = 1.0
    recs = compute_window_records(c, prof, T0 - T0 % 3_600_000, window(c, prof, data),
                                  IngestionCounts())
    schema = {r.feature: (r.value, r.status) for r in recs if r.metric == "schema_change"}
    assert schema == {"x": (0.0, "ok"), "y": (1.0, "alert"), "c": (0.0, "ok"),
                      "b": (0.0, "ok"), "z_new": (1.0, "warning")}


def _mv_config() -> ModelConfig:
    return parse_config({
        "model_id": "m", "task": "regression", "window": "1h",
        "features": [{"name": "x", "type": "numeric"}, {"name": "y", "type": "numeric"},
                     {"name": "e", "type": "embedding"}],
        "drift": {"multivariate": {"n_permutations": 50}, "sample_size": 400,
                  "reference_sample_size": 400},
    })


def _mv_rows(n: int, seed: int, rho: float, emb_shift: float) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    y = rho * x + np.sqrt(1 - rho * rho) * rng.normal(0, 1, n)
    e = rng.normal(0, 1, (n, 8)) + emb_shift * np.eye(8)[0]
    e = e / np.linalg.norm(e, axis=1, keepdims=True)  # unit vectors: the norm never drifts
    return [{"features": {"x": float(x[i]), "y": float(y[i]), "e": e[i].tolist()},
             "score": None, "prediction": float(x[i])} for i in range(n)]


def test_multivariate_drift_sees_a_correlation_and_an_embedding_shift() -> None:
    c = _mv_config()
    prof = build_profile(c, columns_from_events(c, _mv_rows(3000, 1, 0.0, 0.0)), version=1)
    assert prof.dims == {"e": 8}
    calm = compute_window_records(c, prof, 0, window(c, prof, _mv_rows(600, 2, 0.0, 0.0)),
                                  IngestionCounts())
    moved = compute_window_records(c, prof, 0, window(c, prof, _mv_rows(600, 3, 0.8, 1.5)),
                                   IngestionCounts())

    def verdicts(recs: list[MetricRecord], family: str) -> dict[str | None, str]:
        return {r.feature: r.status for r in recs if r.family == family}

    assert verdicts(calm, "multivariate_drift") == {None: "ok", "e": "ok"}
    assert verdicts(moved, "multivariate_drift") == {None: "alert", "e": "alert"}
    # Every marginal, and the embedding's norm, look unchanged to the univariate tests.
    assert verdicts(moved, "data_drift") == {"x": "ok", "y": "ok", "e": "ok", None: "ok"}
    mmd = next(r for r in moved if r.family == "multivariate_drift" and r.feature is None)
    assert (mmd.metric, mmd.n, mmd.threshold) == ("mmd", 400, 0.05)
    assert mmd.p_value is not None
    assert mmd.p_value < 0.05
