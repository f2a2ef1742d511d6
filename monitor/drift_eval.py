"""Per-feature drift verdicts of one window, in the model's selection mode.

``calibrated`` (default): every feature's histogram statistic (normed Wasserstein for numbers and
embedding norms, Jensen-Shannon for categories) gets a p-value from the reference resampled at
the window's size (:mod:`detectors.drift.calibration`); the p-values of one window are corrected
together (Benjamini-Hochberg or Bonferroni) at ``drift.false_alarm_rate``. A rejected feature is
an ``alert`` when its statistic also reaches the effect-size floor, else a ``warning`` (a real but
negligible shift). ``evidently``: Evidently's default test and threshold per feature
(:mod:`detectors.drift.selection`). ``drift.method`` other than ``auto`` forces one test.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from detectors.drift import default_threshold, methods
from detectors.drift.calibration import CalibratedTest, critical_value, midpoint_gaps
from detectors.drift.correction import correct
from detectors.drift.selection import evidently_choice
from detectors.histograms import CategoryCounts, NumericHistogram
from detectors.profile import CategoricalProfile, NumericProfile, Profile
from detectors.sample import RowSample
from monitor.config import DriftConfig

OK, WARNING, ALERT, INSUFFICIENT = "ok", "warning", "alert", "insufficient_data"
Hist = NumericHistogram | CategoryCounts
EVIDENTLY_INCLUSIVE = frozenset({"ks"})


@dataclass(frozen=True)
class Verdict:
    """One feature's drift record before it becomes a :class:`MetricRecord`."""

    feature: str
    method: str
    value: float | None
    threshold: float | None
    p_value: float | None
    n: int
    status: str


@dataclass(frozen=True)
class Subject:
    """What one feature (or score, or prediction) brings to the evaluation."""

    name: str
    column: str
    profile: Profile | None
    state: Hist | None


def _kind(profile: Profile) -> str:
    return "categorical" if isinstance(profile, CategoricalProfile) else "numeric"


def _default_method(mode: str) -> str:
    return "wasserstein" if mode == "numeric" else "jensenshannon"


def evaluate(drift: DriftConfig, subjects: list[Subject], reference: RowSample | None,
             window: RowSample, cache: dict[str, CalibratedTest]) -> list[Verdict]:
    """Verdicts for ``subjects``, corrected together in calibrated mode."""
    ready: list[Subject] = []
    out: dict[str, Verdict] = {}
    for s in subjects:
        n = s.state.n if s.state is not None else 0
        if (s.profile is None or s.state is None or sum(s.profile.reference_counts_) == 0
                or n < drift.min_samples):
            method = (drift.method if drift.method != "auto" else
                      _default_method(_kind(s.profile)) if s.profile is not None else "none")
            out[s.name] = Verdict(s.name, method, None, None, None, n, INSUFFICIENT)
        else:
            ready.append(s)
    if drift.method != "auto":
        verdicts = [_forced(drift, s, reference, window) for s in ready]
    elif drift.mode == "evidently":
        verdicts = [_evidently(s, reference, window) for s in ready]
    else:
        verdicts = _calibrated(drift, ready, cache)
    out.update({v.feature: v for v in verdicts})
    return [out[s.name] for s in subjects]


def _calibrated(drift: DriftConfig, subjects: list[Subject],
                cache: dict[str, CalibratedTest]) -> list[Verdict]:
    level = drift.false_alarm_rate / max(len(subjects), 1)
    # Enough resamples that the smallest Monte Carlo p-value, 1 / (B + 1), is a quarter of the
    # Bonferroni level: a strong shift is always resolved, whatever the number of features.
    resamples = min(max(drift.resamples, math.ceil(4 / level)), 100_000)
    results = []
    for s in subjects:
        assert s.profile is not None
        assert s.state is not None
        test = _calibrator(drift, s, cache)
        results.append((s, test, test.test(s.state.counts, resamples)))
    rejected = correct([r.p_value for _, _, r in results], drift.false_alarm_rate,
                       drift.correction)
    verdicts = []
    for (s, test, r), reject in zip(results, rejected, strict=True):
        floor = (drift.effect_size_floor.categorical if test.statistic == "jensenshannon"
                 else drift.effect_size_floor.numeric)
        threshold = max(floor, critical_value(test.null(r.n, resamples), level))
        status = (ALERT if reject and r.statistic >= floor else WARNING if reject else OK)
        verdicts.append(Verdict(s.name, test.statistic, r.statistic, threshold, r.p_value, r.n,
                                status))
    return verdicts


