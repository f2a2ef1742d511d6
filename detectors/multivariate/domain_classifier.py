"""Domain-classifier drift (classifier two-sample test, Lopez-Paz & Oquab 2017).

A small MLP (one hidden ReLU layer of ``hidden`` units) learns to tell reference rows (label 0)
from current rows (label 1) on a stratified training split; its ROC AUC on the held-out
``test_fraction`` is the statistic. Inputs are standardised with the reference's column mean
and standard deviation, and the loss weights the two classes equally, so unequal sample sizes do
not bias it. Training is full-batch Adam for ``epochs`` steps.

The p-value is a permutation test: the same training is repeated ``n_permutations`` times with
the domain labels shuffled inside the training split and inside the held-out split, and
``p = (1 + #{null AUC >= observed AUC}) / (1 + n_permutations)``. The real and the permuted
models are trained together as one batch of independent networks (a leading model axis on every
weight; the losses are summed, so each model gets exactly its own gradient and Adam state): one
training loop instead of ``n_permutations + 1``. Above ``max_rows`` pooled rows both sides are
subsampled in proportion. All randomness (subsample, split, shuffles, initial weights) comes from
``seed``; results are exactly repeatable on the CPU, and close but not bit-exact on CUDA.

Drift when ``p < threshold`` and ``AUC >= auc_floor``: with large windows a "significant" AUC
of 0.52 is real but too small to act on.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> ref = rng.normal(size=(300, 5))
>>> det = DomainClassifierDrift(device="cpu").fit(ref)
>>> det.update(rng.normal(size=(300, 5)) + np.array([1.0, 0, 0, 0, 0]))
>>> r = det.score()
>>> round(r.statistic, 1), round(r.p_value, 3), r.drifted
(0.8, 0.048, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from scipy import stats

from detectors._base import DetectorError
from detectors.multivariate._base import (
    MultivariateDriftDetector,
    as_rows,
    check_two_samples,
    resolve_device,
    standardize,
)

if TYPE_CHECKING:
    import torch


def _split(m: int, n: int, test_fraction: float, max_rows: int,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row indices into the pooled (reference then current) array, and labels, per split."""
    keep = min(1.0, max_rows / (m + n))
    train, test = [], []
    for offset, size in ((0, m), (m, n)):
        rows = offset + rng.permutation(size)[: max(2, round(size * keep))]
        n_test = min(len(rows) - 1, max(1, round(len(rows) * test_fraction)))
        test.append(rows[:n_test])
        train.append(rows[n_test:])
    return (np.concatenate(train), (np.concatenate(train) >= m).astype(np.float32),
            np.concatenate(test), (np.concatenate(test) >= m).astype(np.float32))


def _label_sets(labels: np.ndarray, n_permutations: int, rng: np.random.Generator) -> np.ndarray:
    """Row 0: the real labels; rows 1..: seeded shuffles of them."""
    return np.vstack([labels, rng.permuted(np.tile(labels, (n_permutations, 1)), axis=1)])


def _init(models: int, fan_in: int, fan_out: int, gen: torch.Generator) -> list[torch.Tensor]:
    """Weights and biases uniform in +-1/sqrt(fan_in), as torch.nn.Linear starts them."""
    import torch

    bound = fan_in ** -0.5
    return [torch.rand(models, fan_in, fan_out, generator=gen) * 2 * bound - bound,
            torch.rand(models, 1, fan_out, generator=gen) * 2 * bound - bound]


def _train(x: torch.Tensor, y: torch.Tensor, hidden: int, epochs: int, lr: float,
           seed: int) -> list[torch.Tensor]:
    """Fit one MLP per row of ``y`` (models x rows of 0/1), all at once; returns the weights.

    Adam is written out (Kingma & Ba 2015, default betas) rather than taken from
    ``torch.optim``, whose constructor imports torch._dynamo: over a second on the first call.
    """
    import torch
    from torch.nn.functional import binary_cross_entropy_with_logits

    gen = torch.Generator().manual_seed(seed)
    params = [w.to(x.device).requires_grad_() for w in
              _init(len(y), x.shape[1], hidden, gen) + _init(len(y), hidden, 1, gen)]
    pos = y.sum(1, keepdim=True)
    balance = y * (0.5 * y.shape[1] / pos) + (1 - y) * (0.5 * y.shape[1] / (y.shape[1] - pos))
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    beta1, beta2 = 0.9, 0.999
    for step in range(1, epochs + 1):
        loss = binary_cross_entropy_with_logits(_forward(x, params), y, weight=balance,
                                                reduction="none").mean(1).sum()
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            size = lr * (1 - beta2**step) ** 0.5 / (1 - beta1**step)
            for p, g, (m, v) in zip(params, grads, moments, strict=True):
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                p.addcdiv_(m, v.sqrt().add_(1e-8), value=-size)
    return [p.detach() for p in params]


