"""Evidently's own numeric stattest functions, for parity tests; imported once, with the
deprecation warnings its package raises at import time silenced."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from evidently.legacy.calculations.stattests.anderson_darling_stattest import (
        _anderson_darling,
    )
    from evidently.legacy.calculations.stattests.cramer_von_mises_stattest import (
        _cramer_von_mises,
        _cvm_2samp,
    )
    from evidently.legacy.calculations.stattests.energy_distance import _energy_dist
    from evidently.legacy.calculations.stattests.ks_stattest import _ks_stat_test
    from evidently.legacy.calculations.stattests.wasserstein_distance_norm import (
        _wasserstein_distance_norm,
    )
    from evidently.legacy.core import ColumnType

NUMERICAL = ColumnType.Numerical

__all__ = ["NUMERICAL", "_anderson_darling", "_cramer_von_mises", "_cvm_2samp", "_energy_dist",
           "_ks_stat_test", "_wasserstein_distance_norm"]
