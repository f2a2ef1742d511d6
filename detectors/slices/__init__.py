"""Worst slices: which values (and pairs of values) of the row dimensions have a higher bad rate.

- :mod:`.discovery`: one window. Every single-dimension and pair slice with enough rows is tested
  against the rest of the window (one-sided two-proportion z-test), Benjamini-Hochberg over all of
  them; results carry rate, Wilson interval, effect, risk ratio and verdict. Counts merge across
  partitions.
- :mod:`.sequential`: across windows. A per-slice mixture SPRT of "the slice's bad rate exceeds
  the rest's by more than ``delta``", whose chance of ever alarming without such an excess is at
  most ``alpha``, so slices too small for one window are found over several.

>>> counts = merge_counts(slice_counts([{"country": "KR"}], [1]),
...                       slice_counts([{"country": "KR"}, {"country": "US"}], [0, 0]))
>>> counts
{'country=KR': (2, 1), 'country=US': (1, 0)}
"""

from detectors.slices.discovery import (
    SliceResult,
    merge_counts,
    parse_key,
    slice_counts,
    slice_key,
    worst_from_counts,
    worst_slices,
    z_test,
)
from detectors.slices.sequential import MixtureSPRT, SliceEvidence, log_mixture_lr

__all__ = ["MixtureSPRT", "SliceEvidence", "SliceResult", "log_mixture_lr", "merge_counts",
           "parse_key", "slice_counts", "slice_key", "worst_from_counts", "worst_slices",
           "z_test"]
