"""Synthetic prediction and feedback traffic for a click-through-rate ranker, with drift on request.

The simulated world is a binary classifier (``task: binary_classification``) over ``n_numeric``
numeric features (``num_00`` ...) and ``n_categorical`` categorical ones (``cat_0`` = country,
``cat_1`` = device, ...), plus a ``placement`` tag the model never sees:

* numeric features come in four shapes (normal, log-normal, Poisson counts, uniform); some have
  about 1% missing values (``null``), as does ``cat_1``; categorical values are drawn from a
  fixed vocabulary per feature with skewed (Zipf-like) frequencies;
* ``score`` is the sigmoid of a linear model of the standardised features, ``prediction`` is
  ``score > 0.5``; the true probability adds the placement's effect and unobserved noise, so the
  model is good but not perfect, and worse on some placements;
* feedback (for ``feedback_share`` of the predictions, after an exponential delay) carries
  ``label ~ Bernoulli(true probability)`` and business events: ``click`` (likely when the label is
  1), ``conversion`` (after a click) and ``revenue`` (after a conversion);
* from index ``drift_at`` on, the numeric ``drift_features`` move by ``drift_shift`` standard
  deviations (categorical ones reverse their mix), ``category_drift`` reverses the mix of
  ``cat_0``, and ``concept_drift`` flips the true effect of a few features the model relies on.

The world (feature distributions, weights) depends only on ``n_numeric`` and ``n_categorical``;
``seed`` drives the traffic. Same spec, same bytes; and the events before ``drift_at`` do not
depend on whether or how drift is injected. Timestamps are RFC 3339 with milliseconds and ``Z``.

>>> spec = SimulationSpec(seed=7, n_events=1000, n_numeric=4, n_categorical=2)
>>> first = next(predictions(spec))
>>> sorted(first)  # doctest: +NORMALIZE_WHITESPACE
['features', 'model_id', 'model_version', 'prediction', 'prediction_id', 'score', 'tags',
 'timestamp']
>>> first["timestamp"], sorted(first["features"])
('2026-11-21T00:00:00.000Z', ['cat_0', 'cat_1', 'num_00', 'num_01', 'num_02', 'num_03'])
>>> kinds = [kind for kind, _ in events(spec)]
>>> kinds.count("predictions"), 740 < kinds.count("feedback") < 860
(1000, True)
>>> model_config(spec)["slices"], model_config(spec, window="15m")["window"]
(['cat_0', 'placement'], '15m')
"""

from __future__ import annotations

import heapq
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import orjson

from monitor.timeutil import parse_timestamp

