"""Seeded binary streams whose true metric values are known in closed form.

Each row's label is 1 with probability ``prevalence``; the prediction is right with probability
``r0`` on class 0 and ``r1`` on class 1, independently; the score is uniform on ``[0.5, 1)`` for a
predicted 1 and on ``[0, 0.5)`` for a predicted 0, so ``score >= 0.5`` is the prediction. Then
accuracy is ``(1 - prevalence) r0 + prevalence r1`` and balanced accuracy ``(r0 + r1) / 2``.
"""

from __future__ import annotations

import numpy as np

PREVALENCE, R0, R1 = 0.3, 0.9, 0.75
ACCURACY = (1 - PREVALENCE) * R0 + PREVALENCE * R1
BALANCED_ACCURACY = (R0 + R1) / 2


def stream(rng: np.random.Generator, n: int, prevalence: float = PREVALENCE, r0: float = R0,
           r1: float = R1) -> tuple[np.ndarray, np.ndarray]:
    """``(y_true, score)`` of ``n`` rows."""
    y = (rng.random(n) < prevalence).astype(float)
    right = rng.random(n) < np.where(y == 1, r1, r0)
    pred = np.where(right, y, 1 - y)
    score = np.where(pred == 1, rng.uniform(0.5, 1.0, n), rng.uniform(0.0, 0.5, n))
    return y, score


def logistic_scores(seed: int, n: int, prevalence: float, decimals: int | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Labels and probabilities of a logistic model; rounding to ``decimals`` makes ties."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(int)
    score = 1.0 / (1.0 + np.exp(-(rng.normal(0.0, 1.0, n) + 2.0 * y - 1.0)))
    if decimals is not None:
        score = np.round(score, decimals)
    return y, score
