"""Reference data: reading it (JSONL, CSV, Parquet) and freezing it into per-feature profiles.

Rows are shaped like prediction events (JSONL) or flattened (``feature.<name>`` or plain feature
names as columns). The profile of a model is versioned: windows remember the version they were
built on, so a new reference never mixes bins within one window.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from detectors.profile import CategoricalProfile, NumericProfile, Profile, profile_from_state
from detectors.sample import RowSample
from monitor.config import ModelConfig
from monitor.sampling import confidence, embedding_dims, reference_sample

SCORE = "score"
PREDICTION = "prediction"


class ReferenceError(ValueError):
    """Reference data that cannot be read or does not fit the model's features."""


@dataclass
class ReferenceColumns:
    """Reference data by column: feature values, scores and predictions (None where missing)."""

    features: dict[str, list[Any]]
    score: list[Any] = field(default_factory=list)
    prediction: list[Any] = field(default_factory=list)
    label: list[Any] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    tags: list[Any] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return max((len(v) for v in self.features.values()), default=0)


@dataclass
class ReferenceProfile:
    """Frozen profiles of one model's reference (version 0 means: no reference yet)."""

    version: int
    n_rows: int
    features: dict[str, Profile]
    score: Profile | None
    prediction: Profile | None
    dims: dict[str, int] = field(default_factory=dict)
    sample: RowSample | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def empty(cls, config: ModelConfig) -> ReferenceProfile:
        cols = ReferenceColumns({f.name: [] for f in config.features})
        profile = build_profile(config, cols, version=0)
        return profile

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "n_rows": self.n_rows,
            "features": {k: v.to_state() for k, v in self.features.items()},
            "score": self.score.to_state() if self.score else None,
            "prediction": self.prediction.to_state() if self.prediction else None,
            "dims": self.dims,
            "sample": self.sample.to_state() if self.sample is not None else None,
            "labels": self.labels,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReferenceProfile:
        return cls(
            version=int(data["version"]),
            n_rows=int(data["n_rows"]),
            features={k: profile_from_state(v) for k, v in data["features"].items()},
            score=profile_from_state(data["score"]) if data.get("score") else None,
            prediction=profile_from_state(data["prediction"]) if data.get("prediction") else None,
            dims={k: int(v) for k, v in (data.get("dims") or {}).items()},
            sample=RowSample.from_state(data["sample"]) if data.get("sample") else None,
            labels=data.get("labels") or {},
        )


def embedding_norm(value: Any) -> Any:
    """An embedding's univariate profile is its L2 norm; multivariate drift tests the vectors."""
    if isinstance(value, list):
        try:
            return math.sqrt(sum(float(x) * float(x) for x in value))
        except (TypeError, ValueError):
            return "<invalid>"
    return value


def build_profile(config: ModelConfig, cols: ReferenceColumns, version: int) -> ReferenceProfile:
    drift = config.drift

    def numeric() -> NumericProfile:
        return NumericProfile(drift.bins, drift.resolution)

    features: dict[str, Profile] = {}
    for spec in config.features:
        values = cols.features.get(spec.name, [])
        if spec.type == "categorical":
            features[spec.name] = CategoricalProfile(config.drift.max_categories).fit(values)
        elif spec.type == "embedding":
            features[spec.name] = numeric().fit(embedding_norm(v) for v in values)
        else:
            features[spec.name] = numeric().fit(values)
    scores = [confidence(s) for s in cols.score]
    score = numeric().fit(scores)
    if config.task == "regression":
        prediction: Profile = numeric().fit(cols.prediction)
    else:
        prediction = CategoricalProfile(config.drift.max_categories).fit(cols.prediction)
    dims = embedding_dims(config, cols.features)
    sample = reference_sample(config, cols.features, cols.score, cols.prediction, dims)
    from monitor.kpi_eval import reference_kpis
    from monitor.performance_eval import reference_label_baseline

    labels = reference_label_baseline(config, cols.score, cols.prediction, cols.label)
    kpis = reference_kpis(config, cols.events)
    if kpis:
        labels["kpis"] = kpis
    profile = ReferenceProfile(version, cols.n_rows, features, score, prediction, dims, sample,
                               labels)
    if config.slices:
        from monitor.slice_drift import reference_slice_predictions

        found = reference_slice_predictions(config, profile, cols)
        if found:
            labels["slice_predictions"] = found
    return profile


