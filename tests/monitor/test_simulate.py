"""The traffic simulator: determinism, drift where and only where asked, contract-valid events."""

from __future__ import annotations

import hashlib
import math
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from monitor.config import parse_config
from monitor.events import EventLimits, decode_feedback, decode_prediction
from monitor.reference import columns_from_events
from monitor.simulate import (
    FEEDBACK,
    PLACEMENTS,
    PREDICTIONS,
    SimulationSpec,
    events,
    feedback_for,
    model_config,
    predictions,
    produce,
    produce_raw,
    reference_rows,
    write_files,
)
from monitor.timeutil import parse_timestamp

ROOT = Path(__file__).resolve().parents[2]
RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SMALL = SimulationSpec(seed=11, n_events=3000, n_numeric=8, n_categorical=3)


def column(rows: list[dict[str, Any]], name: str) -> np.ndarray:
    """A numeric feature as floats, NaN where missing."""
    return np.array([np.nan if r["features"][name] is None else r["features"][name]
                     for r in rows], dtype=float)


def standardised_shift(before: np.ndarray, after: np.ndarray) -> tuple[float, float]:
    """(mean difference in units of the before-sd, a 5-sigma tolerance for it)."""
    before, after = before[~np.isnan(before)], after[~np.isnan(after)]
    sd = before.std(ddof=1)
    diff = (after.mean() - before.mean()) / sd
    se = math.sqrt(before.var(ddof=1) / len(before) + after.var(ddof=1) / len(after)) / sd
    # the sd itself is estimated: its relative error is about sqrt((kurtosis - 1) / 4n)
    z = (before - before.mean()) / sd
    sd_rel_err = math.sqrt(max(float(np.mean(z**4)) - 1.0, 0.0) / (4 * len(before)))
    return float(diff), 5 * math.sqrt(se**2 + (diff * sd_rel_err) ** 2)


# -- determinism ---------------------------------------------------------------------------------


def digest(spec: SimulationSpec, out: Path) -> str:
    pred, fb = write_files(spec, out)
    return hashlib.sha256(pred.read_bytes() + b"|" + fb.read_bytes()).hexdigest()


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    spec = replace(SMALL, n_events=20_000, drift_at=10_000, category_drift=True)
    first = digest(spec, tmp_path / "a")
    assert digest(spec, tmp_path / "b") == first
    assert digest(replace(spec, seed=12), tmp_path / "c") != first


