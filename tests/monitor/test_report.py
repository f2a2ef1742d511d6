"""The drift report from two row samples: frames, Evidently's verdicts, the page's header."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from detectors.sample import RowSample, priorities_from_keys
from monitor.config import ModelConfig, parse_config
from monitor.report import (
    ReportError,
    drift_snapshot,
    drifted_columns,
    render_drift_report,
    report_frames,
)
from monitor.sampling import columns_for, new_sample

FEATURES = [{"name": "x", "type": "numeric"}, {"name": "y", "type": "numeric"},
            {"name": "c", "type": "categorical"}, {"name": "emb", "type": "embedding"}]
DIMS = {"emb": 4}


def _config(features: list[dict[str, str]] = FEATURES) -> ModelConfig:
    return parse_config({"model_id": "m", "task": "binary_classification", "window": "1h",
                         "features": features})


def _sample(cfg: ModelConfig, n: int, seed: int, *, x_shift: float = 0.0,
            emb_scale: float = 1.0, c_probs: tuple[float, ...] = (0.5, 0.3, 0.2),
            dims: dict[str, int] = DIMS, **columns: list[Any]) -> RowSample:
    """``n`` rows of a seeded stream offered to a sample as large as the stream."""
    rng = np.random.default_rng(seed)
    features: dict[str, list[Any]] = {
        "x": (rng.normal(0, 1, n) + x_shift).tolist(), "y": rng.normal(0, 1, n).tolist(),
        "c": rng.choice(["a", "b", "c"], n, p=list(c_probs)).tolist(),
        "emb": (rng.normal(0, 1, (n, 4)) * emb_scale).tolist()}
    features.update(columns)
    sample = new_sample(cfg, dims, n)
    scores = rng.random(n).tolist()
    predictions = rng.integers(0, 2, n).tolist()
    sample.update(columns_for(sample, features, scores, predictions),
                  priorities_from_keys([f"{seed}-{i}" for i in range(n)]))
    return sample


@pytest.fixture(scope="module")
def reference() -> RowSample:
    return _sample(_config(), 1000, seed=1)


@pytest.mark.parametrize(("change", "drifted"), [
    ({}, []),
    ({"x_shift": 3.0}, ["x"]),
    ({"x_shift": 3.0, "c_probs": (0.1, 0.2, 0.7)}, ["x", "c"]),
    ({"emb_scale": 2.0}, ["emb"]),
])
def test_evidently_finds_exactly_the_drifted_columns(reference: RowSample, change: dict[str, Any],
                                                     drifted: list[str]) -> None:
    cfg = _config()
    current = _sample(cfg, 500, seed=2, **change)
    snapshot = drift_snapshot(report_frames(cfg, reference, current))
    assert drifted_columns(snapshot) == drifted
    values = {m["config"]["column"]: m["value"] for m in snapshot.dict()["metrics"]
              if m["config"]["type"] == "evidently:metric_v2:ValueDrift"}
    assert list(values) == ["x", "y", "emb", "score", "c", "prediction"]
    assert {name for name, p_value in values.items() if p_value < 0.05} == set(drifted)


def test_page_has_the_header_and_evidentlys_table(reference: RowSample) -> None:
    cfg = _config()
    page = render_drift_report(cfg, reference, _sample(cfg, 300, seed=3, x_shift=3.0),
                               title="Drift of <m>", notes=["Window: open & growing."])
    assert page.count("<title>Drift of &lt;m&gt;</title>") == 1
    body = page[page.index("<body>"):]
    assert body.index('<header id="driftline-report"') < body.index("<script")
    for line in ("Window: open &amp; growing.", "Window sample: 300 of 300 rows",
                 "(uniform, at most 300: drift.sample_size)",
                 "Reference sample: 1000 of 1000 rows (uniform, at most 1000",
                 "Evidently finds drift in 1 of 6 columns: x.",
                 "Embeddings as their L2 norm: emb."):
        assert line in page, line
    for name in ("x", "y", "c", "emb", "score", "prediction"):
        assert f'"column_name": "{name}"' in page
    assert "Drift is detected for 16.667% of columns (1 out of 6)." in page


def test_category_values_cannot_become_markup(reference: RowSample) -> None:
    cfg = _config()
    attack = "</script><script>alert(1)</script>"
    current = _sample(cfg, 50, seed=4, c=[attack] * 50)
    assert set(report_frames(cfg, reference, current).current["c"]) == {
        attack.replace("<", "\u2039")}
    page = render_drift_report(cfg, reference, current, title="t")
    assert "alert(1)" in page
    assert "<script>alert(1)" not in page


def test_frames_name_and_leave_out_columns() -> None:
    cfg = _config([{"name": "score", "type": "numeric"}, {"name": "gone", "type": "numeric"},
                   {"name": "c", "type": "categorical"}, {"name": "emb", "type": "embedding"}])
    nothing = [None] * 20
    ref = _sample(cfg, 20, seed=1, score=[float("inf")] + [1.0] * 19, gone=[1.0] * 20)
    cur = _sample(cfg, 20, seed=2, dims={}, score=[2.0] * 20, gone=nothing)
    frames = report_frames(cfg, ref, cur)
    assert list(frames.current.columns) == ["score", "c", "__score", "prediction"]
    assert int(frames.reference["score"].isna().sum()) == 1  # the infinity
    assert frames.numerical == ["score", "__score"]
    assert frames.categorical == ["c", "prediction"]
    assert frames.embeddings == []
    assert frames.left_out == {"gone": "no value in the window sample",
                               "emb": "not in the window sample"}

    with pytest.raises(ReportError, match="no column has values in both"):
        report_frames(cfg, ref, new_sample(cfg, {}, 5))


def test_importing_the_service_does_not_import_evidently() -> None:
    code = "import sys, monitor.api.app; print('evidently' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
