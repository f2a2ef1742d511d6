"""The shared count helpers, and the refusals every count-based statistic inherits from them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from evidently.legacy.calculations.stattests.utils import get_binned_data
from evidently.legacy.core import ColumnType

from detectors._base import DetectorError
from detectors.drift._counts import floor_zeros, paired_counts
from detectors.drift.chi_square import chi_square_statistic
from detectors.drift.fisher_exact import fisher_exact_statistic
from detectors.drift.hellinger import hellinger_statistic
from detectors.drift.jensen_shannon import jensen_shannon_statistic
from detectors.drift.kl_divergence import kl_statistic
from detectors.drift.linf import linf_statistic
from detectors.drift.psi import PopulationStabilityIndex
from detectors.drift.total_variation import tvd_statistic
from detectors.drift.z_test import z_statistic
from tests.detectors.drift.histogram_helpers import categorical_cases

STATISTICS: list[Callable[[Any, Any], Any]] = [
    chi_square_statistic, z_statistic, fisher_exact_statistic, PopulationStabilityIndex.statistic,
    jensen_shannon_statistic, hellinger_statistic, kl_statistic, tvd_statistic, linf_statistic,
]


@pytest.mark.parametrize("case", range(4))
def test_floor_is_evidentlys_feel_zeroes_on_its_own_value_counts(case: int) -> None:
    ref, cur = (pd.Series(x) for x in categorical_cases()[case])
    raw = get_binned_data(ref, cur, ColumnType.Categorical, 30, feel_zeroes=False)
    floored = get_binned_data(ref, cur, ColumnType.Categorical, 30, feel_zeroes=True)
    for shares, expected in zip(raw, floored, strict=True):
        assert floor_zeros(shares).tolist() == expected.tolist()


def test_floor_touches_only_zeros() -> None:
    assert floor_zeros(np.array([0.0, 0.5, 0.5])).tolist() == [1e-4, 0.5, 0.5]
    assert floor_zeros(np.array([0.0, 5e-5, 1 - 5e-5])).tolist() == [5e-11, 5e-5, 1 - 5e-5]
    assert floor_zeros(np.array([0.0, 0.02, 0.98]), eps=0.05).tolist() == [0.02 / 1e6, 0.02, 0.98]


def test_paired_counts_drop_bins_empty_on_both_sides() -> None:
    ref, cur = paired_counts([0, 3, 0, 0], np.array([0, 1, 2, 0]))
    assert (ref.tolist(), cur.tolist()) == ([3.0, 0.0], [1.0, 2.0])


@pytest.mark.parametrize("statistic", STATISTICS)
@pytest.mark.parametrize(("ref", "cur", "message"), [
    ([0, 0], [1, 2], "non-empty, non-negative"),
    ([1, 2], [], "non-empty, non-negative"),
    ([1, -1], [1, 1], "non-empty, non-negative"),
    ([[1, 2]], [[1, 2]], "1-D"),
    ([1, 2], [1, 2, 3], "different bins"),
    ([1, np.inf], [1, 2], "finite"),
    ([1, 2], [np.nan, 2], "finite"),
])
def test_every_count_statistic_refuses_bad_histograms(
        statistic: Callable[[Any, Any], Any], ref: Any, cur: Any, message: str) -> None:
    with pytest.raises(DetectorError, match=message):
        statistic(ref, cur)
