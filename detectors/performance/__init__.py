"""Realized model performance of one window, from arrays, and its test against the reference.

Pure functions (numpy and scipy): the caller brings one window's labelled rows and gets a list of
:class:`~detectors.performance.results.MetricValue` (value, confidence interval, support), then
tests each verdict metric against the reference with :func:`compare_to_reference`.

- :mod:`.binary`: accuracy, balanced accuracy, precision, recall, F1, ROC AUC, PR AUC, log loss,
  Brier, ECE, recall per class.
- :mod:`.multiclass`: accuracy, balanced accuracy, macro and weighted F1, log loss, recall per
  class.
- :mod:`.regression`: MAE, RMSE, MAPE, R^2.
- :mod:`.compare`: the one-sided test against the reference and the choice of verdict metrics
  (balanced accuracy and class recalls, not accuracy, on imbalanced classes).

Proportions get Wilson score intervals, the other metrics a seeded percentile bootstrap. A metric
below ``min_support`` rows (or undefined) is flagged, never guessed, and compares as
``"insufficient_data"``.

>>> import numpy as np
>>> y = np.r_[np.zeros(1900), np.ones(100)]  # 95/5, and a model that always says 0
>>> m = {v.metric: v for v in binary_metrics(y, np.full(2000, 0.1))}
>>> m["accuracy"].value, m["balanced_accuracy"].value, m["recall_class_1"].value
(0.95, 0.5, 0.0)
>>> compare_to_reference(m["balanced_accuracy"], 0.8, 5000, kind="bootstrap").status
'alert'
"""

from detectors.performance.binary import binary_metrics
from detectors.performance.compare import (
    LOWER_IS_BETTER,
    compare_to_reference,
    default_verdict_metrics,
    kind_of,
)
from detectors.performance.multiclass import multiclass_metrics
from detectors.performance.regression import regression_metrics
from detectors.performance.results import Comparison, MetricValue

__all__ = [
    "LOWER_IS_BETTER",
    "Comparison",
    "MetricValue",
    "binary_metrics",
    "compare_to_reference",
    "default_verdict_metrics",
    "kind_of",
    "multiclass_metrics",
    "regression_metrics",
]
