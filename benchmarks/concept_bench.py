"""Concept-drift detectors: Driftline's throughput against River's on the same error stream.

    python -m benchmarks.concept_bench                 # 1M updates, median of 3 (~2-3 minutes)
    python -m benchmarks.concept_bench --n 100000      # a quick look

The stream is 0/1 errors whose rate switches between 0.10 and 0.30 every 100k updates (seeded),
which every detector accepts. Each run builds a fresh detector and times the loop a caller
writes, ``update`` then a read of ``drift_detected``; the table gives updates per second (median
of ``--repeats`` runs), the detections, and whether the change points equal River's. KSWIN runs
a KS test on every update (River calls scipy each time), so it gets ``--kswin-n`` updates only,
centred on the first change. River is optional: without it only Driftline's column is filled.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from detectors import concept

Factory = Callable[[], Any]


EVERY = 100_000  # the error rate switches every EVERY updates


def stream(n: int, seed: int = 0, every: int = EVERY) -> list[int]:
    rng = np.random.default_rng(seed)
    rates = np.where((np.arange(n) // every) % 2 == 0, 0.10, 0.30)
    return [int(v) for v in rng.random(n) < rates]


def pairs() -> list[tuple[str, Factory, Factory | None]]:
    """``(name, Driftline factory, River factory or None)`` with River's default parameters."""
    try:
        from river import drift
    except ImportError:
        drift = None
    river: dict[str, Factory | None] = {"cusum": None}
    if drift is not None:
        river.update({"ddm": drift.binary.DDM, "eddm": drift.binary.EDDM,
                      "hddm_a": drift.binary.HDDMA, "hddm_w": drift.binary.HDDMW,
                      "adwin": drift.ADWIN, "page_hinkley": drift.PageHinkley,
                      "kswin": lambda: drift.KSWIN(seed=42)})
    ours: dict[str, Factory] = dict(concept.methods().items())
    ours["kswin"] = lambda: concept.KSWIN(seed=42)
    return [(name, ours[name], river.get(name)) for name in sorted(ours)]


def timed(factory: Factory, values: list[int]) -> tuple[float, list[int]]:
    det = factory()
    found = []
    start = time.perf_counter()
    for i, x in enumerate(values):
        det.update(x)
        if det.drift_detected:
            found.append(i)
    return time.perf_counter() - start, found


def measure(factory: Factory, values: list[int], repeats: int) -> tuple[float, list[int]]:
    """Median updates per second over ``repeats`` fresh runs, and the change points."""
    rates, found = [], []
    for _ in range(repeats):
        seconds, found = timed(factory, values)
        rates.append(len(values) / seconds)
    return statistics.median(rates), found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--kswin-n", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    values = stream(args.n, args.seed)
    rows = []
    began = time.perf_counter()
    for name, ours, theirs in pairs():
        part = values
        if name == "kswin":  # around the first change, so that there is something to find
            lo = max(0, min(EVERY - args.kswin_n // 2, len(values) - args.kswin_n))
            part = values[lo:lo + args.kswin_n]
        ours_rate, ours_found = measure(ours, part, args.repeats)
        river_rate, river_found = (None, None) if theirs is None else measure(
            theirs, part, args.repeats)
        rows.append((name, len(part), ours_rate, river_rate, len(ours_found),
                     None if river_found is None else ours_found == river_found))
        print(f"[concept-bench] {name}: done at {time.perf_counter() - began:.0f}s",
              file=sys.stderr, flush=True)
    print(f"Concept-drift detectors, updates per second (median of {args.repeats}; "
          f"0/1 errors, rate 0.10/0.30 switching every 100k; seed {args.seed}).\n")
    print("| detector | updates | Driftline (upd/s) | River 0.26 (upd/s) | Driftline / River "
          "| detections | same change points |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, n, ours_rate, river_rate, hits, same in rows:
        river_cell = "-" if river_rate is None else f"{river_rate:,.0f}"
        ratio = "-" if river_rate is None else f"{ours_rate / river_rate:.2f}x"
        same_cell = "no River equivalent" if same is None else ("yes" if same else "NO")
        print(f"| {name} | {n:,} | {ours_rate:,.0f} | {river_cell} | {ratio} | {hits} "
              f"| {same_cell} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
