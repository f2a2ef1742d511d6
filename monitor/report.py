"""Evidently's HTML data-drift report of one window, for a person's deep dive.

Built only from bounded stored samples (:mod:`monitor.sampling`): the reference's row sample (at
most ``drift.reference_sample_size`` rows) and the window's (at most ``drift.sample_size``
events). Both are uniform samples, so for larger windows Evidently's numbers are estimates. Its
tests are its own, chosen per column by its defaults (K-S, chi-square or Z-test up to 1,000
reference rows; Wasserstein or Jensen-Shannon distance above), and may disagree with the metric
records, which Driftline's configured detectors compute over every event.

Columns, by name, in the configuration's order:

- numeric and categorical features as they are;
- embedding features as their L2 norm (the univariate view the drift metrics take too);
- the score (a multiclass score's largest probability) as ``score`` and the prediction as
  ``prediction`` (``__score`` and ``__prediction`` when a feature already has that name).

A column without a single value in either sample (or of a different kind in each) is left out
of Evidently's part and named in the header, with the reason. A ``<`` in a category value is
shown as U+2039, a look-alike: Evidently puts the values into inline scripts unescaped, and
event data must not become markup in a reader's browser.

Evidently and pandas are imported inside the functions: importing Evidently takes seconds.

>>> from monitor.config import parse_config
>>> from monitor.sampling import new_sample
>>> from detectors.sample import priorities_from_keys
>>> cfg = parse_config({"model_id": "m", "task": "binary_classification", "window": "1h",
...                     "features": [{"name": "x", "type": "numeric"},
...                                  {"name": "e", "type": "embedding"}]})
>>> s = new_sample(cfg, {"e": 2}, 10)
>>> s.update({"x": [1.0, None], "e": [[3.0, 4.0], [0.0, 1.0]], "__score": [0.9, 0.2],
...           "__prediction": ["1", "0"]}, priorities_from_keys(["a", "b"]))
>>> frames = report_frames(cfg, s, s)
>>> frames.current.to_dict("list")
{'x': [1.0, nan], 'e': [5.0, 1.0], 'score': [0.9, 0.2], 'prediction': ['1', '0']}
>>> frames.numerical, frames.categorical, frames.embeddings
(['x', 'e', 'score'], ['prediction'], ['e'])
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from detectors.sample import RowSample
from monitor.config import ModelConfig
from monitor.sampling import PREDICTION_COLUMN, SCORE_COLUMN

# Evidently embeds the values in inline scripts without escaping them; a category such as
# "</script><script>..." from an event would run in the reader's browser.
SAFE_LT = "\u2039"  # '<' in category values is shown as this look-alike
SCORE_NAME = "score"
PREDICTION_NAME = "prediction"
_VALUE_DRIFT = "evidently:metric_v2:ValueDrift"


class ReportError(ValueError):
    """A drift report that cannot be built from the stored samples."""


@dataclass(frozen=True)
class ReportFrames:
    """The two pandas frames Evidently compares, with each column's role."""

    reference: Any  # pandas.DataFrame
    current: Any  # pandas.DataFrame
    numerical: list[str]
    categorical: list[str]
    embeddings: list[str] = field(default_factory=list)  # numerical, as their L2 norm
    left_out: dict[str, str] = field(default_factory=dict)  # column -> why


def frame_names(config: ModelConfig) -> dict[str, str]:
    """Sample column -> report column, in the configuration's order."""
    features = [f.name for f in config.features]
    taken = set(features)
    score = SCORE_NAME if SCORE_NAME not in taken else SCORE_COLUMN
    prediction = PREDICTION_NAME if PREDICTION_NAME not in taken else PREDICTION_COLUMN
    return {**{n: n for n in features}, SCORE_COLUMN: score, PREDICTION_COLUMN: prediction}


def _values(sample: RowSample, column: str) -> np.ndarray:
    """A column as numbers (NaN when missing; embeddings as L2 norm) or as objects (None)."""
    data = sample.data[column]
    kind = sample.columns[column]
    if kind == "categorical":
        safe = np.empty(len(data), dtype=object)
        safe[:] = [v.replace("<", SAFE_LT) if isinstance(v, str) else v for v in data]
        return safe
    if kind == "embedding":
        data = np.linalg.norm(data.astype(np.float64), axis=1)
    finite: np.ndarray = np.where(np.isfinite(data), data, np.nan)
    return finite


def _present(values: np.ndarray) -> bool:
    if values.dtype == object:
        return any(v is not None for v in values)
    return bool(np.isfinite(values).any())


