"""Result records of the detectors: frozen dataclasses with plain fields."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DriftResult:
    """Outcome of one drift test of one feature in one window."""

    method: str
    statistic: float
    p_value: float | None
    threshold: float
    drifted: bool
    n_reference: int
    n_current: int


@dataclass(frozen=True)
class MultivariateDriftResult:
    """Outcome of one multivariate (or embedding) drift test in one window.

    ``device`` is where the test ran (``"cpu"`` or ``"cuda"``).
    """

    method: str
    statistic: float
    p_value: float | None
    threshold: float
    drifted: bool
    n_reference: int
    n_current: int
    device: str
