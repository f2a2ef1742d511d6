"""Synthetic tables for the drift benchmarks, and the two ways to put them into a window.

The generator: 20 numeric features in four shapes (normal, log-normal, uniform, gamma; every one
continuous, so Evidently treats all of them as numeric with more than five values) and 5
categorical features with Zipf-like mixes over 5, 8, 3, 12 and 20 categories. Every feature is
independent of the others. ``Shift`` describes drift: a mean shift of ``d`` standard deviations of
a numeric feature (the whole distribution moves), or ``f`` of the probability mass moved from the
most frequent category of a categorical feature to its least frequent one (total variation
distance ``f``). ``seed`` drives everything; the same seed gives the same table.

A window reaches Driftline in one of two ways:

- :func:`events` builds ``Prediction`` objects batch by batch for ``WindowState.update``, as the
  worker does (the comparison with Evidently times this path);
- :func:`fill` puts the same columns straight into the window's histograms and row sample (the
  false-alarm and power runs, thousands of windows). :func:`check_fill` verifies that both give
  identical records.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

N_NUMERIC = 20
VOCAB_SIZES = (5, 8, 3, 12, 20)
NUMERIC = [f"num_{i:02d}" for i in range(N_NUMERIC)]
CATEGORICAL = [f"cat_{i}" for i in range(len(VOCAB_SIZES))]
SHAPES = ("normal", "lognormal", "uniform", "gamma")
START_MS = 1_795_000_000_000


@dataclass(frozen=True)
class Shift:
    """Drift of one feature: ``amount`` standard deviations (numeric) or of mass (categorical)."""

    feature: str
    amount: float


@dataclass
class Table:
    """A table by column: numeric float64 arrays and categorical object arrays of strings."""

    numeric: dict[str, np.ndarray]
    categorical: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return len(next(iter(self.numeric.values())))

    def frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame({**self.numeric, **self.categorical})


def _shape(i: int) -> str:
    return SHAPES[i % len(SHAPES)]


def numeric_std(i: int) -> float:
    """The population standard deviation of numeric feature ``i`` (for shifts in std units)."""
    shape = _shape(i)
    if shape == "normal":
        return 1.0 + 0.25 * i
    if shape == "lognormal":
        s2 = 0.5**2
        return float(np.sqrt((np.exp(s2) - 1) * np.exp(s2)))
    if shape == "uniform":
        return 10.0 / np.sqrt(12.0)
    return float(np.sqrt(2.0) * 1.5)


def _numeric(i: int, n: int, rng: np.random.Generator) -> np.ndarray:
    shape = _shape(i)
    if shape == "normal":
        return rng.normal(float(i), numeric_std(i), n)
    if shape == "lognormal":
        return rng.lognormal(0.0, 0.5, n)
    if shape == "uniform":
        return rng.uniform(0.0, 10.0, n)
    return rng.gamma(2.0, 1.5, n)


def mix(j: int) -> np.ndarray:
    """Category probabilities of categorical feature ``j`` (Zipf, exponent 1)."""
    weights = 1.0 / np.arange(1, VOCAB_SIZES[j] + 1)
    out: np.ndarray = weights / weights.sum()
    return out


def vocabulary(j: int) -> np.ndarray:
    return np.array([f"c{j}_{k:02d}" for k in range(VOCAB_SIZES[j])], dtype=object)


def table(n: int, seed: int | tuple[int, ...], shifts: tuple[Shift, ...] = ()) -> Table:
    """``n`` rows from the generator, with ``shifts`` applied."""
    rng = np.random.default_rng(seed)
    by_name = {s.feature: s.amount for s in shifts}
    numeric = {}
    for i, name in enumerate(NUMERIC):
        col = _numeric(i, n, rng)
        if name in by_name:
            col += by_name[name] * numeric_std(i)
        numeric[name] = col
    categorical = {}
    for j, name in enumerate(CATEGORICAL):
        p = mix(j)
        if name in by_name:
            moved = min(by_name[name], p[0])
            p = p.copy()
            p[0] -= moved
            p[-1] += moved
        categorical[name] = vocabulary(j)[rng.choice(len(p), size=n, p=p)]
    return Table(numeric, categorical)


# ------------------------------------------------------------------ Driftline side
def model_config(mode: str, *, multivariate: bool = False, **drift: Any) -> Any:
    """A model over the 25 features with ``drift.mode`` = ``mode`` (plus ``drift`` settings).

    The multivariate test (``drift.multivariate``, on by default in Driftline) is off unless
    asked for: the univariate records do not depend on it, and Evidently's preset has none.
    """
    from monitor.config import parse_config

    if not multivariate:
        drift = {**drift, "multivariate": {"enabled": False}}

    features = ([{"name": n, "type": "numeric"} for n in NUMERIC]
                + [{"name": n, "type": "categorical"} for n in CATEGORICAL])
    return parse_config({"model_id": "drift-bench", "task": "binary_classification",
                         "window": "1h", "features": features,
                         "drift": {"mode": mode, **drift}})


def reference_rows(t: Table) -> list[dict[str, Any]]:
    """Rows shaped like prediction events (``{"features": {...}}``), as a reference upload."""
    names = [*t.numeric, *t.categorical]
    cols = [t.numeric[n].tolist() for n in t.numeric] + [t.categorical[n].tolist()
                                                         for n in t.categorical]
    return [{"features": dict(zip(names, values, strict=True))}
            for values in zip(*cols, strict=True)]


def profile(config: Any, t: Table, version: int = 1) -> Any:
    """The frozen reference profile of ``t`` (``columns_from_events`` + ``build_profile``)."""
    from monitor.reference import build_profile, columns_from_events

    return build_profile(config, columns_from_events(config, reference_rows(t)), version)


def events(t: Table, batch: int, prefix: str = "e") -> Iterator[list[Any]]:
    """The table as ``Prediction`` batches (score and prediction absent), built lazily."""
    from monitor.events import Prediction

    names = [*t.numeric, *t.categorical]
    for start in range(0, t.n, batch):
        stop = min(start + batch, t.n)
        cols = ([t.numeric[n][start:stop].tolist() for n in t.numeric]
                + [t.categorical[n][start:stop].tolist() for n in t.categorical])
        yield [Prediction("drift-bench", f"{prefix}{start + i}", f"{prefix}{start + i}",
                          START_MS + start + i, dict(zip(names, values, strict=True)), None,
                          None, {}, None)
               for i, values in enumerate(zip(*cols, strict=True))]


def fill(state: Any, t: Table, priorities: np.ndarray) -> None:
    """Add ``t`` to a ``WindowState`` as ``update`` would, straight from the columns.

    ``priorities`` stand in for the event-id hashes that pick the row sample; the histograms,
    counts and sample end up as ``update`` leaves them for events with those hashes.
    """
    from monitor.sampling import PREDICTION_COLUMN, SCORE_COLUMN

    n = t.n
    state.n += n
    for name, col in t.numeric.items():
        state.features[name].update(col)
    for name, col in t.categorical.items():
        state.features[name].update_raw(col.tolist())
    for extra in (state.score, state.prediction):
        if extra is not None:
            extra.missing += n
    sample = state.sample
    pri = np.asarray(priorities, dtype=np.uint64)
    if len(sample) >= sample.size:
        picked = np.flatnonzero(pri < sample.priorities[-1])
    else:
        picked = np.arange(n)
    if len(picked) > sample.size:
        picked = np.sort(picked[np.argpartition(pri[picked], sample.size - 1)[: sample.size]])
    sample.n_seen += n - len(picked)
    cols: dict[str, Any] = {name: col[picked] for name, col in t.numeric.items()}
    cols.update({name: col[picked].tolist() for name, col in t.categorical.items()})
    cols[SCORE_COLUMN] = np.full(len(picked), np.nan)
    cols[PREDICTION_COLUMN] = [None] * len(picked)
    sample.update(cols, pri[picked])


def check_fill(n: int = 3000, seed: int = 99) -> bool:
    """Records from :func:`fill` equal those from ``WindowState.update`` (both modes)."""
    from detectors.sample import priorities_from_keys
    from monitor.records import IngestionCounts, compute_window_records
    from monitor.window_state import WindowState

    ref, cur = table(5000, (seed, 0)), table(n, (seed, 1), (Shift("num_00", 0.3),))
    same = True
    for mode in ("calibrated", "evidently"):
        cfg = model_config(mode, multivariate=True, resamples=500)
        prof = profile(cfg, ref)
        streamed, filled = WindowState(cfg, prof), WindowState(cfg, prof)
        for batch in events(cur, 1000, prefix="chk"):
            streamed.update(batch)
        fill(filled, cur, priorities_from_keys([f"chk{i}" for i in range(n)]))
        a = compute_window_records(cfg, prof, START_MS, streamed, IngestionCounts())
        b = compute_window_records(cfg, prof, START_MS, filled, IngestionCounts())
        same = same and a == b
    return same
