"""Bottom-k samples: the merge of the parts equals the whole, exactly; state round trips exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from detectors._base import IncompatibleState, StateVersionError
from detectors.sample import RowSample, ValueSample, counter_priorities, priorities_from_keys

COLUMNS = {"x": "numeric", "c": "categorical", "e": "embedding"}
DIMS = {"e": 3}


def _rows(n: int, seed: int) -> tuple[list[str], dict[str, list[object]]]:
    rng = np.random.default_rng(seed)
    keys = [f"event-{seed}-{i}" for i in range(n)]
    x = rng.normal(size=n)
    x[rng.random(n) < 0.1] = np.nan
    c = [None if rng.random() < 0.1 else f"cat{rng.integers(5)}" for _ in range(n)]
    e = rng.normal(size=(n, 3)).astype(np.float32)
    e[rng.random(n) < 0.1, 1] = np.nan
    return keys, {"x": x.tolist(), "c": c, "e": e.tolist()}


def _sample(keys: list[str], cols: dict[str, list[object]], idx: np.ndarray,
            size: int = 50) -> RowSample:
    s = RowSample(size, COLUMNS, DIMS)
    if len(idx):
        s.update({k: [v[i] for i in idx] for k, v in cols.items()},
                 priorities_from_keys([keys[i] for i in idx]))
    return s


def _assert_same(a: RowSample, b: RowSample) -> None:
    assert a.n_seen == b.n_seen
    assert a.priorities.tolist() == b.priorities.tolist()
    np.testing.assert_array_equal(a.data["x"], b.data["x"])
    assert a.data["c"].tolist() == b.data["c"].tolist()
    np.testing.assert_array_equal(a.data["e"], b.data["e"])


def test_merge_of_parts_split_by_key_equals_the_whole() -> None:
    keys, cols = _rows(1000, seed=1)
    whole = _sample(keys, cols, np.arange(1000))
    owner = np.random.default_rng(2).integers(3, size=1000)  # which consumer saw each event
    parts = [_sample(keys, cols, np.flatnonzero(owner == p)) for p in range(3)]
    merged = RowSample(50, COLUMNS, DIMS).merge(parts[2]).merge(parts[0]).merge(parts[1])
    _assert_same(merged, whole)
    assert (len(whole), whole.n_seen) == (50, 1000)
    # the kept rows are exactly those of the 50 smallest priorities, in priority order
    assert whole.priorities.tolist() == sorted(priorities_from_keys(keys).tolist())[:50]


def test_merge_is_associative_with_the_empty_sample_as_identity() -> None:
    keys, cols = _rows(300, seed=3)
    a, b, c = (np.arange(300)[i::3] for i in range(3))

    def s(idx: np.ndarray) -> RowSample:
        return _sample(keys, cols, idx, size=40)

    _assert_same(s(a).merge(s(b)).merge(s(c)), s(a).merge(s(b).merge(s(c))))
    empty = RowSample(40, COLUMNS, DIMS)
    _assert_same(RowSample(40, COLUMNS, DIMS).merge(s(a)), s(a))
    _assert_same(s(a).merge(empty), s(a))
    assert len(empty) == empty.n_seen == 0


def test_state_round_trip_through_json_with_categorical_and_embedding_columns() -> None:
    keys, cols = _rows(200, seed=4)
    sample = _sample(keys, cols, np.arange(200))
    restored = RowSample.from_state(json.loads(json.dumps(sample.to_state())))
    _assert_same(restored, sample)
    assert restored.data["e"].dtype == np.float32
    assert restored.categories("c") == sample.categories("c")
    np.testing.assert_array_equal(restored.embeddings("e"), sample.embeddings("e"))
    assert len(sample.embeddings("e")) < len(sample)  # rows with a NaN component are dropped
    empty = RowSample.from_state(RowSample(5, COLUMNS, DIMS).to_state())
    assert (len(empty), empty.data["e"].shape) == (0, (0, 3))


def test_value_sample_merge_of_parts_equals_the_whole() -> None:
    values = np.random.default_rng(6).normal(size=5000)
    pri = priorities_from_keys([f"k{i}" for i in range(5000)])
    whole = ValueSample(200)
    whole.add(values, pri)
    parts = [ValueSample(200) for _ in range(4)]
    for i, part in enumerate(parts):
        part.add(values[i::4], pri[i::4])
    merged = parts[3]
    merged.merge(parts[1]).merge(parts[0].merge(parts[2]))
    assert merged.priorities.tolist() == whole.priorities.tolist()
    assert merged.values().tolist() == whole.values().tolist()
    assert (merged.n_seen, len(merged)) == (5000, 200)


def test_value_sample_round_trip_and_kind_check() -> None:
    v = ValueSample(10)
    v.add(np.arange(25.0), counter_priorities(0, 25, seed=5))
    back = ValueSample.from_state(json.loads(json.dumps(v.to_state())))
    assert back.values().tolist() == v.values().tolist()
    assert (back.n_seen, back.priorities.tolist()) == (25, v.priorities.tolist())
    with pytest.raises(StateVersionError):
        ValueSample.from_state(RowSample(10, {"x": "numeric"}).to_state())
    with pytest.raises(StateVersionError):
        RowSample.from_state({**v.to_state(), "state_version": 99})


def test_memory_stays_bounded_and_the_sample_is_the_bottom_k() -> None:
    sample = ValueSample(100)
    pri = counter_priorities(0, 100_000, seed=9)
    for i in range(100_000):
        sample.add([float(i)], pri[i:i + 1])
        assert len(sample) <= 100
    assert (len(sample), sample.n_seen) == (100, 100_000)
    assert sorted(sample.values().astype(int).tolist()) == sorted(np.argsort(pri)[:100].tolist())


def test_counter_priorities_are_deterministic_and_stateless() -> None:
    a = counter_priorities(0, 1000, seed=7)
    assert a.dtype == np.uint64
    assert a.tolist() == counter_priorities(0, 1000, seed=7).tolist()
    assert a.tolist() == np.concatenate([counter_priorities(0, 400, seed=7),
                                         counter_priorities(400, 600, seed=7)]).tolist()
    assert a.tolist() != counter_priorities(0, 1000, seed=8).tolist()
    assert len(set(a.tolist())) == 1000
    assert priorities_from_keys(["a", "b"]).tolist() == priorities_from_keys(["a", "b"]).tolist()
    assert priorities_from_keys([]).shape == (0,)


def test_missing_columns_are_filled_as_missing() -> None:
    s = RowSample(5, COLUMNS, DIMS)
    s.update({"x": [1.0, 2.0]}, priorities_from_keys(["p", "q"]))
    assert s.numeric("x").tolist() in ([1.0, 2.0], [2.0, 1.0])
    assert s.categories("c") == []
    assert s.embeddings("e").shape == (0, 3)


def test_errors_on_bad_kinds_dims_sizes_and_rows() -> None:
    with pytest.raises(ValueError, match="unknown column kinds"):
        RowSample(5, {"x": "text"})
    with pytest.raises(ValueError, match="dimension"):
        RowSample(5, {"e": "embedding"})
    with pytest.raises(ValueError, match="at least 1"):
        RowSample(0, {"x": "numeric"})
    with pytest.raises(IncompatibleState):
        RowSample(5, {"x": "numeric"}).merge(RowSample(6, {"x": "numeric"}))
    with pytest.raises(IncompatibleState):
        RowSample(5, COLUMNS, DIMS).merge(RowSample(5, COLUMNS, {"e": 4}))
    s = ValueSample(5)
    with pytest.raises(ValueError, match="rows"):
        s.add([1.0, 2.0, 3.0], priorities_from_keys(["a", "b"]))
    assert (s.n_seen, len(s)) == (0, 0)  # a refused batch leaves no trace
