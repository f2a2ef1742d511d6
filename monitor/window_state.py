"""The mergeable state of one model's window, as built by one partition (or merged from all).

Feature values are taken column by column from a batch of predictions and pushed into the
detectors' histograms in one vectorised call per feature. A bounded row sample (bottom-k by event
id hash, see :mod:`monitor.sampling`) is kept beside the histograms, and the names of features
that events carry but the configuration does not (schema changes) are counted, at most
``MAX_UNEXPECTED`` names.
"""

from __future__ import annotations

from collections import Counter
from operator import itemgetter
from typing import Any

import numpy as np
import orjson

from detectors.histograms import CategoryCounts, NumericHistogram
from detectors.sample import RowSample, priorities_from_keys
from monitor.config import ModelConfig
from monitor.events import Prediction
from monitor.reference import ReferenceProfile, embedding_norm
from monitor.sampling import columns_for, confidence, new_sample

STATE_VERSION = 1
MAX_UNEXPECTED = 50
State = NumericHistogram | CategoryCounts


class WindowState:
    """Counts and per-feature histograms of one window; ``merge`` is associative."""

    def __init__(self, config: ModelConfig, profile: ReferenceProfile) -> None:
        self.config = config
        self.profile = profile
        self.n = 0
        self.duplicates = 0
        self.min_ts: int | None = None
        self.max_ts: int | None = None
        self.features: dict[str, State] = {
            name: p.new_state() for name, p in profile.features.items()}
        self.score: State | None = profile.score.new_state() if profile.score else None
        self.prediction: State | None = (
            profile.prediction.new_state() if profile.prediction else None)
        self.sample: RowSample = new_sample(config, profile.dims, config.drift.sample_size)
        self.unexpected: Counter[str] = Counter()
        self._names = frozenset(config.feature_names)

    def update(self, events: list[Prediction]) -> None:
        if not events:
            return
        self.n += len(events)
        times = [e.ts_ms for e in events]
        lo, hi = min(times), max(times)
        self.min_ts = lo if self.min_ts is None else min(self.min_ts, lo)
        self.max_ts = hi if self.max_ts is None else max(self.max_ts, hi)
        feats = [e.features for e in events]
        self._sample(events, feats)
        self._schema(feats)
        for spec in self.config.features:
            name = spec.name
            try:  # one C-level pass per column when every event has the feature
                column = list(map(itemgetter(name), feats))
            except KeyError:
                column = [f.get(name) for f in feats]
            if spec.type == "embedding":
                column = [embedding_norm(v) for v in column]
            self.features[name].update_raw(column)
        if self.score is not None:
            self.score.update_raw([confidence(s) if isinstance(s, dict) else s
                                   for s in [e.score for e in events]])
        if self.prediction is not None:
            self.prediction.update_raw([e.prediction for e in events])

    def _sample(self, events: list[Prediction], feats: list[dict[str, Any]]) -> None:
        pri = priorities_from_keys([e.event_id for e in events])
        sample = self.sample
        if len(sample) >= sample.size:
            picked = np.flatnonzero(pri < sample.priorities[-1])
            sample.n_seen += len(events) - len(picked)
        else:
            picked = np.arange(len(events))
        if len(picked) == 0:
            return
        rows = [int(i) for i in picked]
        features = {name: [feats[i].get(name) for i in rows] for name in sample.columns}
        cols = columns_for(sample, features, [events[i].score for i in rows],
                           [events[i].prediction for i in rows])
        sample.update(cols, pri[picked])

    def _schema(self, feats: list[dict[str, Any]]) -> None:
        names = self._names
        for f in feats:
            if f.keys() != names:
                extra = f.keys() - names
                for name in extra:
                    if name in self.unexpected or len(self.unexpected) < MAX_UNEXPECTED:
                        self.unexpected[name] += 1

    def merge(self, other: WindowState) -> WindowState:
        self.n += other.n
        self.duplicates += other.duplicates
        for attr in ("min_ts", "max_ts"):
            a, b = getattr(self, attr), getattr(other, attr)
            pick = min if attr == "min_ts" else max
            setattr(self, attr, b if a is None else a if b is None else pick(a, b))
        for name, state in self.features.items():
            state.merge(other.features[name])  # type: ignore[arg-type]
        if self.score is not None and other.score is not None:
            self.score.merge(other.score)  # type: ignore[arg-type]
        if self.prediction is not None and other.prediction is not None:
            self.prediction.merge(other.prediction)  # type: ignore[arg-type]
        self.sample.merge(other.sample)
        for name, count in other.unexpected.items():
            if name in self.unexpected or len(self.unexpected) < MAX_UNEXPECTED:
                self.unexpected[name] += count
        return self

    def to_json(self) -> bytes:
        return orjson.dumps({
            "state_version": STATE_VERSION,
            "reference_version": self.profile.version,
            "n": self.n, "duplicates": self.duplicates,
            "min_ts": self.min_ts, "max_ts": self.max_ts,
            "features": {k: v.to_state() for k, v in self.features.items()},
            "score": self.score.to_state() if self.score else None,
            "prediction": self.prediction.to_state() if self.prediction else None,
            "sample": self.sample.to_state(),
            "unexpected": dict(self.unexpected),
        })

    @classmethod
    def from_json(cls, raw: bytes | str, config: ModelConfig,
                  profile: ReferenceProfile) -> WindowState:
        data: dict[str, Any] = orjson.loads(raw)
        if data.get("state_version") != STATE_VERSION:
            raise ValueError(f"unknown window state version {data.get('state_version')!r}")
        if data["reference_version"] != profile.version:
            raise ValueError("window state was built on another reference version")
        state = cls(config, profile)
        state.n = int(data["n"])
        state.duplicates = int(data["duplicates"])
        state.min_ts, state.max_ts = data["min_ts"], data["max_ts"]
        for name, saved in data["features"].items():
            if name in state.features:
                state.features[name].load_state(saved)
        if state.score is not None and data.get("score"):
            state.score.load_state(data["score"])
        if state.prediction is not None and data.get("prediction"):
            state.prediction.load_state(data["prediction"])
        if data.get("sample"):
            state.sample = RowSample.from_state(data["sample"])
        state.unexpected = Counter(data.get("unexpected") or {})
        return state