def report_frames(config: ModelConfig, reference: RowSample, current: RowSample) -> ReportFrames:
    """The reference and window samples as frames with the report's column names."""
    import pandas as pd

    ref_cols: dict[str, Any] = {}
    cur_cols: dict[str, Any] = {}
    numerical: list[str] = []
    categorical: list[str] = []
    embeddings: list[str] = []
    left_out: dict[str, str] = {}
    for column, name in frame_names(config).items():
        kind, ref_kind = current.columns.get(column), reference.columns.get(column)
        if kind is None or ref_kind is None:
            where = "the window sample" if kind is None else "the reference sample"
            left_out[name] = f"not in {where}"
            continue
        if kind != ref_kind:
            left_out[name] = f"{ref_kind} in the reference sample, {kind} in the window's"
            continue
        ref_values, cur_values = _values(reference, column), _values(current, column)
        empty = [label for label, v in (("reference", ref_values), ("window", cur_values))
                 if not _present(v)]
        if empty:
            left_out[name] = f"no value in the {' or '.join(empty)} sample"
            continue
        ref_cols[name], cur_cols[name] = ref_values, cur_values
        (categorical if kind == "categorical" else numerical).append(name)
        if kind == "embedding":
            embeddings.append(name)
    if not ref_cols:
        raise ReportError("no column has values in both the window sample and the reference "
                          f"sample ({'; '.join(f'{k}: {v}' for k, v in left_out.items())})")
    return ReportFrames(pd.DataFrame(ref_cols), pd.DataFrame(cur_cols), numerical, categorical,
                        embeddings, left_out)


def drift_snapshot(frames: ReportFrames) -> Any:
    """Run Evidently's ``DataDriftPreset`` (with its per-column tests) on the frames."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=frames.numerical,
                                categorical_columns=frames.categorical)
    current = Dataset.from_pandas(frames.current, data_definition=definition)
    reference = Dataset.from_pandas(frames.reference, data_definition=definition)
    with np.errstate(all="ignore"):  # constant or one-row columns divide by zero in places
        return Report([DataDriftPreset()], include_tests=True).run(current, reference)


def drifted_columns(snapshot: Any) -> list[str]:
    """The columns whose Evidently drift test failed (drift detected), in report order."""
    out = []
    for test in snapshot.dict()["tests"]:
        params = (test.get("metric_config") or {}).get("params") or {}
        status = getattr(test.get("status"), "value", test.get("status"))
        if params.get("type") == _VALUE_DRIFT and str(status).upper() == "FAIL":
            out.append(str(params["column"]))
    return out


def render_drift_report(config: ModelConfig, reference: RowSample, current: RowSample, *,
                        title: str, notes: Sequence[str] = ()) -> str:
    """A standalone HTML page: a header (``title``, ``notes``, the samples' sizes, the columns
    left out, Evidently's verdict) above Evidently's data-drift report. CPU-bound (about 2 s
    for 25 columns of 1,000 and 5,000 rows, see docs/api.md): run it off the event loop."""
    frames = report_frames(config, reference, current)
    snapshot = drift_snapshot(frames)
    drifted = drifted_columns(snapshot)
    tested = len(frames.numerical) + len(frames.categorical)
    lines = [
        *notes,
        f"Window sample: {len(current)} of {current.n_seen} rows (uniform, at most "
        f"{current.size}: drift.sample_size).",
        f"Reference sample: {len(reference)} of {reference.n_seen} rows (uniform, at most "
        f"{reference.size}: drift.reference_sample_size).",
        "Evidently finds drift in "
        + (f"{len(drifted)} of {tested} columns: {', '.join(drifted)}." if drifted
           else f"none of the {tested} columns."),
    ]
    if frames.embeddings:
        lines.append(f"Embeddings as their L2 norm: {', '.join(frames.embeddings)}.")
    lines += [f"Left out: {name} ({why})." for name, why in frames.left_out.items()]
    return _with_header(snapshot.get_html_str(as_iframe=False), title, lines)


def _with_header(page: str, title: str, lines: Sequence[str]) -> str:
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    header = ('<header id="driftline-report" style="font-family:sans-serif;padding:12px 24px;'
              'border-bottom:1px solid #ddd">'
              f'<h1 style="font-size:20px;margin:0 0 6px">{html.escape(title)}</h1>'
              f'<ul style="margin:0;padding-left:18px;font-size:14px">{items}</ul></header>')
    page = page.replace("<head>", f"<head><title>{html.escape(title)}</title>", 1)
    at = page.find("<body>")
    if at < 0:
        return header + page
    at += len("<body>")
    return page[:at] + header + page[at:]
