"""``multivariate_drift`` records: all numeric features jointly, and each embedding feature.

Both run on the bounded row samples (the window's ``drift.sample_size`` rows against the
reference's ``drift.reference_sample_size``), with MMD (RBF kernel, median heuristic, permutation
test) or a domain classifier (``drift.multivariate.method``). Numeric features are standardised
by the reference's mean and standard deviation; a missing value becomes the reference mean.
Torch is imported only here, and only when a window is tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detectors.sample import RowSample
from monitor.config import ModelConfig

OK, ALERT, INSUFFICIENT = "ok", "alert", "insufficient_data"


@dataclass(frozen=True)
class JointVerdict:
    feature: str | None
    method: str
    value: float | None
    threshold: float
    p_value: float | None
    n: int
    status: str


def _numeric_rows(config: ModelConfig, reference: RowSample,
                  window: RowSample) -> tuple[np.ndarray, np.ndarray]:
    names = [f.name for f in config.features
             if f.type == "numeric" and reference.columns.get(f.name) == "numeric"]
    ref = np.column_stack([reference.data[n] for n in names]) if names else np.zeros((0, 0))
    cur = np.column_stack([window.data[n] for n in names]) if names else np.zeros((0, 0))
    if ref.size == 0 or cur.size == 0:
        return ref, cur
    mean = np.nanmean(ref, axis=0)
    std = np.nanstd(ref, axis=0)
    mean = np.where(np.isnan(mean), 0.0, mean)
    std = np.where(np.isnan(std) | (std == 0), 1.0, std)
    ref = np.where(np.isnan(ref), mean, ref)
    cur = np.where(np.isnan(cur), mean, cur)
    return (ref - mean) / std, (cur - mean) / std


def _run(config: ModelConfig, feature: str | None, ref: np.ndarray,
         cur: np.ndarray, seed: int) -> JointVerdict:
    mv = config.drift.multivariate
    method = mv.method
    if len(cur) < mv.min_samples or len(ref) < mv.min_samples or ref.shape[1] == 0:
        return JointVerdict(feature, method, None, mv.threshold, None, len(cur), INSUFFICIENT)
    # A reference subsample as large as the window's sample keeps the test one kernel block.
    ref = ref[: max(len(cur), mv.min_samples)]
    if method == "mmd":
        from detectors.multivariate.mmd import mmd_test

        stat, p = mmd_test(ref, cur, n_permutations=mv.n_permutations, seed=seed,
                           device=mv.device)
        drifted = p < mv.threshold
    else:
        from detectors.multivariate.domain_classifier import domain_classifier_test

        stat, p = domain_classifier_test(ref, cur, n_permutations=mv.n_permutations,
                                         seed=seed, device=mv.device)
        drifted = p < mv.threshold and stat >= 0.55
    return JointVerdict(feature, method, stat, mv.threshold, p, len(cur),
                        ALERT if drifted else OK)


def evaluate_multivariate(config: ModelConfig, reference: RowSample | None,
                          window: RowSample) -> list[JointVerdict]:
    """One verdict for the numeric features together (if at least two) and one per embedding."""
    mv = config.drift.multivariate
    if not mv.enabled or reference is None:
        return []
    out = []
    numeric = [f for f in config.features if f.type == "numeric"]
    seed = config.drift.seed
    if len(numeric) >= 2:
        ref, cur = _numeric_rows(config, reference, window)
        out.append(_run(config, None, ref, cur, seed))
    for spec in config.features:
        if spec.type == "embedding" and spec.name in reference.columns:
            out.append(_run(config, spec.name, reference.embeddings(spec.name).astype(np.float64),
                            window.embeddings(spec.name).astype(np.float64), seed))
    return out