def test_same_bytes_in_another_process_with_another_hash_seed(tmp_path: Path) -> None:
    spec = replace(SMALL, drift_at=1000, category_drift=True, concept_drift=True)
    code = (
        "import hashlib, sys; from pathlib import Path; from monitor.simulate import *\n"
        "spec = SimulationSpec(seed=11, n_events=3000, n_numeric=8, n_categorical=3,"
        " drift_at=1000, category_drift=True, concept_drift=True)\n"
        "p, f = write_files(spec, Path(sys.argv[1]))\n"
        "print(hashlib.sha256(p.read_bytes() + b'|' + f.read_bytes()).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "sub")], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == digest(spec, tmp_path / "here")


def test_files_hold_the_same_events_in_the_same_order_as_the_stream(tmp_path: Path) -> None:
    spec = replace(SMALL, n_events=40_000, label_delay_ms=30_000.0)  # several chunks
    pred_path, fb_path = write_files(spec, tmp_path)
    stream = list(events(spec))
    assert pred_path.read_bytes() == b"".join(orjson.dumps(e) + b"\n"
                                              for k, e in stream if k == PREDICTIONS)
    assert fb_path.read_bytes() == b"".join(orjson.dumps(e) + b"\n"
                                            for k, e in stream if k == FEEDBACK)


def test_drift_changes_nothing_before_drift_at() -> None:
    base = replace(SMALL, n_events=20_000)
    drifted = replace(base, drift_at=12_345, drift_shift=2.0, category_drift=True,
                      concept_drift=True, drift_features=("num_00", "num_02", "cat_1"))
    a, b = list(predictions(base)), list(predictions(drifted))
    assert orjson.dumps(a[:12_345]) == orjson.dumps(b[:12_345])
    assert orjson.dumps(a[12_345:]) != orjson.dumps(b[12_345:])


# -- drift ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shift", [1.0, -0.5, 2.0])
def test_drift_shifts_the_named_features_by_shift_sds_after_drift_at_only(shift: float) -> None:
    spec = SimulationSpec(seed=5, n_events=30_000, drift_at=15_000, drift_shift=shift)
    rows = list(predictions(spec))
    assert spec.drifted_features == ("num_00", "num_01", "num_02")  # normal, log-normal, counts
    for name in spec.numeric_names:
        values = column(rows, name)
        before, after = values[:15_000], values[15_000:]
        diff, tol = standardised_shift(before, after)
        expected = shift if name in spec.drifted_features else 0.0
        assert abs(diff - expected) < tol, (name, diff, expected, tol)
        # and nothing moves before drift_at
        diff, tol = standardised_shift(before[:7_500], before[7_500:])
        assert abs(diff) < tol, (name, diff, tol)


def test_named_drift_features_and_their_types_survive_drift() -> None:
    spec = SimulationSpec(seed=6, n_events=20_000, drift_at=10_000, drift_shift=1.5,
                          drift_features=("num_03", "num_06"))
    rows = list(predictions(spec))
    for name, drifts in [("num_03", True), ("num_06", True), ("num_00", False)]:
        values = column(rows, name)
        diff, tol = standardised_shift(values[:10_000], values[10_000:])
        assert abs(diff - (1.5 if drifts else 0.0)) < tol, (name, diff, tol)
    # num_02 and num_06 are counts: they stay integers under drift
    assert all(isinstance(r["features"]["num_06"], int) for r in rows[10_000:])


def test_category_drift_reverses_the_mix_of_cat_0() -> None:
    spec = SimulationSpec(seed=7, n_events=20_000, drift_at=10_000, category_drift=True)
    rows = list(predictions(spec))
    top = [r["features"]["cat_0"] == "US" for r in rows]
    before, after = np.mean(top[:10_000]), np.mean(top[10_000:])
    assert before > 0.3
    assert after < 0.1
    assert np.mean([r["features"]["cat_0"] == "AU" for r in rows[10_000:]]) > 0.3
    # the numeric features do not drift unless named: category drift alone shifts cat_0 only
    only_cat = replace(spec, drift_features=())
    values = column(list(predictions(only_cat)), "num_00")
    diff, tol = standardised_shift(values[:10_000], values[10_000:])
    assert abs(diff) < tol


def auc(scores: list[float], labels: list[int]) -> float:
    """Area under the ROC curve (Mann-Whitney; scores here have practically no ties)."""
    ranks = np.asarray(scores).argsort().argsort() + 1
    pos = np.asarray(labels) == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


@pytest.mark.parametrize("n_numeric", [20, 8])
def test_concept_drift_hurts_the_model_but_leaves_predictions_alone(n_numeric: int) -> None:
    base = SimulationSpec(seed=8, n_events=20_000, feedback_share=1.0, n_numeric=n_numeric)
    concept = replace(base, drift_at=10_000, concept_drift=True, drift_features=())
    assert orjson.dumps(list(predictions(base))) == orjson.dumps(list(predictions(concept)))

    stream = list(events(concept))
    preds = [e for k, e in stream if k == PREDICTIONS]
    index = {e["prediction_id"]: i for i, e in enumerate(preds)}
    halves: list[tuple[list[float], list[int]]] = [([], []), ([], [])]
    for kind, e in stream:
        if kind == FEEDBACK:
            i = index[e["prediction_id"]]
            halves[i >= 10_000][0].append(preds[i]["score"])
            halves[i >= 10_000][1].append(e["label"])
    before, after = auc(*halves[0]), auc(*halves[1])
    assert before > 0.75
    assert after < before - 0.15


def test_drift_feature_names_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown features: nope"):
        SimulationSpec(drift_features=("num_00", "nope"))
    with pytest.raises(ValueError, match="feedback_share"):
        SimulationSpec(feedback_share=1.5)


# -- feedback ------------------------------------------------------------------------------------


@pytest.mark.parametrize("share", [0.8, 0.3])
def test_feedback_share_is_within_sampling_error(share: float) -> None:
    spec = SimulationSpec(seed=9, n_events=20_000, feedback_share=share, n_numeric=4,
                          n_categorical=2)
    n_feedback = sum(1 for kind, _ in events(spec) if kind == FEEDBACK)
    assert abs(n_feedback / spec.n_events - share) < 4 * math.sqrt(share * (1 - share) / 20_000)


def test_feedback_follows_its_prediction_and_the_stream_is_in_time_order() -> None:
    spec = replace(SMALL, n_events=20_000, label_delay_ms=60_000.0)
    seen: dict[str, int] = {}
    last = -1
    delays = []
    per_prediction: dict[str, int] = {}
    for kind, event in events(spec):
        ts = parse_timestamp(event["timestamp"])
        assert ts >= last
        last = ts
        if kind == PREDICTIONS:
            seen[event["prediction_id"]] = ts
        else:
            pid = event["prediction_id"]
            assert pid in seen  # emitted after its prediction
            assert ts >= seen[pid]
            delays.append(ts - seen[pid])
            per_prediction[pid] = per_prediction.get(pid, 0) + 1
    assert max(per_prediction.values()) == 1
    mean = float(np.mean(delays))
    assert abs(mean - 60_000) < 5 * 60_000 / math.sqrt(len(delays))


def test_labels_clicks_and_revenue_hang_together() -> None:
    spec = SimulationSpec(seed=10, n_events=20_000, feedback_share=1.0)
    stream = list(events(spec))
    score = {e["prediction_id"]: e["score"] for k, e in stream if k == PREDICTIONS}
    fb = [e for k, e in stream if k == FEEDBACK]
    labels = np.array([e["label"] for e in fb])
    scores = np.array([score[e["prediction_id"]] for e in fb])
    clicks = np.array([e["events"]["click"] for e in fb])
    conv = np.array([e["events"]["conversion"] for e in fb])
    revenue = np.array([e["events"]["revenue"] for e in fb])
    assert 0.1 < labels.mean() < 0.5
    assert scores[labels == 1].mean() > scores[labels == 0].mean() + 0.15  # CTR follows score
    assert clicks[labels == 1].mean() > 0.8
    assert clicks[labels == 0].mean() < 0.1
    assert not (conv & (1 - clicks)).any()
    assert (revenue[conv == 0] == 0).all()
    assert (revenue[conv == 1] > 0).all()


def test_feedback_for_a_single_prediction() -> None:
    event = next(predictions(SMALL))
    rng = np.random.default_rng(3)
    [fb] = feedback_for(event, replace(SMALL, feedback_share=1.0), rng)
    assert fb["prediction_id"] == event["prediction_id"]
    assert parse_timestamp(fb["timestamp"]) >= parse_timestamp(event["timestamp"])
    assert set(fb["events"]) == {"click", "conversion", "revenue"}
    assert feedback_for(event, replace(SMALL, feedback_share=0.0), rng) == []


# -- contract ------------------------------------------------------------------------------------


def test_every_event_is_valid_json_with_the_contract_fields() -> None:
    spec = replace(SMALL, n_events=5_000, drift_at=2_500, category_drift=True)
    stream = [(kind, orjson.dumps(event)) for kind, event in events(spec)]
    limits = EventLimits(now_ms=spec.start_ms + 86_400_000)
    names = set(spec.feature_names)
    placements = set()
    for kind, raw in stream:
        data = orjson.loads(raw)
        assert RFC3339_MS.match(data["timestamp"])
        assert data["model_id"] == spec.model_id
        if kind == PREDICTIONS:
            p = decode_prediction(raw, limits)
            assert set(p.features) == names
            assert all(v is None or isinstance(v, int | float | str) for v in p.features.values())
            assert p.prediction in (0, 1)
            assert isinstance(p.score, float)
            assert 0.0 < p.score < 1.0
            assert p.prediction == int(p.score > 0.5)
            placements.add(p.tags["placement"])
        else:
            f = decode_feedback(raw, limits)
            assert f.has_label
            assert f.label in (0, 1)
            assert set(f.events) == {"click", "conversion", "revenue"}
    assert placements == set(PLACEMENTS)


def test_missing_values_are_rare_and_only_where_expected() -> None:
    rows = list(predictions(replace(SMALL, n_events=20_000)))
    share = {n: np.mean([r["features"][n] is None for r in rows]) for n in SMALL.feature_names}
    assert 0.005 < share["num_04"] < 0.016
    assert 0.005 < share["cat_1"] < 0.016
    assert share["num_00"] == share["cat_0"] == 0.0


def test_model_config_is_valid_and_matches_the_features() -> None:
    doc = model_config(SMALL, window="15m")
    cfg = parse_config(doc)
    assert cfg.window_ms == 900_000
    assert cfg.task == "binary_classification"
    assert cfg.feature_names == SMALL.feature_names
    assert [f.type for f in cfg.features].count("categorical") == 3
    assert doc["slices"] == ["cat_0", "placement"]
    assert doc["kpis"] == [{"name": "ctr", "numerator": "click", "denominator": "predictions"}]
    assert model_config(SimulationSpec())["window"] == "1h"


def test_reference_rows_are_drift_free_and_from_another_stream() -> None:
    spec = replace(SMALL, n_events=10_000, drift_at=0, drift_shift=3.0, category_drift=True)
    ref = reference_rows(spec, 10_000)
    live = list(predictions(replace(spec, drift_at=None)))
    assert {r["prediction_id"] for r in ref}.isdisjoint(r["prediction_id"] for r in live)
    assert ref[0]["features"] != live[0]["features"]
    for name in spec.numeric_names:
        diff, tol = standardised_shift(column(live, name), column(ref, name))
        assert abs(diff) < tol, (name, diff, tol)
    ts = [parse_timestamp(r["timestamp"]) for r in ref]
    assert ts == sorted(ts)
    assert ts[-1] < spec.start_ms
    assert all(r["label"] in (0, 1) and "click" in r["events"] for r in ref)
    cols = columns_from_events(parse_config(model_config(spec)), ref)
    assert cols.n_rows == 10_000
    assert "label" not in reference_rows(spec, 3, with_outcomes=False)[0]
    assert orjson.dumps(reference_rows(spec, 100)) == orjson.dumps(reference_rows(spec, 100))


# -- Kafka ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from monitor.embedded_broker import EmbeddedBroker

    with EmbeddedBroker(tmp_path_factory.mktemp("broker")) as b:
        yield b


def consume(bootstrap: str, topic: str, expected: int) -> list[tuple[bytes | None, bytes]]:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                             auto_offset_reset="earliest", consumer_timeout_ms=5000)
    out = []
    try:
        for message in consumer:
            out.append((message.key, message.value))
            if len(out) >= expected:
                break
    finally:
        consumer.close()
    return out


