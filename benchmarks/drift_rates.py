"""False alarms on drift-free windows and detection power on drifted ones, in both modes.

For each of ``references`` independent references (5000 rows each, its own seed) and each window
size, drift-free windows are drawn from the same generator and put into a ``WindowState``
(:func:`benchmarks.drift_data.fill`, checked against ``WindowState.update``). Each window's
records are computed twice, with ``drift.mode: calibrated`` (defaults: ``false_alarm_rate``
0.01, Benjamini-Hochberg) and with ``drift.mode: evidently``: the same windows in both modes.

Power reuses the first ``power`` windows of each reference and size: one feature is changed (a
mean shift of ``num_00``, a normal feature, by ``d`` standard deviations; or ``f`` of the mass of
``cat_0``'s most frequent category moved to its least frequent one) and the window is evaluated
again with ``monitor.drift_eval.evaluate`` (what ``compute_window_records`` calls): in calibrated
mode over all 25 features, since the correction couples them; in evidently mode over the changed
feature alone, since its verdict depends on nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks import drift_data

REFERENCE_ROWS = 5000
NUMERIC_TARGET = "num_00"
CATEGORICAL_TARGET = "cat_0"
FALSE_ALARM_RATE = 0.01  # drift.false_alarm_rate's default, which the configurations keep


@dataclass(frozen=True)
class Task:
    reference: int
    size: int
    windows: int
    power: int
    shifts: tuple[float, ...]
    mixes: tuple[float, ...]


def _seed(*key: int) -> int:
    return int(np.random.SeedSequence(list(key)).generate_state(1)[0])


def _far_counts(records: list[Any], counts: dict[str, int], mode: str) -> None:
    feats = [r for r in records if r.family == "data_drift" and r.feature]
    share = next(r for r in records if r.family == "data_drift" and r.metric == "drift_share")
    alerts = [r for r in feats if r.status == "alert"]
    rejects = [r for r in feats if r.status in ("alert", "warning")]
    counts[f"{mode}:any_alert"] += bool(alerts)
    counts[f"{mode}:any_reject"] += bool(rejects)
    counts[f"{mode}:dataset"] += share.status == "alert"
    counts[f"{mode}:alerts_numeric"] += sum(r.feature in drift_data.NUMERIC for r in alerts)
    counts[f"{mode}:alerts_categorical"] += sum(r.feature in drift_data.CATEGORICAL
                                                for r in alerts)
    counts[f"{mode}:rejects"] += len(rejects)
    if mode == "calibrated":  # p-values in the tail that decides the first BH step
        level = FALSE_ALARM_RATE / len(feats)
        for kind, names in (("numeric", drift_data.NUMERIC),
                            ("categorical", drift_data.CATEGORICAL)):
            counts[f"p<level:{kind}"] += sum(r.p_value is not None and r.p_value <= level
                                             for r in feats if r.feature in names)


def _variants(base: drift_data.Table, sample: Any, task: Task, w: int) -> Iterable[
        tuple[str, str, Any, np.ndarray | None]]:
    """(scenario, feature, its window histogram values, its sample column or None) per change."""
    col = base.numeric[NUMERIC_TARGET]
    std = drift_data.numeric_std(drift_data.NUMERIC.index(NUMERIC_TARGET))
    for d in task.shifts:
        yield (f"mean+{d:g}sd", NUMERIC_TARGET, col + d * std,
               sample.data[NUMERIC_TARGET] + d * std)
    cats = base.categorical[CATEGORICAL_TARGET]
    j = drift_data.CATEGORICAL.index(CATEGORICAL_TARGET)
    p0, vocab = drift_data.mix(j)[0], drift_data.vocabulary(j)
    u = np.random.default_rng(_seed(task.reference, task.size, w, 77)).random(len(cats))
    for f in task.mixes:
        moved = cats.copy()
        moved[(cats == vocab[0]) & (u < f / p0)] = vocab[-1]
        yield f"mix {f:.0%}", CATEGORICAL_TARGET, moved, None


def _power(task: Task, w: int, base: drift_data.Table, state: Any, profile: Any,
           configs: dict[str, Any], counts: dict[str, int]) -> None:
    from detectors.sample import RowSample
    from monitor.drift_eval import Subject, evaluate

    cache = profile.cache.setdefault("data_drift", {})
    for scenario, feature, values, sample_col in _variants(base, state.sample, task, w):
        hist = profile.features[feature].new_state()
        if sample_col is None:
            hist.update_raw(values.tolist())
        else:
            hist.update(values)
        sample = state.sample
        if sample_col is not None:
            sample = RowSample(sample.size, sample.columns, sample.dims)
            sample.n_seen, sample.priorities = state.sample.n_seen, state.sample.priorities
            sample.data = {**state.sample.data, feature: sample_col}
        subjects = [Subject(name, name, profile.features[name],
                            hist if name == feature else state.features[name])
                    for name in state.features]
        target = next(s for s in subjects if s.name == feature)
        for mode, chosen in (("calibrated", subjects), ("evidently", [target])):
            verdicts = evaluate(configs[mode].drift, chosen, profile.sample, sample, cache)
            status = next(v.status for v in verdicts if v.feature == feature)
            counts[f"{scenario}|{mode}:alert"] += status == "alert"
            counts[f"{scenario}|{mode}:reject"] += status in ("alert", "warning")
        counts[f"{scenario}|windows"] += 1


def run_task(task: Task) -> dict[str, Any]:
    """Counts for one reference and window size (runs in a worker process)."""
    from collections import Counter

    from detectors.sample import counter_priorities
    from monitor.records import IngestionCounts, compute_window_records
    from monitor.window_state import WindowState

    configs = {m: drift_data.model_config(m) for m in ("calibrated", "evidently")}
    profile = drift_data.profile(configs["calibrated"],
                                 drift_data.table(REFERENCE_ROWS, (1000 + task.reference, 0)))
    counts: Counter[str] = Counter()
    for w in range(task.windows):
        base = drift_data.table(task.size, (1000 + task.reference, task.size, w))
        state = WindowState(configs["calibrated"], profile)
        drift_data.fill(state, base,
                        counter_priorities(0, task.size, _seed(task.reference, task.size, w)))
        for mode, cfg in configs.items():
            records = compute_window_records(cfg, profile, drift_data.START_MS, state,
                                             IngestionCounts())
            _far_counts(records, counts, mode)
        counts["windows"] += 1
        if w < task.power:
            _power(task, w, base, state, profile, configs, counts)
    return {"reference": task.reference, "size": task.size, "counts": dict(counts)}


def run(tasks: list[Task], workers: int, log: Any) -> list[dict[str, Any]]:
    """Every task, on ``workers`` processes (largest windows first, for an even finish)."""
    ordered = sorted(tasks, key=lambda t: -t.size * t.windows)
    out = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for result in pool.map(run_task, ordered):
            log(f"  reference {result['reference']}, windows of {result['size']:,}: "
                f"{result['counts']['windows']} windows done")
            out.append(result)
    return sorted(out, key=lambda r: (r["size"], r["reference"]))


def tail_check(sizes: list[int], resamples: int = 100_000) -> list[dict[str, Any]]:
    """Where the calibrated test puts its critical value for ``alpha / m``, against a null of
    ``resamples`` draws: the true chance, under the null, of reaching that value.

    Uses reference 0's profile, ``num_00`` (normed Wasserstein) and ``cat_0`` (Jensen-Shannon),
    with the same seed derivation and number of resamples as ``monitor.drift_eval``
    (``4 m / alpha``, 10 000 for 25 features at 0.01).
    """
    from detectors.drift.calibration import critical_value
    from monitor.drift_eval import Subject, _calibrator

    cfg = drift_data.model_config("calibrated")
    profile = drift_data.profile(cfg, drift_data.table(REFERENCE_ROWS, (1000, 0)))
    level = FALSE_ALARM_RATE / (len(drift_data.NUMERIC) + len(drift_data.CATEGORICAL))
    big = drift_data.model_config("calibrated", resamples=resamples)
    used = min(max(cfg.drift.resamples, int(np.ceil(4 / level))), 100_000)
    out = []
    for feature in (NUMERIC_TARGET, CATEGORICAL_TARGET):
        subject = Subject(feature, feature, profile.features[feature], None)
        test = _calibrator(cfg.drift, subject, {})
        reference = _calibrator(big.drift, subject, {})
        for n in sizes:
            crit = critical_value(test.null(n, used), level)
            null = reference.null(n)
            out.append({"feature": feature, "statistic": test.statistic, "n": n, "used": used,
                        "level": level, "critical": crit,
                        "true_tail": float((null >= crit).mean()),
                        "critical_true": float(np.quantile(null, 1 - level))})
    return out


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a binomial proportion ``k / n``."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts summed over references, per window size; per-reference rates kept."""
    by_size: dict[str, Any] = {}
    for r in results:
        entry = by_size.setdefault(str(r["size"]), {"counts": {}, "per_reference": {}})
        for key, value in r["counts"].items():
            entry["counts"][key] = entry["counts"].get(key, 0) + value
        c = r["counts"]
        entry["per_reference"][str(r["reference"])] = {
            "windows": c["windows"], "calibrated:any_alert": c.get("calibrated:any_alert", 0),
            "calibrated:any_reject": c.get("calibrated:any_reject", 0)}
    return by_size
