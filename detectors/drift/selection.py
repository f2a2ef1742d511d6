"""Which test a feature gets, as Evidently chooses by default (for users who compare or migrate).

Evidently 0.7 picks by the number of reference rows and the number of distinct values in
reference and current together: with at most 1000 reference rows, Kolmogorov-Smirnov for numbers
with more than five distinct values, chi-square for categories (or numbers with three to five
values) and a Z-test for binary data, all at p < 0.05; with more reference rows, the normed
Wasserstein distance for numbers with more than five values and the Jensen-Shannon distance
otherwise, both at 0.1. The dataset drifts when at least half of the features do.

>>> evidently_choice("numeric", n_reference=800, n_unique=40)
('ks', 0.05)
>>> evidently_choice("categorical", n_reference=800, n_unique=2)
('z', 0.05)
>>> evidently_choice("numeric", n_reference=5000, n_unique=4)
('jensenshannon', 0.1)
"""

from __future__ import annotations

SMALL_REFERENCE = 1000
FEW_VALUES = 5
DATASET_DRIFT_SHARE = 0.5


def evidently_choice(kind: str, n_reference: int, n_unique: int) -> tuple[str, float]:
    """``(method, threshold)`` for a ``numeric`` or ``categorical`` feature."""
    if kind not in ("numeric", "categorical"):
        raise ValueError(f"kind must be numeric or categorical, not {kind!r}")
    continuous = kind == "numeric" and n_unique > FEW_VALUES
    if n_reference <= SMALL_REFERENCE:
        if continuous:
            return "ks", 0.05
        return ("chisquare" if n_unique > 2 else "z"), 0.05
    return ("wasserstein" if continuous else "jensenshannon"), 0.1
