"""Driftline benchmarks: ``make bench`` (``python -m benchmarks.run``) writes docs/benchmarks.md.

Every measurement that needs a clean heap (throughput, peak memory, Evidently) runs in a child
process of its own; see :mod:`benchmarks.common` for how children are started and report back.
"""