def columns_from_events(config: ModelConfig, rows: Iterable[dict[str, Any]]) -> ReferenceColumns:
    names = config.feature_names
    cols = ReferenceColumns({n: [] for n in names})
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ReferenceError(f"row {i + 1}: expected an object")
        feats = row.get("features")
        if not isinstance(feats, dict):
            feats = {n: row.get(n, row.get(f"feature.{n}")) for n in names}
        for n in names:
            cols.features[n].append(feats.get(n))
        cols.score.append(row.get("score"))
        cols.prediction.append(row.get("prediction"))
        cols.label.append(row.get("label"))
        cols.events.append(row.get("events"))
        cols.tags.append(row.get("tags"))
    if cols.n_rows == 0:
        raise ReferenceError("reference data has no rows")
    _check_coverage(config, cols)
    return cols


def _check_coverage(config: ModelConfig, cols: ReferenceColumns) -> None:
    absent = [n for n, v in cols.features.items() if all(x is None for x in v)]
    if len(absent) == len(cols.features):
        raise ReferenceError(
            "no configured feature has a value in the reference data "
            f"(expected {', '.join(config.feature_names[:10])})")


def read_reference(config: ModelConfig, data: bytes, fmt: str) -> ReferenceColumns:
    """Parse reference bytes in ``fmt`` (``jsonl``, ``json``, ``csv`` or ``parquet``)."""
    if fmt in ("jsonl", "json"):
        return columns_from_events(config, _json_rows(data, fmt))
    if fmt in ("csv", "parquet"):
        import pandas as pd

        try:
            frame = (pd.read_csv(io.BytesIO(data)) if fmt == "csv"
                     else pd.read_parquet(io.BytesIO(data)))
        except (ValueError, OSError, pd.errors.ParserError) as exc:
            raise ReferenceError(f"cannot read {fmt}: {exc}") from None
        return _columns_from_frame(config, frame)
    raise ReferenceError(f"unsupported reference format {fmt!r} (jsonl, json, csv, parquet)")


def _json_rows(data: bytes, fmt: str) -> list[Any]:
    try:
        if fmt == "json":
            parsed = orjson.loads(data)
            if not isinstance(parsed, list):
                raise ReferenceError("a JSON reference must be a list of rows")
            return parsed
        return [orjson.loads(line) for line in data.splitlines() if line.strip()]
    except orjson.JSONDecodeError as exc:
        raise ReferenceError(f"invalid JSON in reference data: {exc}") from None


def _columns_from_frame(config: ModelConfig, frame: Any) -> ReferenceColumns:
    cols = ReferenceColumns({})
    for spec in config.features:
        col = (f"feature.{spec.name}" if f"feature.{spec.name}" in frame.columns
               else spec.name if spec.name in frame.columns else None)
        if col is None:
            cols.features[spec.name] = [None] * len(frame)
            continue
        values = frame[col].astype(object).where(frame[col].notna(), None).tolist()
        if spec.type == "embedding":
            values = [orjson.loads(v) if isinstance(v, str) else v for v in values]
            values = [list(v) if hasattr(v, "tolist") else v for v in values]
        cols.features[spec.name] = values
    for name in (SCORE, PREDICTION, "label"):
        if name in frame.columns:
            vals = frame[name].astype(object).where(frame[name].notna(), None).tolist()
            setattr(cols, name, vals)
    tag_columns = [c for c in frame.columns if isinstance(c, str) and c.startswith("tag.")]
    if tag_columns:
        cols.tags = [{c[4:]: v for c in tag_columns if (v := row[c]) is not None}
                     for row in frame[tag_columns].astype(object)
                     .where(frame[tag_columns].notna(), None).to_dict("records")]
    if len(frame) == 0:
        raise ReferenceError("reference data has no rows")
    _check_coverage(config, cols)
    return cols


def format_from_name(name: str, content_type: str | None = None) -> str:
    lowered = name.lower()
    for ext, fmt in ((".jsonl", "jsonl"), (".ndjson", "jsonl"), (".json", "json"),
                     (".csv", "csv"), (".parquet", "parquet"), (".pq", "parquet")):
        if lowered.endswith(ext):
            return fmt
    ct = (content_type or "").split(";")[0].strip().lower()
    return {"application/x-ndjson": "jsonl", "application/jsonl": "jsonl",
            "application/json": "json", "text/csv": "csv",
            "application/vnd.apache.parquet": "parquet",
            "application/x-parquet": "parquet"}.get(ct, "jsonl")


def read_reference_file(config: ModelConfig, path: str | Path) -> ReferenceColumns:
    p = Path(path)
    return read_reference(config, p.read_bytes(), format_from_name(p.name))