__all__ = [
    "DEFAULT_START_MS",
    "FEEDBACK",
    "PLACEMENTS",
    "PREDICTIONS",
    "PRODUCER_DEFAULTS",
    "KafkaSink",
    "ProduceError",
    "SimulationSpec",
    "events",
    "feature_names",
    "feedback_for",
    "format_timestamp",
    "model_config",
    "predictions",
    "produce",
    "produce_raw",
    "reference_rows",
    "with_drift",
    "write_files",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

#: Event time of the first prediction unless a spec says otherwise: 2026-11-21T00:00:00Z.
DEFAULT_START_MS: Final = 1_795_219_200_000
#: The two kinds :func:`events` yields (and the keys of :func:`produce`'s counts).
PREDICTIONS: Final = "predictions"
FEEDBACK: Final = "feedback"
#: Values of the ``placement`` tag, their frequencies and their effect on the true log-odds.
PLACEMENTS: Final = ("home", "search", "article", "video")
_PLACEMENT_P: Final = (0.45, 0.30, 0.15, 0.10)
_PLACEMENT_EFFECT: Final = (0.0, 0.6, -0.4, 0.2)

_CHUNK: Final = 16_384
_INTERCEPT: Final = -1.5
_NOISE_SD: Final = 0.7  # unobserved part of the true log-odds
_LOGIT_SD: Final = 1.6  # spread of the numeric part of the model's log-odds
_MISSING_P: Final = 0.01
_REVENUE_SIGMA: Final = 0.6
_WORLD_SEED: Final = 20261121
_STREAM_LIVE: Final = 1
_STREAM_REFERENCE: Final = 2
_VOCABULARIES: Final = (
    ("US", "KR", "DE", "JP", "GB", "FR", "BR", "IN", "CA", "AU"),
    ("mobile", "desktop", "tablet", "tv"),
    ("android", "ios", "windows", "macos", "linux"),
    ("chrome", "safari", "samsung", "edge", "firefox", "opera"),
    ("organic", "paid", "social", "email", "referral", "direct"),
)
_NORMAL, _LOGNORMAL, _COUNT, _UNIFORM = range(4)


@dataclass(frozen=True)
class SimulationSpec:
    """What to simulate. Frozen; derive variants with :func:`dataclasses.replace`.

    ``n_events`` counts predictions; feedback comes on top. ``start_ms`` is a fixed date by
    default so that output is reproducible; pass the current time (``monitor.timeutil.now_ms()``)
    when the traffic goes to a live service, which refuses events far from its clock.

    Fields: ``rate_per_s`` is predictions per second of event time (a Poisson process);
    ``drift_at`` the index of the first drifted prediction (``None``: no drift of any kind);
    ``drift_features`` the drifting features (default: the first three numeric ones; a
    categorical name reverses that feature's mix); ``drift_shift`` the numeric mean shift in
    standard deviations of the feature; ``category_drift`` adds ``cat_0`` to the drifting
    features; ``concept_drift`` flips the true effect of half the numeric features (from
    ``num_03``) while the model's scores stay as they were; ``feedback_share`` the fraction of
    predictions that get feedback, ``label_delay_ms`` its mean (exponential) delay; the
    ``click_given_*``, ``conversion_rate`` and ``mean_revenue`` fields shape the business events.
    """

    model_id: str = "ctr-ranker"
    model_version: str | None = "2026-11-01"
    n_numeric: int = 20
    n_categorical: int = 5
    seed: int = 0
    start_ms: int = DEFAULT_START_MS
    rate_per_s: float = 10.0
    n_events: int = 10_000
    drift_at: int | None = None
    drift_features: tuple[str, ...] | None = None
    drift_shift: float = 1.0
    category_drift: bool = False
    concept_drift: bool = False
    feedback_share: float = 0.8
    label_delay_ms: float = 120_000.0
    click_given_label: float = 0.9
    click_given_no_label: float = 0.03
    conversion_rate: float = 0.15
    mean_revenue: float = 25.0

    def __post_init__(self) -> None:
        if self.drift_features is not None and not isinstance(self.drift_features, tuple):
            object.__setattr__(self, "drift_features", tuple(self.drift_features))
        checks = [
            (self.n_numeric >= 1, "n_numeric must be at least 1"),
            (self.n_categorical >= 0, "n_categorical must not be negative"),
            (self.n_events >= 0, "n_events must not be negative"),
            (self.rate_per_s > 0, "rate_per_s must be positive"),
            (self.label_delay_ms >= 0, "label_delay_ms must not be negative"),
            (self.drift_at is None or self.drift_at >= 0, "drift_at must not be negative"),
            (math.isfinite(self.drift_shift), "drift_shift must be finite"),
            (not self.category_drift or self.n_categorical > 0,
             "category_drift needs at least one categorical feature"),
            (self.mean_revenue > 0, "mean_revenue must be positive"),
        ]
        for share in ("feedback_share", "click_given_label", "click_given_no_label",
                      "conversion_rate"):
            checks.append((0.0 <= getattr(self, share) <= 1.0, f"{share} must be in [0, 1]"))
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        unknown = sorted(set(self.drifted_features) - set(self.feature_names))
        if unknown:
            raise ValueError(f"drift_features names unknown features: {', '.join(unknown)}")

    @property
    def numeric_names(self) -> list[str]:
        width = max(2, len(str(self.n_numeric - 1)))
        return [f"num_{i:0{width}d}" for i in range(self.n_numeric)]

    @property
    def categorical_names(self) -> list[str]:
        return [f"cat_{i}" for i in range(self.n_categorical)]

    @property
    def feature_names(self) -> list[str]:
        return self.numeric_names + self.categorical_names

    @property
    def drifted_features(self) -> tuple[str, ...]:
        """The features that drift from ``drift_at`` on (``cat_0`` included by category_drift)."""
        names = (tuple(self.numeric_names[:3]) if self.drift_features is None
                 else self.drift_features)
        if self.category_drift and "cat_0" not in names:
            names = (*names, "cat_0")
        return names

    @property
    def duration_ms(self) -> float:
        """Expected event-time span of the predictions."""
        return self.n_events * 1000.0 / self.rate_per_s


def feature_names(spec: SimulationSpec) -> list[str]:
    """All feature names of ``spec``: numeric first, then categorical."""
    return spec.feature_names


def format_timestamp(ms: int) -> str:
    """RFC 3339 in UTC, always with milliseconds.

    >>> format_timestamp(DEFAULT_START_MS + 1234)
    '2026-11-21T00:00:01.234Z'
    """
    return _format_many(np.array([ms], dtype=np.int64))[0]


def _format_many(ms: I64) -> list[str]:
    text = np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms", timezone="UTC")
    out: list[str] = text.tolist()
    return out


# -- the world ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _World:
    kinds: tuple[int, ...]
    p1: F64  # normal mu, log-normal mu, Poisson lambda, uniform low
    p2: F64  # normal sigma, log-normal sigma, -, uniform width
    mean: F64
    sd: F64
    weights: F64
    numeric_missing: F64
    concept: Bools
    vocabularies: tuple[tuple[str, ...], ...]
    cat_p: tuple[F64, ...]
    cat_effects: tuple[F64, ...]
    cat_missing: tuple[float, ...]


@lru_cache(maxsize=16)
def _world(n_numeric: int, n_categorical: int) -> _World:
    rng = np.random.default_rng(_WORLD_SEED)
    kinds = tuple(i % 4 for i in range(n_numeric))
    p1 = np.zeros(n_numeric)
    p2 = np.zeros(n_numeric)
    mean = np.zeros(n_numeric)
    sd = np.zeros(n_numeric)
    for i, kind in enumerate(kinds):
        a, b = rng.random(2)
        if kind == _NORMAL:
            p1[i], p2[i] = round(-2 + 7 * a, 2), round(0.5 + 2.5 * b, 2)
            mean[i], sd[i] = p1[i], p2[i]
        elif kind == _LOGNORMAL:
            p1[i], p2[i] = round(2 * a, 2), round(0.3 + 0.5 * b, 2)
            mean[i] = math.exp(p1[i] + p2[i] ** 2 / 2)
            sd[i] = mean[i] * math.sqrt(math.expm1(p2[i] ** 2))
        elif kind == _COUNT:
            p1[i] = round(1 + 7 * a, 1)
            mean[i], sd[i] = p1[i], math.sqrt(p1[i])
        else:
            p1[i], p2[i] = round(10 * a, 1), round(1 + 19 * b, 1)
            mean[i], sd[i] = p1[i] + p2[i] / 2, p2[i] / math.sqrt(12)
    weights = rng.standard_normal(n_numeric) * _LOGIT_SD / math.sqrt(n_numeric)
    numeric_missing = np.array([_MISSING_P if i % 5 == 4 else 0.0 for i in range(n_numeric)])
    concept = np.zeros(n_numeric, dtype=np.bool_)
    concept[3:3 + max(n_numeric // 2, 1)] = True
    if not concept.any():
        concept[:] = True
    vocabularies = tuple(
        _VOCABULARIES[j] if j < len(_VOCABULARIES) else tuple(f"v{k}" for k in range(8))
        for j in range(n_categorical))
    cat_p = []
    cat_effects = []
    for vocab in vocabularies:
        zipf = 1.0 / np.arange(1, len(vocab) + 1) ** 1.2
        cat_p.append(zipf / zipf.sum())
        cat_effects.append(np.round(rng.normal(0.0, 0.3, len(vocab)), 3))
    cat_missing = tuple(_MISSING_P if j == 1 else 0.0 for j in range(n_categorical))
    return _World(kinds, p1, p2, mean, sd, weights, numeric_missing, concept, vocabularies,
                  tuple(cat_p), tuple(cat_effects), cat_missing)


def _sigmoid(x: F64) -> F64:
    out: F64 = 1.0 / (1.0 + np.exp(-x))
    return out


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


# -- generation ---------------------------------------------------------------------------------


@dataclass
class _Chunk:
    index: I64
    ts: I64
    predictions: list[dict[str, Any]]
    label: list[int]
    events: list[dict[str, Any]]
    feedback_ts: list[int]
    feedback_time: list[str]
    has_feedback: list[bool]


def _generate(spec: SimulationSpec, stream: int, n_rows: int, *, drift: bool,
              id_prefix: str, reference: bool = False) -> Iterator[_Chunk]:
    """Rows in chunks; every chunk has its own random streams, so drift changes no other row."""
    world = _world(spec.n_numeric, spec.n_categorical)
    drifted = frozenset(spec.drifted_features if drift and spec.drift_at is not None else ())
    drift_at = spec.drift_at if drift and spec.drift_at is not None else n_rows
    mean_gap = 1000.0 / spec.rate_per_s
    carry = 0.0
    for c, lo in enumerate(range(0, n_rows, _CHUNK)):
        index = np.arange(lo, min(lo + _CHUNK, n_rows), dtype=np.int64)
        n = len(index)
        rng = _rng(spec.seed, stream, c)
        after: Bools = index >= drift_at

        gaps = rng.exponential(mean_gap, n)
        if reference:  # evenly spread over the span just before start_ms
            ts = (spec.start_ms - np.ceil((n_rows - index) * mean_gap)).astype(np.int64)
        else:
            if lo == 0:
                gaps[0] = 0.0
            cum = carry + np.cumsum(gaps)
            carry = float(cum[-1])
            ts = spec.start_ms + np.floor(cum).astype(np.int64)

        columns, standardised = _numeric(spec, world, rng, key=(stream, c), after=after,
                                        drifted=drifted)
        logit = _INTERCEPT + standardised @ world.weights
        logit += _categorical(spec, world, rng, after=after, drifted=drifted,
                              columns=columns)
        placement = np.minimum(np.searchsorted(np.cumsum(_PLACEMENT_P), rng.random(n),
                                               side="right"), len(PLACEMENTS) - 1)
        score = _sigmoid(logit)
        true_logit = (logit + np.asarray(_PLACEMENT_EFFECT)[placement]
                      + _NOISE_SD * rng.standard_normal(n))
        if drift and spec.concept_drift:
            flip = standardised[:, world.concept] @ world.weights[world.concept]
            true_logit[after] -= 2.0 * flip[after]
        label = rng.random(n) < _sigmoid(true_logit)
        has_feedback = rng.random(n) < spec.feedback_share
        delay = np.floor(rng.exponential(spec.label_delay_ms, n)).astype(np.int64)
        outcomes = _outcomes(spec, rng, label)

        names = spec.feature_names
        preds = [
            {"model_id": spec.model_id, "model_version": spec.model_version,
             "prediction_id": f"{id_prefix}{i:08d}", "timestamp": t,
             "features": dict(zip(names, vals, strict=True)), "prediction": p, "score": s,
             "tags": {"placement": pl}}
            for i, t, vals, p, s, pl in zip(
                index.tolist(), _format_many(ts), zip(*columns, strict=True),
                (score > 0.5).astype(np.int64).tolist(), np.round(score, 6).tolist(),
                np.array(PLACEMENTS, dtype=object)[placement].tolist(), strict=True)
        ]
        if spec.model_version is None:
            for pred in preds:
                del pred["model_version"]
        fb_ts = ts + delay
        yield _Chunk(index, ts, preds, label.astype(np.int64).tolist(), outcomes,
                     fb_ts.tolist(), _format_many(fb_ts), has_feedback.tolist())


def _numeric(spec: SimulationSpec, world: _World, rng: np.random.Generator, *,
             key: tuple[int, int], after: Bools, drifted: frozenset[str]
             ) -> tuple[list[list[Any]], F64]:
    """Numeric feature columns (JSON-ready, None where missing) and their standardised values."""
    n = len(after)
    normal = rng.standard_normal((n, spec.n_numeric))
    uniform = rng.random((n, spec.n_numeric))
    missing_u = rng.random((n, spec.n_numeric))
    columns: list[list[Any]] = []
    standardised = np.zeros((n, spec.n_numeric))
    for j, (name, kind) in enumerate(zip(spec.numeric_names, world.kinds, strict=True)):
        shift = spec.drift_shift * world.sd[j] if name in drifted else 0.0
        if kind == _COUNT:  # own stream: the Poisson sampler's draws depend on lambda
            lam = np.full(n, world.p1[j])
            lam[after] = max(world.p1[j] + shift, 1e-3)
            x = _rng(spec.seed, *key, 1, j).poisson(lam).astype(np.float64)
        else:
            if kind == _NORMAL:
                x = world.p1[j] + world.p2[j] * normal[:, j]
            elif kind == _LOGNORMAL:
                x = np.exp(world.p1[j] + world.p2[j] * normal[:, j])
            else:
                x = world.p1[j] + world.p2[j] * uniform[:, j]
            x[after] += shift
            x = np.round(x, 4)
        miss = missing_u[:, j] < world.numeric_missing[j]
        z = (x - world.mean[j]) / world.sd[j]
        z[miss] = 0.0
        standardised[:, j] = z
        values: list[Any] = (x.astype(np.int64) if kind == _COUNT else x).tolist()
        if world.numeric_missing[j] > 0:
            values = [None if m else v for v, m in zip(values, miss.tolist(), strict=True)]
        columns.append(values)
    return columns, standardised


def _categorical(spec: SimulationSpec, world: _World, rng: np.random.Generator, *,
                 after: Bools, drifted: frozenset[str], columns: list[list[Any]]) -> F64:
    """Append the categorical columns to ``columns``; return their part of the log-odds."""
    n = len(after)
    width = max(spec.n_categorical, 1)
    cat_u = rng.random((n, width))
    missing_u = rng.random((n, width))
    logit = np.zeros(n)
    for j, name in enumerate(spec.categorical_names):
        p = world.cat_p[j]
        codes = np.searchsorted(np.cumsum(p), cat_u[:, j], side="right")
        if name in drifted:  # the mix reverses: rare values become common
            codes[after] = np.searchsorted(np.cumsum(p[::-1]), cat_u[after, j], side="right")
        codes = np.minimum(codes, len(p) - 1)
        miss = missing_u[:, j] < world.cat_missing[j]
        logit += np.where(miss, 0.0, world.cat_effects[j][codes])
        values: list[Any] = np.array(world.vocabularies[j], dtype=object)[codes].tolist()
        if world.cat_missing[j] > 0:
            values = [None if m else v for v, m in zip(values, miss.tolist(), strict=True)]
        columns.append(values)
    return logit


def _outcomes(spec: SimulationSpec, rng: np.random.Generator, label: Bools
              ) -> list[dict[str, Any]]:
    """Business events: clicks follow the label, conversions clicks, revenue conversions."""
    n = len(label)
    click = rng.random(n) < np.where(label, spec.click_given_label, spec.click_given_no_label)
    conversion = click & (rng.random(n) < spec.conversion_rate)
    revenue = np.where(conversion, np.round(rng.lognormal(
        math.log(spec.mean_revenue) - _REVENUE_SIGMA ** 2 / 2, _REVENUE_SIGMA, n), 2), 0.0)
    return [
        {"click": k, "conversion": v, "revenue": r}
        for k, v, r in zip(click.astype(np.int64).tolist(),
                           conversion.astype(np.int64).tolist(), revenue.tolist(), strict=True)
    ]


def _live(spec: SimulationSpec) -> Iterator[_Chunk]:
    return _generate(spec, _STREAM_LIVE, spec.n_events, drift=True, id_prefix=f"p-{spec.seed}-")


_Due = tuple[int, int, dict[str, Any]]  # (feedback time, prediction index, event)


def _feedback_items(spec: SimulationSpec, chunk: _Chunk) -> list[_Due]:
    """The chunk's feedback events with their times, in prediction order."""
    model_id = spec.model_id
    return [(fb_ts, i, {"model_id": model_id, "prediction_id": pred["prediction_id"],
                        "timestamp": fb_time, "label": label, "events": outcome})
            for i, pred, fb_ts, fb_time, label, outcome, has in zip(
                chunk.index.tolist(), chunk.predictions, chunk.feedback_ts, chunk.feedback_time,
                chunk.label, chunk.events, chunk.has_feedback, strict=True) if has]


def predictions(spec: SimulationSpec) -> Iterator[dict[str, Any]]:
    """The prediction events of ``spec``, in event-time order."""
    for chunk in _live(spec):
        yield from chunk.predictions


def events(spec: SimulationSpec) -> Iterator[tuple[str, dict[str, Any]]]:
    """``("predictions", event)`` and ``("feedback", event)`` pairs in event-time order.

    A feedback event is due at its prediction's time plus its delay; it is emitted just before
    the first prediction that is later than it (ties: feedback first), the rest at the end.
    """
    due: list[_Due] = []
    for chunk in _live(spec):
        items = _feedback_items(spec, chunk)
        k = 0
        for i, ts, pred in zip(chunk.index.tolist(), chunk.ts.tolist(), chunk.predictions,
                               strict=True):
            while due and due[0][0] <= ts:
                yield FEEDBACK, heapq.heappop(due)[2]
            yield PREDICTIONS, pred
            if k < len(items) and items[k][1] == i:
                heapq.heappush(due, items[k])
                k += 1
    while due:
        yield FEEDBACK, heapq.heappop(due)[2]


def feedback_for(prediction_event: Mapping[str, Any], spec: SimulationSpec,
                 rng: np.random.Generator) -> list[dict[str, Any]]:
    """Feedback for one (possibly hand-made) prediction event: none or one event.

    Draws from ``rng`` with the same model as :func:`events` (without concept drift): the label
    from the features and the placement tag, the delay, the clicks, conversion and revenue.

    >>> event = next(predictions(SimulationSpec(n_events=1)))
    >>> fb = feedback_for(event, SimulationSpec(feedback_share=1.0), np.random.default_rng(1))
    >>> sorted(fb[0]), fb[0]["timestamp"] >= event["timestamp"]
    (['events', 'label', 'model_id', 'prediction_id', 'timestamp'], True)
    """
    world = _world(spec.n_numeric, spec.n_categorical)
    features = prediction_event.get("features") or {}
    logit = _INTERCEPT
    for j, name in enumerate(spec.numeric_names):
        value = features.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            logit += float(world.weights[j]) * (value - float(world.mean[j])) / float(world.sd[j])
    for j, name in enumerate(spec.categorical_names):
        vocab = world.vocabularies[j]
        value = features.get(name)
        if value in vocab:
            logit += float(world.cat_effects[j][vocab.index(value)])
    placement = (prediction_event.get("tags") or {}).get("placement")
    if placement in PLACEMENTS:
        logit += _PLACEMENT_EFFECT[PLACEMENTS.index(placement)]
    logit += _NOISE_SD * float(rng.standard_normal())
    label = int(rng.random() < 1.0 / (1.0 + math.exp(-logit)))
    if rng.random() >= spec.feedback_share:
        return []
    delay = math.floor(rng.exponential(spec.label_delay_ms))
    click = int(rng.random() < (spec.click_given_label if label else spec.click_given_no_label))
    conversion = int(bool(click) and rng.random() < spec.conversion_rate)
    revenue = round(float(rng.lognormal(
        math.log(spec.mean_revenue) - _REVENUE_SIGMA ** 2 / 2, _REVENUE_SIGMA)), 2) \
        if conversion else 0.0
    ts = parse_timestamp(prediction_event["timestamp"]) + delay
    return [{"model_id": prediction_event.get("model_id", spec.model_id),
             "prediction_id": prediction_event["prediction_id"],
             "timestamp": format_timestamp(ts), "label": label,
             "events": {"click": click, "conversion": conversion, "revenue": revenue}}]


def reference_rows(spec: SimulationSpec, n: int, *, with_outcomes: bool = True
                   ) -> list[dict[str, Any]]:
    """``n`` drift-free rows shaped like prediction events, for ``driftline reference set``.

    They come from a random stream of their own (not the live traffic's), are spread evenly over
    the time just before ``spec.start_ms``, and carry ``label`` and ``events`` (the performance
    and KPI baselines) unless ``with_outcomes`` is false.

    >>> rows = reference_rows(SimulationSpec(n_numeric=3, n_categorical=1), 2)
    >>> [sorted(r["features"]) for r in rows][0], rows[0]["prediction_id"], "label" in rows[0]
    (['cat_0', 'num_00', 'num_01', 'num_02'], 'r-0-00000000', True)
    """
    rows: list[dict[str, Any]] = []
    for chunk in _generate(spec, _STREAM_REFERENCE, n, drift=False, id_prefix=f"r-{spec.seed}-",
                           reference=True):
        if with_outcomes:
            for row, label, ev in zip(chunk.predictions, chunk.label, chunk.events, strict=True):
                row["label"] = label
                row["events"] = ev
        rows.extend(chunk.predictions)
    return rows


def model_config(spec: SimulationSpec, window: str = "1h") -> dict[str, Any]:
    """The model configuration document (CONTRACT section 2) that fits ``spec``'s traffic."""
    slices = ["cat_0", "placement"] if spec.n_categorical else ["placement"]
    return {
        "model_id": spec.model_id,
        "task": "binary_classification",
        "window": window,
        "features": [{"name": name, "type": "numeric"} for name in spec.numeric_names]
        + [{"name": name, "type": "categorical"} for name in spec.categorical_names],
        "slices": slices,
        "kpis": [{"name": "ctr", "numerator": "click", "denominator": "predictions"}],
    }


def write_files(spec: SimulationSpec, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``predictions.jsonl`` and ``feedback.jsonl`` (each in event-time order) to ``out_dir``.

    Returns both paths. One JSON object per line, UTF-8.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pred_path, fb_path = out / "predictions.jsonl", out / "feedback.jsonl"
    dumps, option = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    due: list[_Due] = []
    with pred_path.open("wb") as pred_file, fb_path.open("wb") as fb_file:
        # Same order as events(): feedback is due by (time, prediction index), and none of a
        # later chunk can be due before the last prediction of this one.
        for chunk in _live(spec):
            pred_file.write(b"".join([dumps(p, option=option) for p in chunk.predictions]))
            for item in _feedback_items(spec, chunk):
                heapq.heappush(due, item)
            last = int(chunk.ts[-1])
            ready = []
            while due and due[0][0] <= last:
                ready.append(dumps(heapq.heappop(due)[2], option=option))
            fb_file.write(b"".join(ready))
        fb_file.write(b"".join([dumps(item[2], option=option)
                                for item in sorted(due, key=lambda d: d[:2])]))
    return pred_path, fb_path


# -- Kafka --------------------------------------------------------------------------------------

#: KafkaProducer settings tuned for throughput; any of them can be overridden.
PRODUCER_DEFAULTS: Final[dict[str, Any]] = {
    "linger_ms": 20,
    "batch_size": 262_144,
    "acks": 1,
    "enable_idempotence": False,  # idempotence needs acks="all"
    "compression_type": None,
}


class ProduceError(RuntimeError):
    """Messages were not delivered: ``failed`` counts them, ``first`` is the first error."""

    def __init__(self, failed: int, first: BaseException | None) -> None:
        self.failed = failed
        self.first = first
        super().__init__(f"{failed} message(s) were not delivered: {first!r}")


class KafkaSink:
    """A kafka-python producer for simulated traffic: key = prediction id, value = JSON.

    Counts what it sends (``counts``) and what failed; :meth:`flush` raises
    :class:`ProduceError` when a message could not be delivered.
    """

    def __init__(self, bootstrap_servers: str | list[str],
                 predictions_topic: str = "driftline.predictions",
                 feedback_topic: str = "driftline.feedback", **producer_config: Any) -> None:
        from kafka import KafkaProducer

        self.topics = {PREDICTIONS: predictions_topic, FEEDBACK: feedback_topic}
        self.counts: dict[str, int] = {PREDICTIONS: 0, FEEDBACK: 0, "raw": 0}
        self.failed = 0
        self.first_error: BaseException | None = None
        config = {**PRODUCER_DEFAULTS, **producer_config}
        self._producer = KafkaProducer(bootstrap_servers=bootstrap_servers, **config)

    def _errback(self, exc: BaseException) -> None:
        self.failed += 1
        if self.first_error is None:
            self.first_error = exc

    def send(self, kind: str, event: Mapping[str, Any]) -> None:
        """Send a ``"predictions"`` or ``"feedback"`` event to its topic."""
        key = event.get("prediction_id")
        future = self._producer.send(self.topics[kind], value=orjson.dumps(event),
                                     key=key.encode() if isinstance(key, str) else None)
        future.add_errback(self._errback)
        self.counts[kind] += 1

    def send_raw(self, topic: str, value: bytes | None, key: bytes | None = None) -> None:
        """Send bytes as they are (e.g. poison messages for tests)."""
        future = self._producer.send(topic, value=value, key=key)
        future.add_errback(self._errback)
        self.counts["raw"] += 1

    def flush(self, timeout_s: float | None = None) -> None:
        """Wait until everything sent so far is delivered; raise if anything failed."""
        self._producer.flush(timeout=timeout_s)
        if self.failed:
            raise ProduceError(self.failed, self.first_error)

    def close(self, timeout_s: float | None = None) -> None:
        self._producer.close(timeout=timeout_s)

    def __enter__(self) -> KafkaSink:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def produce(spec: SimulationSpec, bootstrap_servers: str | list[str],
            predictions_topic: str = "driftline.predictions",
            feedback_topic: str = "driftline.feedback", *, pace: float | None = None,
            on_progress: Callable[[dict[str, int]], None] | None = None,
            progress_every: int = 10_000,
            extra_messages: Iterable[tuple[str, bytes]] = (),
            stop: threading.Event | None = None,
            producer_config: Mapping[str, Any] | None = None) -> dict[str, int]:
    """Send ``spec``'s traffic to Kafka; return ``{"predictions": n, "feedback": m, "raw": k}``.

    ``pace`` is event-time seconds per wall-clock second (``1.0`` = real time, ``60.0`` = a minute
    a second; ``None`` = as fast as possible). ``extra_messages`` (topic, value) are sent first,
    unkeyed. ``on_progress`` gets the counts every ``progress_every`` messages and at the end.
    Setting ``stop`` ends the run early (what was sent is still flushed).
    """
    with KafkaSink(bootstrap_servers, predictions_topic, feedback_topic,
                   **dict(producer_config or {})) as sink:
        for topic, value in extra_messages:
            sink.send_raw(topic, value)
        wall_start = time.monotonic()
        first_ms: int | None = None
        for sent, (kind, event) in enumerate(events(spec), start=1):
            if stop is not None and stop.is_set():
                break
            if pace is not None:
                ts = parse_timestamp(event["timestamp"])
                first_ms = ts if first_ms is None else first_ms
                ahead = (ts - first_ms) / 1000.0 / pace - (time.monotonic() - wall_start)
                if ahead > 0.002:
                    if stop is not None:
                        stop.wait(ahead)
                    else:
                        time.sleep(ahead)
            sink.send(kind, event)
            if on_progress is not None and sent % progress_every == 0:
                on_progress(dict(sink.counts))
        sink.flush()
        if on_progress is not None:
            on_progress(dict(sink.counts))
        return dict(sink.counts)


def produce_raw(bootstrap_servers: str | list[str], topic: str, values: Sequence[bytes | None],
                key: bytes | None = None, **producer_config: Any) -> int:
    """Send ``values`` to ``topic`` as they are (all with ``key``), flush, return how many."""
    with KafkaSink(bootstrap_servers, **producer_config) as sink:
        for value in values:
            sink.send_raw(topic, value, key)
        sink.flush()
        return sink.counts["raw"]


def with_drift(spec: SimulationSpec, at_fraction: float = 0.5, **changes: Any) -> SimulationSpec:
    """``spec`` with drift from ``at_fraction`` of its events on (plus any other ``changes``)."""
    return replace(spec, drift_at=int(spec.n_events * at_fraction), **changes)
