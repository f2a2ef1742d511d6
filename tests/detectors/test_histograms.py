"""Mergeable state: the merge of the parts equals the whole; round trips are exact."""

from __future__ import annotations

import numpy as np
import pytest

from detectors._base import IncompatibleState, NotFittedError, StateVersionError
from detectors.profile import CategoricalProfile, NumericProfile


def test_numeric_merge_of_parts_equals_whole() -> None:
    rng = np.random.default_rng(3)
    ref = rng.normal(size=5000)
    profile = NumericProfile(bins=10).fit(ref.tolist())
    data = rng.normal(0.3, 1.2, size=3000).tolist() + [None] * 7 + ["bad"] * 2
    whole = profile.new_state()
    whole.update_raw(data)
    parts = [profile.new_state() for _ in range(3)]
    for i, chunk in enumerate(np.array_split(np.arange(len(data)), 3)):
        parts[i].update_raw([data[j] for j in chunk])
    merged = profile.new_state().merge(parts[0]).merge(parts[1].merge(parts[2]))
    assert merged.counts.tolist() == whole.counts.tolist()
    assert (merged.missing, merged.invalid, merged.below, merged.above) == (
        whole.missing, whole.invalid, whole.below, whole.above) == (7, 2, whole.below,
                                                                    whole.above)
    assert merged.total == pytest.approx(whole.total)
    restored = profile.new_state().load_state(whole.to_state())
    assert restored.to_state() == whole.to_state()


def test_reference_bins_hold_equal_mass() -> None:
    ref = np.random.default_rng(1).normal(size=10_000)
    profile = NumericProfile(bins=10).fit(ref.tolist())
    assert len(profile.bin_edges_ or []) == 9
    assert profile.reference_counts_ == [1000] * 10


def test_categorical_vocabulary_and_other_bucket() -> None:
    profile = CategoricalProfile(max_categories=2).fit(["a"] * 5 + ["b"] * 3 + ["c", None])
    state = profile.new_state()
    state.update_raw(["a", "z", "z", None, True, 1.5, [1]])
    assert profile.categories_ == ["a", "b"]
    assert state.counts.tolist() == [1, 0, 4]
    assert (state.missing, state.invalid, state.unseen) == (1, 1, 4)
    other = CategoricalProfile(max_categories=1).fit(["a"]).new_state()
    with pytest.raises(IncompatibleState):
        state.merge(other)


def test_errors_are_clear() -> None:
    with pytest.raises(NotFittedError):
        NumericProfile().new_state()
    state = NumericProfile(bins=2).fit([1.0, 2.0, 3.0]).new_state()
    with pytest.raises(StateVersionError):
        state.load_state({"state_version": 99, "kind": "numeric_histogram"})


def test_reference_with_lists_and_objects_counts_them_as_missing_vocabulary() -> None:
    profile = CategoricalProfile().fit(["a", ["x"], {"k": 1}, "b", "a"])
    assert profile.categories_ == ["a", "b"]
    assert profile.reference_counts_ == [2, 1, 0]
