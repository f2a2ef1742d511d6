"""Each prediction's slice values: one label per ``slices:`` dimension of the model.

A dimension is a feature or a tag. Categorical features keep their value when the reference
knew it, else ``(other)``; numeric features are binned by the reference's quantile bins (the
``drift.bins`` PSI bins), labelled ``[lo, hi)``; tags keep their value (at most 64 characters).
A missing value is ``(missing)``. Slice keys are ``dim=value`` and ``dim1=v1&dim2=v2`` (CONTRACT
section 3), dimensions in sorted order.

>>> bucket_label([1.0, 2.5], 2.0)
'[1,2.5)'
>>> bucket_label([1.0, 2.5], 0.3), bucket_label([1.0, 2.5], 9.0)
('[-inf,1)', '[2.5,inf)')
"""

from __future__ import annotations

import bisect
from typing import Any

from detectors.histograms import INVALID, to_category
from detectors.profile import CategoricalProfile, NumericProfile
from monitor.config import ModelConfig
from monitor.reference import ReferenceProfile

MISSING = "(missing)"
OTHER = "(other)"
MAX_VALUE_CHARS = 64


def bucket_label(edges: list[float], value: float) -> str:
    i = bisect.bisect_right(edges, value)
    lo = f"{edges[i - 1]:g}" if i > 0 else "-inf"
    hi = f"{edges[i]:g}" if i < len(edges) else "inf"
    return f"[{lo},{hi})"


def slice_values(config: ModelConfig, profile: ReferenceProfile, features: dict[str, Any],
                 tags: dict[str, Any]) -> dict[str, str]:
    """``{dimension: value}`` for every slice dimension of the model."""
    out: dict[str, str] = {}
    for dim in config.slices:
        p = profile.features.get(dim)
        if p is not None:
            out[dim] = _feature_value(p, features.get(dim))
        else:
            raw = tags.get(dim)
            key = to_category(raw)
            out[dim] = MISSING if key is None or key is INVALID else str(key)[:MAX_VALUE_CHARS]
    return out


def _feature_value(profile: Any, value: Any) -> str:
    if isinstance(profile, NumericProfile):
        if not isinstance(value, int | float) or isinstance(value, bool):
            return MISSING
        return bucket_label(profile.coarse_edges_, float(value))
    key = to_category(value)
    if key is None or key is INVALID:
        return MISSING
    if isinstance(profile, CategoricalProfile) and key not in (profile.categories_ or []):
        return OTHER
    return str(key)[:MAX_VALUE_CHARS]