def _calibrator(drift: DriftConfig, s: Subject, cache: dict[str, CalibratedTest]
                ) -> CalibratedTest:
    key = f"{s.name}:{drift.resamples}:{drift.seed}"
    test = cache.get(key)
    if test is None:
        p = s.profile
        ref = np.asarray(p.reference_counts_ if p is not None else [], dtype=np.int64)
        seed = drift.seed * 1_000_003 + sum(map(ord, s.name))
        if isinstance(p, NumericProfile):
            gaps = midpoint_gaps(p.bin_edges_ or [], p.min_, p.max_)
            test = CalibratedTest("wasserstein", ref, gaps=gaps, scale=p.std_,
                                  resamples=drift.resamples, seed=seed)
        else:
            test = CalibratedTest("jensenshannon", ref, resamples=drift.resamples, seed=seed)
        cache[key] = test
    return test


def _values(sample: RowSample | None, column: str) -> np.ndarray:
    if sample is None or column not in sample.columns:
        return np.zeros(0)
    kind = sample.columns[column]
    if kind == "embedding":
        norms: np.ndarray = np.linalg.norm(sample.embeddings(column).astype(np.float64), axis=1)
        return norms
    if kind == "categorical":
        return np.zeros(0)
    return sample.numeric(column)


def _value_counts(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = sorted(set(ref.tolist()) | set(cur.tolist()))
    rc, cc = Counter(ref.tolist()), Counter(cur.tolist())
    return (np.asarray([rc[k] for k in keys], dtype=np.int64),
            np.asarray([cc[k] for k in keys], dtype=np.int64))


def _evidently(s: Subject, reference: RowSample | None, window: RowSample) -> Verdict:
    assert s.profile is not None
    assert s.state is not None
    kind = _kind(s.profile)
    if kind == "numeric" and s.profile.__class__ is NumericProfile:
        ref, cur = _values(reference, s.column), _values(window, s.column)
        n_unique = len(np.unique(np.concatenate([ref, cur])))
        method, threshold = evidently_choice("numeric", s.profile.n_, n_unique)
        if method in ("ks", "wasserstein"):
            return _run(s.name, method, threshold, ref, cur, s.state.n)
        rc, cc = _value_counts(ref, cur)
        return _run(s.name, method, threshold, rc, cc, s.state.n)
    ref_counts = np.asarray(s.profile.reference_counts_, dtype=np.int64)
    cur_counts = s.state.counts
    n_unique = int(np.count_nonzero((ref_counts + cur_counts) > 0))
    method, threshold = evidently_choice("categorical", s.profile.n_, n_unique)
    return _run(s.name, method, threshold, ref_counts, cur_counts, s.state.n)


def _forced(drift: DriftConfig, s: Subject, reference: RowSample | None,
            window: RowSample) -> Verdict:
    assert s.profile is not None
    assert s.state is not None
    method = drift.method
    cls = methods()[method]
    if method == "psi":
        counts = _coarse(s.profile, s.state)
        value = float(cls.statistic(*counts)[0])
        status = ALERT if value >= drift.alert else WARNING if value >= drift.warning else OK
        return Verdict(s.name, method, value, drift.alert, None, s.state.n, status)
    threshold = drift.threshold if drift.threshold is not None else default_threshold(method)
    if cls.input == "sample":
        if _kind(s.profile) != "numeric":
            return Verdict(s.name, method, None, threshold, None, s.state.n, INSUFFICIENT)
        ref, cur = _values(reference, s.column), _values(window, s.column)
        return _run(s.name, method, threshold, ref, cur, s.state.n)
    return _run(s.name, method, threshold, *_coarse(s.profile, s.state), s.state.n)


def _coarse(profile: Profile, state: Hist) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(profile, NumericProfile):
        return (np.asarray(profile.coarse_counts(profile.reference_counts_)),
                np.asarray(profile.coarse_counts(state.counts)))
    return np.asarray(profile.reference_counts_), state.counts


def _run(name: str, method: str, threshold: float, ref: np.ndarray, cur: np.ndarray,
         n: int) -> Verdict:
    cls = methods()[method]
    empty = (len(ref) == 0 or len(cur) == 0 if cls.input == "sample"
             else min(np.sum(ref), np.sum(cur)) <= 0)
    if empty:
        return Verdict(name, method, None, threshold, None, n, INSUFFICIENT)
    stat, p = cls.statistic(ref, cur)
    # Evidently 0.7's KS drifts at p <= threshold (its other p-value tests at p < threshold).
    inclusive = method in EVIDENTLY_INCLUSIVE
    drifted = ((p is not None and (p <= threshold if inclusive else p < threshold))
               if cls.p_value_based else stat >= threshold)
    return Verdict(name, method, float(stat), threshold, None if p is None else float(p), n,
                   ALERT if drifted else OK)
