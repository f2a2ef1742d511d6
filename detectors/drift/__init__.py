"""Drift tests, one module per method; :func:`methods` finds every detector class.

>>> sorted(methods())[:3]
['anderson', 'chisquare', 'cramer_von_mises']
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache

from detectors.drift._base import DriftDetector


@cache
def methods() -> dict[str, type[DriftDetector]]:
    """Every concrete detector in this package, by its ``method`` name."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    found: dict[str, type[DriftDetector]] = {}
    stack = list(DriftDetector.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if not inspect.isabstract(cls) and "method" in vars(cls):
            found[cls.method] = cls
    return found


def default_threshold(method: str) -> float:
    """The ``threshold`` default of a method's detector."""
    param = inspect.signature(methods()[method].__init__).parameters["threshold"]
    return float(param.default)
