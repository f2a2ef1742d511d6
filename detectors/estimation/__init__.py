"""Performance estimation without labels: confidence-based (CBPE) for binary classifiers.

>>> from detectors.estimation import CBPE
>>> CBPE().get_params()["metrics"]
('accuracy', 'precision', 'recall', 'f1', 'roc_auc')
"""

from detectors.estimation._metrics import METRICS, Confusion, realized_metrics
from detectors.estimation.cbpe import CBPE, EstimatedMetric
from detectors.estimation.isotonic import IsotonicRegression, pool_adjacent_violators
from detectors.estimation.state import CBPEState

__all__ = [
    "CBPE",
    "METRICS",
    "CBPEState",
    "Confusion",
    "EstimatedMetric",
    "IsotonicRegression",
    "pool_adjacent_violators",
    "realized_metrics",
]
