"""Result records of the performance metrics: frozen dataclasses with plain fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "warning", "alert", "insufficient_data"]


@dataclass(frozen=True)
class MetricValue:
    """Realized value of one performance metric in one window.

    ``value`` is ``None`` where the metric is undefined in the window (recall of a class with no
    members, ROC AUC with one class, ...), never a division by zero. ``ci_low`` and ``ci_high``
    bound the two-sided interval at the requested confidence (``None`` where undefined or not
    computed). ``n`` is the metric's support: the rows it rests on (labelled rows, or the members
    of a class for its recall, or the predicted positives for precision). ``support_ok`` is true
    when the value is defined and ``n >= min_support``. ``label`` names the class of a per-class
    metric. ``se`` is the standard error (binomial ``sqrt(p (1 - p) / n)`` for proportions, the
    standard deviation of the bootstrap replicates otherwise) and ``method`` how the interval was
    made: ``"wilson"`` or ``"bootstrap"``.
    """

    metric: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    support_ok: bool
    label: str | None = None
    se: float | None = None
    method: str = "wilson"


@dataclass(frozen=True)
class Comparison:
    """Outcome of testing one window's metric against the reference value of that metric.

    ``p_value`` is one-sided (small when the window is worse), ``threshold`` the ``alpha`` it is
    held to, ``drop`` how much worse the window is (positive = worse, in the metric's units) and
    ``statistic`` the z statistic. All three are ``None`` when ``status`` is
    ``"insufficient_data"``.
    """

    status: Status
    p_value: float | None
    threshold: float
    metric: str = ""
    drop: float | None = None
    statistic: float | None = None
