"""Timing of the multivariate drift tests (MMD, domain classifier) on one device.

Runs in a child process (``python -m benchmarks.child drift_multivariate JSON``), or alone on a
lent GPU machine through ``python -m benchmarks.drift_bench --only multivariate --device cuda``.
Per shape (tabular: ``rows`` x 25 columns, the 20 numeric features and the 5 categorical ones as
integer codes, current with the comparison's drift; embeddings: ``rows`` x ``dim`` normal
vectors, the current's first 16 components shifted by 0.1), two things are timed:

- ``detector``: what Driftline runs per window with the default parameters: ``fit`` on the
  reference, ``update`` with the current in batches of 5000 rows, ``score`` (both sides kept as
  bounded samples of ``sample_size`` = 1000 rows);
- ``full``: the test function on every row of both sides (``mmd_test`` after standardising by the
  reference, block MMD above 2000 pooled rows; ``domain_classifier_test``, which subsamples to
  ``max_rows`` = 20,000 pooled rows).

Reference and current have the same number of rows. Each figure is the median of 3 runs, or of
1 run when the first took more than ``SLOW_S`` seconds (the count is recorded). A small untimed
run first loads torch's kernels (and creates the CUDA context).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import common, drift_data

SLOW_S = 15.0
BATCH = 5000


def _tabular(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from benchmarks.drift_compare import DRIFTED

    def matrix(t: drift_data.Table) -> np.ndarray:
        codes = [np.unique(c, return_inverse=True)[1].astype(np.float64)
                 for c in t.categorical.values()]
        return np.column_stack([*t.numeric.values(), *codes])

    return (matrix(drift_data.table(n, (seed, 0))),
            matrix(drift_data.table(n, (seed, 1), DRIFTED)))


def _embeddings(n: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ref, cur = rng.normal(size=(n, dim)), rng.normal(size=(n, dim))
    cur[:, :16] += 0.1
    return ref, cur


def _device_name(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        return str(torch.cuda.get_device_name(torch.device(device)))
    return f"{common.machine()['cpu']}, {torch.get_num_threads()} torch threads"


def _detector(method: str, device: str) -> Callable[[np.ndarray, np.ndarray], Any]:
    from detectors.multivariate.domain_classifier import DomainClassifierDrift
    from detectors.multivariate.mmd import MMDDrift

    def run(ref: np.ndarray, cur: np.ndarray) -> Any:
        det = (MMDDrift if method == "mmd" else DomainClassifierDrift)(device=device)
        det.fit(ref)
        for start in range(0, len(cur), BATCH):
            det.update(cur[start:start + BATCH])
        r = det.score()
        return r.statistic, r.p_value

    return run


def _full(method: str, device: str) -> Callable[[np.ndarray, np.ndarray], Any]:
    from detectors.multivariate._base import standardize
    from detectors.multivariate.domain_classifier import domain_classifier_test
    from detectors.multivariate.mmd import mmd_test

    def run(ref: np.ndarray, cur: np.ndarray) -> Any:
        if method == "mmd":
            return mmd_test(*standardize(ref, cur), device=device)
        return domain_classifier_test(ref, cur, device=device)

    return run


def _timed(fn: Callable[[np.ndarray, np.ndarray], Any], ref: np.ndarray, cur: np.ndarray,
           device: str, repeats: int) -> dict[str, Any]:
    import torch

    seconds: list[float] = []
    result: Any = None
    while len(seconds) < repeats:
        started = time.perf_counter()
        result = fn(ref, cur)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - started)
        if seconds[0] > SLOW_S:
            break
    return {"seconds": seconds, "median_s": statistics.median(seconds),
            "statistic": float(result[0]), "p_value": float(result[1])}


def measure(args: dict[str, Any]) -> dict[str, Any]:
    """Every (shape, method, path) on ``args["device"]`` (auto: CUDA when torch sees one)."""
    from detectors.multivariate._base import resolve_device

    device = resolve_device(args.get("device", "auto"))
    repeats = int(args.get("repeats", 3))
    warm = np.random.default_rng(0).normal(size=(300, 25))
    for method in ("mmd", "domain_classifier"):
        _full(method, device)(warm, warm + 1.0)
        _detector(method, device)(warm, warm + 1.0)
    cases = []
    shapes = [("tabular", n, 25) for n in args["rows"]]
    shapes += [("embedding", n, d) for n, d in args.get("embeddings", [])]
    for kind, n, dim in shapes:
        ref, cur = _tabular(n, 21) if kind == "tabular" else _embeddings(n, dim, 21)
        for method in ("mmd", "domain_classifier"):
            for path, make in (("detector", _detector), ("full", _full)):
                common.log(f"  {method} ({path}) on {n:,} x {dim}, {device}")
                cases.append({"kind": kind, "rows": n, "dim": dim, "method": method,
                              "path": path,
                              **_timed(make(method, device), ref, cur, device, repeats)})
    return {"device": device, "device_name": _device_name(device), "cases": cases,
            "load_avg": list(_load())}


def _load() -> tuple[float, float, float]:
    import os

    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3
