"""Seeded binary-classification streams for the estimation tests.

A latent ``x ~ N(mu, 1)``; the label ``y ~ Bernoulli(sigmoid(2 x))`` (``sigmoid(-2 x)`` when
``flip``: pure concept drift, the inputs unchanged); the model's score ``sigmoid(1.6 x + 0.2)`` is
monotone in ``x`` but mildly miscalibrated, so an isotonic fit recovers ``P(y | score)``.
"""

from __future__ import annotations

import numpy as np

WINDOWS = 50
WINDOW_ROWS = 1000
REFERENCE_ROWS = 5000


def sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1 / (1 + np.exp(-z))
    return out


def draw(rng: np.random.Generator, mu: float, n: int,
         flip: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, labels)`` of ``n`` rows."""
    x = rng.normal(mu, 1.0, n)
    y = (rng.random(n) < sigmoid((-2.0 if flip else 2.0) * x)).astype(np.int64)
    return sigmoid(1.6 * x + 0.2), y


def covariate_shift_means() -> np.ndarray:
    """The windows' input means: a drift from -1 to +1 (P(y | score) fixed)."""
    return np.linspace(-1.0, 1.0, WINDOWS)