def _forward(x: torch.Tensor, params: Sequence[torch.Tensor]) -> torch.Tensor:
    w1, b1, w2, b2 = params
    return ((x @ w1 + b1).relu() @ w2 + b2).squeeze(-1)


def _auc(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """ROC AUC of every row of ``scores`` (ties count half), by the Mann-Whitney rank sum."""
    ranks = stats.rankdata(scores, axis=1)
    pos = labels.sum(1)
    neg = labels.shape[1] - pos
    return np.asarray(((ranks * labels).sum(1) - pos * (pos + 1) / 2) / (pos * neg))


def domain_classifier_test(reference: Any, current: Any, *, n_permutations: int = 20,
                           hidden: int = 32, epochs: int = 50, learning_rate: float = 0.02,
                           test_fraction: float = 0.5, max_rows: int = 20_000, seed: int = 0,
                           device: str = "auto") -> tuple[float, float]:
    """``(held-out AUC, permutation p_value)`` of a classifier told to separate the samples."""
    import torch

    ref, cur = as_rows(reference, "reference"), as_rows(current, "current")
    check_two_samples(ref, cur)
    if not 0 < test_fraction < 1 or n_permutations < 1:
        raise DetectorError("test_fraction must be in (0, 1) and n_permutations >= 1")
    dev = resolve_device(device)
    rng = np.random.default_rng(seed)
    pooled = np.vstack(standardize(ref, cur)).astype(np.float32)
    train, y_train, test, y_test = _split(len(ref), len(cur), test_fraction, max_rows, rng)
    y_train_all = _label_sets(y_train, n_permutations, rng)
    y_test_all = _label_sets(y_test, n_permutations, rng)
    x_train = torch.as_tensor(pooled[train], device=dev)
    weights = _train(x_train, torch.as_tensor(y_train_all, device=dev), hidden, epochs,
                     learning_rate, seed)
    with torch.no_grad():
        scores = _forward(torch.as_tensor(pooled[test], device=dev), weights).cpu().numpy()
    aucs = _auc(scores, y_test_all)
    p_value = (1 + int((aucs[1:] >= aucs[0]).sum())) / (n_permutations + 1)
    return float(aucs[0]), p_value


class DomainClassifierDrift(MultivariateDriftDetector):
    """Classifier two-sample test; drift when ``p < threshold`` and ``AUC >= auc_floor``."""

    method: ClassVar[str] = "domain_classifier"

    def __init__(self, threshold: float = 0.05, auc_floor: float = 0.55,
                 n_permutations: int = 20, hidden: int = 32, epochs: int = 50,
                 learning_rate: float = 0.02, test_fraction: float = 0.5,
                 sample_size: int = 1000, seed: int = 0, device: str = "auto") -> None:
        self.threshold = threshold
        self.auc_floor = auc_floor
        self.n_permutations = n_permutations
        self.hidden = hidden
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.test_fraction = test_fraction
        self.sample_size = sample_size
        self.seed = seed
        self.device = device
        super().__init__(n_permutations)

    def _test(self, reference: np.ndarray, current: np.ndarray, device: str) -> tuple[float, float]:
        return domain_classifier_test(
            reference, current, n_permutations=self.n_permutations, hidden=self.hidden,
            epochs=self.epochs, learning_rate=self.learning_rate,
            test_fraction=self.test_fraction, seed=self.seed, device=device)

    def _decide(self, statistic: float, p_value: float) -> bool:
        return p_value < self.threshold and statistic >= self.auc_floor
