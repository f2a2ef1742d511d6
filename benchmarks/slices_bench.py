"""Worst-slice discovery: time of ``worst_slices`` on one window by rows, dimensions and values.

    python -m benchmarks.slices_bench                  # 10k and 100k rows, median of 3
    python -m benchmarks.slices_bench --rows 10000     # a quick look

Each window has ``dims`` independent uniform dimensions of ``values`` values each and a 0/1 bad
flag at rate 0.10 (seeded). The call is timed with the dimensions as columns (``{dim: list}``)
and as one dictionary per row (the shape of decoded events); both include every single and pair
slice, ``min_support=30``, ``max_slices=2000`` and Benjamini-Hochberg at 5%. "slices >= support"
counts the slices with at least 30 rows before the ``max_slices`` cap; "tested" after it. Not
part of ``benchmarks.run``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from itertools import combinations
from typing import Any

import numpy as np

from detectors.slices import slice_counts, worst_slices

DIMS = (2, 4, 8)
VALUES = (5, 20, 100)


def window(rows: int, dims: int, values: int, seed: int) -> tuple[dict[str, list[str]],
                                                                   np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.array([f"v{i:03d}" for i in range(values)])
    cols = {f"d{j}": labels[rng.integers(0, values, rows)].tolist() for j in range(dims)}
    return cols, (rng.random(rows) < 0.10).astype(np.int64)


def median_seconds(call: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def supported(cols: dict[str, list[str]], bad: np.ndarray) -> int:
    counts = slice_counts(cols, bad)
    return sum(n >= 30 for n, _ in counts.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    lines = []
    for rows in args.rows:
        for dims in DIMS:
            for values in VALUES:
                cols, bad = window(rows, dims, values, args.seed)
                dicts = [dict(zip(cols, vals, strict=True)) for vals in zip(*cols.values(),
                                                                            strict=True)]
                col_s, found = median_seconds(partial(worst_slices, cols, bad), args.repeats)
                row_s, _ = median_seconds(partial(worst_slices, dicts, bad), args.repeats)
                pairs = len(list(combinations(range(dims), 2)))
                lines.append((rows, dims, values, dims * values + pairs * values * values,
                              supported(cols, bad), len(found),
                              sum(r.significant for r in found), col_s, row_s))
                print(f"[slices-bench] {rows} rows, {dims} dims x {values} values: "
                      f"{col_s * 1000:.1f} ms", file=sys.stderr, flush=True)
    print(f"worst_slices per window, median of {args.repeats} (singles and pairs, "
          f"min_support=30, max_slices=2000, bad rate 0.10, seed {args.seed}).\n")
    print("| rows | dims | values/dim | possible slices | slices >= support | tested "
          "| significant | columns (ms) | row dicts (ms) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rows, dims, values, possible, sup, tested, sig, col_s, row_s in lines:
        print(f"| {rows:,} | {dims} | {values} | {possible:,} | {sup:,} | {tested:,} | {sig} "
              f"| {col_s * 1000:,.1f} | {row_s * 1000:,.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