@pytest.mark.kafka
def test_produce_sends_keyed_json_and_raw_poison(broker: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    preds, fbs = f"preds-{tag}", f"fb-{tag}"
    broker.create_topics([preds, fbs], partitions=2)
    spec = replace(SMALL, n_events=2_000, rate_per_s=1000.0, label_delay_ms=50.0)
    progress: list[dict[str, int]] = []
    counts = produce(spec, broker.bootstrap_servers, preds, fbs, pace=4.0,
                     on_progress=progress.append, progress_every=1000,
                     extra_messages=[(preds, b"not json")])
    expected_fb = sum(1 for kind, _ in events(spec) if kind == FEEDBACK)
    assert counts == {"predictions": 2_000, "feedback": expected_fb, "raw": 1}
    assert progress[-1] == counts
    assert len(progress) >= 3
    got = consume(broker.bootstrap_servers, preds, 2_001)
    assert len(got) == 2_001
    decoded = [(key, orjson.loads(value)) for key, value in got if value != b"not json"]
    assert all(key == event["prediction_id"].encode() for key, event in decoded)
    assert {event["prediction_id"] for _, event in decoded} == {
        e["prediction_id"] for e in predictions(spec)}
    assert len(consume(broker.bootstrap_servers, fbs, expected_fb)) == expected_fb
    assert produce_raw(broker.bootstrap_servers, fbs, [b"{}", b"\xff"], key=b"k") == 2
