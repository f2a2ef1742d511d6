"""Worst-slice discovery in one window: the hot slice, false discoveries, the maths, merging."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from detectors._base import DetectorError
from detectors.performance._common import wilson, z_value
from detectors.slices import (
    merge_counts,
    parse_key,
    slice_counts,
    slice_key,
    worst_from_counts,
    worst_slices,
    z_test,
)
from tests.detectors.slices._streams import HOT, touches_hot, window

N_SLICES = 5 + 4 + 3 + 20 + 15 + 12  # singles, then country x device, x plan, device x plan


def test_hot_pair_is_the_top_and_only_discovery() -> None:
    cols, bad = window(seed=4, hot_rate=0.30)
    assert bad.mean() == 0.111  # the overall rate barely moves from 0.10
    found = worst_slices(cols, bad)
    assert len(found) == N_SLICES
    top = found[0]
    assert (top.slice, top.dims, top.n, top.bad, top.significant) == (
        HOT, ("country", "device"), 51, 18, True)
    assert top.rate == pytest.approx(18 / 51)
    assert top.rest_rate == pytest.approx(93 / 949)
    assert top.effect == pytest.approx(18 / 51 - 93 / 949)
    assert top.risk_ratio == pytest.approx((18 / 51) / (93 / 949))
    assert top.p_value < 1e-5
    assert [r.slice for r in found if r.significant] == [HOT]
    assert found[1].p_value > 0.02  # the next one is far from any corrected threshold


def test_hot_pair_over_many_windows_power_and_false_discoveries() -> None:
    """200 windows: how often the hot pair is found and the share of false discoveries.

    A slice that shares no row with the hot pair is no worse than its rest, so its discovery is
    false; BH keeps the mean false discovery proportion at or under ``fdr``.
    """
    top, fdp = 0, []
    for seed in range(1000, 1200):
        found = worst_slices(*window(seed, hot_rate=0.30))
        sig = [r.slice for r in found if r.significant]
        top += bool(sig) and sig[0] == HOT
        fdp.append(sum(not touches_hot(s) for s in sig) / max(len(sig), 1))
    assert top == 138
    assert np.mean(fdp) == pytest.approx(0.009166666666666667)
    assert np.mean(fdp) <= 0.05


def test_drift_free_windows_discover_at_most_the_fdr() -> None:
    """No slice is worse, so every discovery is false and P(any in a window) <= fdr."""
    any_found = sum(any(r.significant for r in worst_slices(*window(seed)))
                    for seed in range(5000, 5200))
    assert any_found == 3
    assert any_found <= 0.05 * 200 + 3 * math.sqrt(200 * 0.05 * 0.95)


def test_p_values_are_the_normal_tail_of_the_pooled_z() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        n, rest_n = int(rng.integers(1, 500)), int(rng.integers(1, 5000))
        bad, rest_bad = int(rng.integers(0, n + 1)), int(rng.integers(0, rest_n + 1))
        pooled = (bad + rest_bad) / (n + rest_n)
        if pooled in {0.0, 1.0}:
            assert z_test(n, bad, rest_n, rest_bad) == (0.0, 1.0)
            continue
        se = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / rest_n))
        for cc in (False, True):
            shift = 0.5 * (1 / n + 1 / rest_n) if cc else 0.0
            z, p = z_test(n, bad, rest_n, rest_bad, continuity=cc)
            assert z == pytest.approx((bad / n - rest_bad / rest_n - shift) / se, rel=1e-12)
            assert p == pytest.approx(stats.norm.sf(z), rel=1e-12, abs=1e-300)


def test_z_squared_is_pearson_and_yates_chi_square() -> None:
    table = np.array([[30, 70], [90, 810]])
    z, _ = z_test(100, 30, 900, 90, continuity=False)
    assert z * z == pytest.approx(stats.chi2_contingency(table, correction=False)[0])
    z, _ = z_test(100, 30, 900, 90, continuity=True)
    assert z * z == pytest.approx(stats.chi2_contingency(table, correction=True)[0])


def test_result_p_values_and_intervals_use_the_helpers() -> None:
    cols, bad = window(seed=4, hot_rate=0.30)
    total, total_bad = len(bad), int(bad.sum())
    for confidence in (0.95, 0.9):
        for r in worst_slices(cols, bad, confidence=confidence):
            assert (r.ci_low, r.ci_high) == wilson(r.bad, r.n, z_value(confidence))
            rest_n, rest_bad = total - r.n, total_bad - r.bad
            table = [[r.bad, r.n - r.bad], [rest_bad, rest_n - rest_bad]]
            exact = stats.fisher_exact(table, alternative="greater").pvalue
            assert r.p_value == pytest.approx(exact, rel=1e-9)
        for r in worst_slices(cols, bad, confidence=confidence, test="z"):
            z, p = z_test(r.n, r.bad, total - r.n, total_bad - r.bad, continuity=True)
            assert r.p_value == p
            assert p == pytest.approx(stats.norm.sf(z), rel=1e-12)


def test_counts_merge_parts_equal_the_whole() -> None:
    cols, bad = window(seed=7, n=3000, hot_rate=0.30)
    whole = slice_counts(cols, bad)
    cuts = [0, 700, 701, 2400, 3000]
    parts = [slice_counts({d: c[a:b] for d, c in cols.items()}, bad[a:b])
             for a, b in itertools.pairwise(cuts)]
    assert merge_counts(*parts) == whole
    assert merge_counts(merge_counts(parts[0], parts[1]), parts[2], parts[3]) == whole
    assert merge_counts(whole, {}) == whole
    assert worst_from_counts(merge_counts(*parts), 3000, int(bad.sum())) == worst_slices(cols, bad)


def test_row_dictionaries_equal_columns_and_missing_values_are_in_no_slice() -> None:
    cols, bad = window(seed=3, n=400)
    rows = [{d: c[i] for d, c in cols.items()} for i in range(400)]
    assert slice_counts(rows, bad) == slice_counts(cols, bad)
    rows[0] = {"country": rows[0]["country"]}
    counts = slice_counts(rows, bad)
    assert sum(n for k, (n, _) in counts.items() if k.startswith("device=") and "&" not in k) \
        == 399
    assert worst_slices(rows, bad, min_support=20) == worst_from_counts(
        counts, 400, int(bad.sum()), min_support=20)


def test_support_cap_top_k_and_a_slice_of_every_row() -> None:
    cols, bad = window(seed=4, hot_rate=0.30)
    cols["site"] = ["eu"] * len(bad)  # a slice of every row has no rest and is not tested
    found = worst_slices(cols, bad, min_support=60)
    assert all(60 <= r.n < 1000 for r in found)
    assert "site=eu" not in {r.slice for r in found}
    capped = worst_slices(cols, bad, min_support=60, max_slices=5)
    assert sorted(r.n for r in capped) == sorted(r.n for r in found)[-5:]
    for cap in (5, 17, 40):  # ties at the cap go by key, so rows and merged counts agree
        assert worst_slices(cols, bad, max_slices=cap) == worst_from_counts(
            slice_counts(cols, bad), len(bad), int(bad.sum()), max_slices=cap)
    assert worst_slices(cols, bad, top_k=3) == worst_slices(cols, bad)[:3]
    assert worst_slices(cols, bad, pairs=False)[0].slice == "device=ios"


def test_keys_escape_and_parse() -> None:
    key = slice_key([("b", "x=1&y"), ("a", "50%")])
    assert key == "a=50%25&b=x%3D1%26y"
    assert parse_key(key) == (("a", "50%"), ("b", "x=1&y"))
    counts = slice_counts([{"a": "50%", "b": "x=1&y"}], [1])
    assert counts == {"a=50%25": (1, 1), "b=x%3D1%26y": (1, 1), key: (1, 1)}


def test_bad_input_is_refused() -> None:
    cols, bad = window(seed=1, n=100)
    with pytest.raises(DetectorError):
        worst_slices(cols, bad[:-1])
    with pytest.raises(DetectorError):
        worst_slices(cols, bad * 2)
    with pytest.raises(DetectorError):
        worst_slices(cols, bad, fdr=0.0)
    with pytest.raises(DetectorError):
        worst_slices(cols, bad, min_support=0)
    with pytest.raises(DetectorError):
        worst_from_counts({"a=1": (10, 11)}, 100, 20, min_support=1)
    with pytest.raises(DetectorError):
        parse_key("country")
    with pytest.raises(DetectorError):
        z_test(0, 0, 10, 1)
    assert worst_slices({}, []) == []
