"""Correction for testing many features at once.

With 25 features each tested at 5%, a drift-free window raises at least one alarm about 72% of
the time. Both corrections here keep the chance of any false alarm in a drift-free window at
``alpha``: Bonferroni by testing each feature at ``alpha / m``; Benjamini-Hochberg by controlling
the false discovery rate at ``alpha``, which equals that chance when nothing drifted and rejects
more when several features really did.

>>> benjamini_hochberg([0.001, 0.008, 0.039, 0.041, 0.042, 0.6], alpha=0.05)
[True, True, False, False, False, False]
>>> bonferroni([0.001, 0.008, 0.039], alpha=0.05)
[True, True, False]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

METHODS = ("bh", "bonferroni")


def bonferroni(p_values: Sequence[float], alpha: float) -> list[bool]:
    """Reject where ``p <= alpha / m``."""
    m = len(p_values)
    return [p <= alpha / m for p in p_values] if m else []


def benjamini_hochberg(p_values: Sequence[float], alpha: float) -> list[bool]:
    """Step-up procedure: reject the k smallest where ``p_(k) <= k * alpha / m``."""
    m = len(p_values)
    if m == 0:
        return []
    order = np.argsort(np.asarray(p_values, dtype=np.float64), kind="stable")
    ranked = np.asarray(p_values, dtype=np.float64)[order]
    passing = np.nonzero(ranked <= alpha * np.arange(1, m + 1) / m)[0]
    reject = np.zeros(m, dtype=bool)
    if len(passing):
        reject[order[: passing[-1] + 1]] = True
    return [bool(x) for x in reject]


def correct(p_values: Sequence[float], alpha: float, method: str) -> list[bool]:
    """Rejections under ``method`` (``bh`` or ``bonferroni``)."""
    if method == "bh":
        return benjamini_hochberg(p_values, alpha)
    if method == "bonferroni":
        return bonferroni(p_values, alpha)
    raise ValueError(f"unknown correction {method!r}; use one of {METHODS}")
