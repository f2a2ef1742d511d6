"""Business KPIs per window (CTR, conversion, revenue per prediction) and their change detection.

- :mod:`.estimate`: :class:`KpiState`, the mergeable sums of one KPI over one window, and its
  :class:`KpiValue` with a Wilson or delta-method interval; a KPI whose events never arrived is
  ``insufficient_data``, never a silent zero.
- :mod:`.sequential`: :class:`MixtureSPRT`, an always-valid test of a drop (or rise) of the KPI
  against its reference baseline, safe to look at after every window.
"""

from detectors.kpi.estimate import KINDS, PREDICTIONS, KpiState, KpiValue
from detectors.kpi.sequential import DIRECTIONS, MixtureSPRT, always_valid_p_values

__all__ = ["DIRECTIONS", "KINDS", "PREDICTIONS", "KpiState", "KpiValue", "MixtureSPRT",
           "always_valid_p_values"]
