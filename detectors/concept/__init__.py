"""Streaming concept-drift detectors over a model's error stream, one module per algorithm.

Each detector takes one value per :meth:`~detectors.concept._base.ConceptDriftDetector.update`
(a 0/1 error, or a real-valued loss for ADWIN, Page-Hinkley, KSWIN and CUSUM) and reports on
which update the stream changed (``drift_detected``, ``change_points``). They follow River's
``river.drift`` (0.26) conventions and match its detection indices; :func:`methods` finds them.

>>> sorted(methods())
['adwin', 'cusum', 'ddm', 'eddm', 'hddm_a', 'hddm_w', 'kswin', 'page_hinkley']
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache

from detectors.concept._base import ConceptDriftDetector, WarningDriftDetector
from detectors.concept.adwin import ADWIN
from detectors.concept.cusum import CUSUM
from detectors.concept.ddm import DDM
from detectors.concept.eddm import EDDM
from detectors.concept.hddm_a import HDDM_A
from detectors.concept.hddm_w import HDDM_W
from detectors.concept.kswin import KSWIN
from detectors.concept.page_hinkley import PageHinkley

__all__ = ["ADWIN", "CUSUM", "DDM", "EDDM", "HDDM_A", "HDDM_W", "KSWIN", "ConceptDriftDetector",
           "PageHinkley", "WarningDriftDetector", "methods"]


@cache
def methods() -> dict[str, type[ConceptDriftDetector]]:
    """Every concrete detector in this package, by its ``method`` name."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    found: dict[str, type[ConceptDriftDetector]] = {}
    stack = list(ConceptDriftDetector.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if not inspect.isabstract(cls) and "method" in vars(cls):
            found[cls.method] = cls
    return found
