"""Is this window's performance worse than the reference's? And which metrics should decide?

:func:`compare_to_reference` is a one-sided test of "the window is worse than the reference" for
one metric. ``drop`` is how much worse the window is, in the metric's own units:
``reference - window`` when higher is better, ``window - reference`` when lower is better
(log loss, Brier, ECE, MAE, RMSE, MAPE: :data:`LOWER_IS_BETTER`). With ``n`` the window's
support and ``N = reference_n`` the reference's support *for that metric* (its ``MetricValue.n``:
the positives for ``recall_class_1``, say):

- ``kind="proportion"`` (Wilson metrics: accuracy, precision, recalls): the pooled
  two-proportion z-test with Yates' continuity correction ``c = (1 / n + 1 / N) / 2``,
  ``q = (n w + N r) / (n + N)``, ``z = (drop - c) / sqrt(q (1 - q) (1 / n + 1 / N))``
  (``continuity=False`` drops ``c``). The correction keeps small windows of a proportion near 1
  honest: against a reference recall of 0.95 on 20 000 rows, windows of 60 rows alert 3.0 % of
  the time without it and 1.0 % with it (exact binomial sums). No normal test is honest for a
  window expecting under one failure (0.99 on 60 rows: 2.2 %); ``min_support`` guards there.
- ``kind="bootstrap"`` (the other metrics): a normal test on the window's bootstrap standard
  error ``s``. The reference value is itself an estimate from ``N`` rows, with a standard error
  of about ``s sqrt(n / N)`` when nothing has changed, so ``z = drop / (s sqrt(1 + n / N))``.

``p = P(Z >= z)``, the upper normal tail; when the standard error is 0, ``p`` is 0 for a positive
drop and 1 otherwise. The status, with ``min_effect`` in the metric's units:

- ``"alert"`` when ``p < alpha`` and ``drop >= min_effect``: the drop is both real and large;
- ``"warning"`` otherwise when ``p < 5 alpha`` (a drop that is probably real, or real but
  smaller than ``min_effect``), or when ``drop >= min_effect`` (large but not yet significant,
  typical of small windows);
- ``"ok"`` otherwise;
- ``"insufficient_data"`` when the window's value is undefined or ``support_ok`` is false, the
  reference is missing (``reference_n < 1`` or a non-finite value), or a bootstrap metric has no
  standard error.

False alarms: for a window drawn from the reference's distribution, ``P(p < alpha)`` is about
``alpha``, so the alert rate is at most about ``alpha`` (1 %) **per metric per window**, and
requiring ``drop >= min_effect`` as well makes it lower; testing ``m`` metrics per window, up to
``m alpha``. The seeded check in ``tests/detectors/performance/test_compare.py`` measures it. Two
caveats: the normal approximation for proportions with very few expected failures (above), and
metrics whose expectation depends on the window size. ECE is the one here: binning noise biases
it upward on a few hundred rows, so a small window against a large reference alerts more often
than ``alpha`` (3 % for 300-row windows in one simulation); compare ECE between windows of
similar size, and it carries no verdict. Warnings are far more frequent by design (any drop of
``min_effect`` is noise-sized in a small window): they are for dashboards, not pages.
``drop >= min_effect`` allows 1e-12 of rounding, so a drop of exactly ``min_effect`` counts.

The "no_action lesson". On an imbalanced stream, a model that always predicts the majority class
(say, a fraud model that never says "fraud", or a churn model that always says "no action") has
the majority share as accuracy: 0.95 on a 95/5 stream, which looks healthy. It recovers none of
the minority class, so its ``recall_class_1`` is 0 and its ``balanced_accuracy`` is 0.5.
:func:`default_verdict_metrics` therefore lets ``balanced_accuracy`` and every class recall carry
the verdict, and admits ``accuracy`` only when the classes are balanced: the smallest class share
is at least ``imbalance_threshold`` (0.2). With six or more classes the smallest share is below
0.2, so accuracy never decides there (it adds nothing balanced accuracy does not). Regression
verdicts rest on ``mae`` and ``rmse``.

>>> from detectors.performance.results import MetricValue
>>> window = MetricValue("balanced_accuracy", 0.5, 0.5, 0.5, 2000, True, se=0.0,
...                      method="bootstrap")
>>> compare_to_reference(window, 0.8, 5000, kind="bootstrap")
Comparison(status='alert', p_value=0.0, threshold=0.01, metric='balanced_accuracy', drop=0.3...)
>>> acc = MetricValue("accuracy", 0.81, 0.79, 0.83, 1000, True)
>>> c = compare_to_reference(acc, 0.84, 10000, kind="proportion")
>>> c.status, round(c.p_value, 5), round(c.drop, 3)
('alert', 0.00807, 0.03)
>>> compare_to_reference(acc, 0.83, 10000, kind="proportion").status
'warning'
>>> default_verdict_metrics("binary", {0: 0.95, 1: 0.05})
('balanced_accuracy', 'recall_class_0', 'recall_class_1')
>>> default_verdict_metrics("multiclass", {"a": 0.4, "b": 0.35, "c": 0.25})
('accuracy', 'balanced_accuracy', 'recall_class_a', 'recall_class_b', 'recall_class_c')
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import Literal

from scipy import stats

from detectors._base import DetectorError
from detectors.performance.results import Comparison, MetricValue

__all__ = [
    "LOWER_IS_BETTER",
    "compare_to_reference",
    "default_verdict_metrics",
    "kind_of",
]

Kind = Literal["proportion", "bootstrap"]
Task = Literal["binary", "multiclass", "regression"]
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "ece", "mae", "rmse", "mape"})
WARNING_FACTOR = 5.0
TOLERANCE = 1e-12


def kind_of(window: MetricValue) -> Kind:
    """The test that fits a metric: ``"proportion"`` for Wilson metrics, else ``"bootstrap"``."""
    return "proportion" if window.method == "wilson" else "bootstrap"


def _upper_tail(drop: float, se: float) -> tuple[float | None, float]:
    """``(z, p)`` of the one-sided test; ``(None, 0 or 1)`` when the standard error is 0."""
    if se <= 0.0:
        return None, 0.0 if drop > 0.0 else 1.0
    z = drop / se
    return z, float(stats.norm.sf(z))


def compare_to_reference(
    window: MetricValue,
    reference_value: float,
    reference_n: int,
    *,
    kind: Kind,
    alpha: float = 0.01,
    min_effect: float = 0.02,
    higher_is_better: bool = True,
    continuity: bool = True,
) -> Comparison:
    """One-sided test that ``window`` is worse than the reference; status as in the docstring."""
    if kind not in ("proportion", "bootstrap"):
        raise DetectorError(f"kind must be 'proportion' or 'bootstrap', got {kind!r}")
    if not 0.0 < alpha < 1.0:
        raise DetectorError(f"alpha must be in (0, 1), got {alpha}")
    insufficient = Comparison("insufficient_data", None, alpha, window.metric)
    value = window.value
    if (value is None or not window.support_ok or reference_n < 1
            or not math.isfinite(reference_value)):
        return insufficient
    drop = reference_value - value if higher_is_better else value - reference_value
    if kind == "proportion":
        pooled = (value * window.n + reference_value * reference_n) / (window.n + reference_n)
        variance = pooled * (1.0 - pooled) * (1.0 / window.n + 1.0 / reference_n)
        correction = (1.0 / window.n + 1.0 / reference_n) / 2.0 if continuity else 0.0
        z, p = _upper_tail(drop - correction, math.sqrt(max(variance, 0.0)))
    elif window.se is None:
        return insufficient
    else:
        z, p = _upper_tail(drop, window.se * math.sqrt(1.0 + window.n / reference_n))
    large = drop >= min_effect - TOLERANCE
    if p < alpha and large:
        status: Literal["ok", "warning", "alert"] = "alert"
    elif p < WARNING_FACTOR * alpha or large:
        status = "warning"
    else:
        status = "ok"
    return Comparison(status, p, alpha, window.metric, drop, z)


def default_verdict_metrics(
    task: Task,
    class_balance: Mapping[Hashable, float] | None = None,
    *,
    imbalance_threshold: float = 0.2,
) -> tuple[str, ...]:
    """The metrics that carry a window's verdict (the "no_action lesson" of the docstring).

    ``class_balance`` maps each class to its share or count in the reference (normalised here);
    it is required for classification and ignored for regression. Binary names are always
    ``recall_class_0`` and ``recall_class_1``, as :func:`~.binary.binary_metrics` reports them.
    """
    if task == "regression":
        return ("mae", "rmse")
    if task not in ("binary", "multiclass"):
        raise DetectorError(f"task must be binary, multiclass or regression, got {task!r}")
    if not class_balance or len(class_balance) < 2:
        raise DetectorError("classification verdicts need the share of at least two classes")
    if task == "binary" and len(class_balance) != 2:
        raise DetectorError("a binary task has exactly two classes")
    counts = [float(v) for v in class_balance.values()]
    total = sum(counts)
    if min(counts) < 0.0 or not math.isfinite(total) or total <= 0.0:
        raise DetectorError("class_balance must hold non-negative shares or counts")
    labels = ["0", "1"] if task == "binary" else [str(c) for c in class_balance]
    recalls = tuple(f"recall_class_{label}" for label in labels)
    if min(counts) / total < imbalance_threshold:
        return ("balanced_accuracy", *recalls)
    return ("accuracy", "balanced_accuracy", *recalls)
