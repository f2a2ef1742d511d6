"""How well CBPE estimates a binary classifier's metrics without labels, under covariate shift.

The stream (the same as ``tests/detectors/estimation``): a latent ``x ~ N(mu, 1)``, the label
``y ~ Bernoulli(sigmoid(2 x))``, the model's score ``sigmoid(1.6 x + 0.2)`` (monotone, mildly
miscalibrated), predictions ``score >= 0.5``. Each of ``references`` repetitions fits
:class:`~detectors.estimation.CBPE` on 5000 reference rows at ``mu = 0`` (its own seed), then
estimates 50 windows of 1000 rows whose ``mu`` drifts from -1 to +1 while ``P(y | score)`` holds.
Per metric: the mean absolute error of the estimate against the window's realized value, the
mean signed error, the share of windows whose realized value lies inside the 95% band, and the
mean band half-width, next to the error of assuming the reference's value; for the streaming
path (``update`` then ``estimate()``) the gap of its histogram ROC AUC to the exact one (its
confusion metrics are the batch ones). A last line shows the blind spot: the same inputs with
``P(y | x)`` flipped, where the estimate stays and realized accuracy falls.

    .venv/bin/python -m benchmarks.cbpe_bench [--references 10]
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from detectors.estimation import CBPE, realized_metrics

REFERENCE_ROWS = 5000
WINDOWS = 50
WINDOW_ROWS = 1000


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1 / (1 + np.exp(-z))
    return out


def draw(rng: np.random.Generator, mu: float, n: int,
         flip: bool = False) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(mu, 1.0, n)
    y = (rng.random(n) < _sigmoid((-2.0 if flip else 2.0) * x)).astype(np.int64)
    return _sigmoid(1.6 * x + 0.2), y


def run(references: int = 10) -> dict[str, Any]:
    """Per metric: ``mae``, ``bias``, ``coverage``, ``half_width`` and ``reference_mae`` (the error
    of assuming the reference's value); the window path's AUC gap; and the blind spot."""
    rows: dict[str, dict[str, list[float]]] = {}
    auc_gap: list[float] = []
    concept: dict[str, list[float]] = {"estimate": [], "realized": [], "inside": []}
    for rep in range(references):
        rng = np.random.default_rng([2024, rep])
        cbpe = CBPE(seed=rep).fit(*draw(rng, 0.0, REFERENCE_ROWS))
        for mu in np.linspace(-1.0, 1.0, WINDOWS):
            scores, labels = draw(rng, float(mu), WINDOW_ROWS)
            realized = realized_metrics(scores, labels, scores >= 0.5)
            cbpe.reset()
            cbpe.update(scores)
            window = {r.metric: r.value for r in cbpe.estimate()}
            for r in cbpe.estimate(scores):
                acc = rows.setdefault(r.metric, {k: [] for k in ("err", "in", "half", "ref")})
                acc["err"].append(r.value - realized[r.metric])
                acc["in"].append(float(r.lower <= realized[r.metric] <= r.upper))
                acc["half"].append((r.upper - r.lower) / 2)
                acc["ref"].append(abs(cbpe.reference_metrics_[r.metric] - realized[r.metric]))
                if r.metric == "roc_auc":
                    auc_gap.append(abs(window[r.metric] - r.value))
        for _ in range(WINDOWS // 2):
            scores, labels = draw(rng, 0.0, WINDOW_ROWS, flip=True)
            est = next(r for r in cbpe.estimate(scores) if r.metric == "accuracy")
            real = realized_metrics(scores, labels, scores >= 0.5, ("accuracy",))["accuracy"]
            concept["estimate"].append(est.value)
            concept["realized"].append(real)
            concept["inside"].append(float(est.lower <= real <= est.upper))
    table = {m: {"mae": float(np.mean(np.abs(v["err"]))), "bias": float(np.mean(v["err"])),
                 "coverage": float(np.mean(v["in"])), "half_width": float(np.mean(v["half"])),
                 "reference_mae": float(np.mean(v["ref"]))}
             for m, v in rows.items()}
    return {"references": references, "windows": references * WINDOWS, "table": table,
            "window_auc_gap_max": max(auc_gap), "window_auc_gap_mean": float(np.mean(auc_gap)),
            "concept_drift": {k: float(np.mean(v)) for k, v in concept.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--references", type=int, default=10)
    args = parser.parse_args(argv)
    out = run(args.references)
    print(f"CBPE under covariate shift: {out['windows']} windows of {WINDOW_ROWS} rows,"
          f" {out['references']} references of {REFERENCE_ROWS}")
    print(f"{'metric':<10}{'MAE':>8}{'bias':>9}{'cover95':>9}{'half-w':>8}{'ref MAE':>9}")
    for metric, v in out["table"].items():
        print(f"{metric:<10}{v['mae']:>8.4f}{v['bias']:>+9.4f}{v['coverage']:>9.1%}"
              f"{v['half_width']:>8.4f}{v['reference_mae']:>9.4f}")
    print(f"window path (100-bin histogram) ROC AUC vs exact: max gap"
          f" {out['window_auc_gap_max']:.1e}, mean {out['window_auc_gap_mean']:.1e}")
    c = out["concept_drift"]
    print(f"pure concept drift (P(y|x) flipped): estimated accuracy {c['estimate']:.3f},"
          f" realized {c['realized']:.3f}, inside band {c['inside']:.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
