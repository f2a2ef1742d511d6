"""The drift sections of docs/benchmarks.md (5 to 8), from :mod:`benchmarks.drift_bench` results."""

from __future__ import annotations

import math
import statistics
from typing import Any

from benchmarks.common import median
from benchmarks.drift_compare import DRIFTED
from benchmarks.drift_rates import wilson
from benchmarks.report import _k, _n, _table

BEGIN = "<!-- drift benchmarks: begin (python -m benchmarks.drift_bench) -->"
END = "<!-- drift benchmarks: end -->"
DRIFTED_NAMES = {s.feature for s in DRIFTED}
EVIDENTLY_NAMES = {"wasserstein": "Wasserstein (normed)", "jensenshannon": "Jensen-Shannon",
                   "ks": "K-S", "chisquare": "chi-square", "z": "Z-test"}


def _med(runs: list[dict[str, Any]], key: str) -> float:
    return median([float(r[key]) for r in runs if r.get(key) is not None])


def _pct(k: int, n: int, digits: int = 1) -> str:
    return "n/a" if n == 0 else f"{100 * k / n:.{digits}f}%"


def _rate(k: int, n: int) -> str:
    """``p% (SE s; 95% CI lo-hi)`` with a Wilson interval."""
    if n == 0:
        return "n/a"
    p = k / n
    lo, hi = wilson(k, n)
    return (f"{100 * p:.2f}% (SE {100 * math.sqrt(p * (1 - p) / n):.2f}; "
            f"{100 * lo:.2f}-{100 * hi:.2f})")


def _meta_line(meta: dict[str, Any] | None) -> str:
    if not meta:
        return ""
    m = meta["machine"]
    load = meta.get("load_before") or []
    return (f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores), revision "
            f"{m['revision']}, {'quick plan' if meta.get('quick') else 'full plan'}; took "
            f"{_n(meta['seconds'] / 60, 1)} min; load average before: "
            f"{', '.join(f'{x:.1f}' for x in load) or 'n/a'} (other work shares the machine).")


# ------------------------------------------------------------------ 5. against Evidently
def _methods(case: dict[str, Any]) -> str:
    ev = case["evidently"][0].get("verdicts", {})
    names = sorted({EVIDENTLY_NAMES.get(v["method"], v["method"]) for v in ev.values()})
    return ", ".join(names) or "n/a"


def _why(column: str, d: dict[str, Any], case: dict[str, Any], sample: int) -> str:
    ours, theirs = d["driftline"] or {}, d["evidently"]
    if ours.get("method") != theirs["method"]:
        return (f"test differs: Driftline {ours.get('method')}, Evidently {theirs['method']} "
                "(unexpected: both choose from reference rows and distinct values)")
    side = (f"Driftline {_n(ours.get('value'), 4)} ({'drift' if ours.get('drifted') else 'no'}),"
            f" Evidently {_n(theirs['value'], 4)} ({'drift' if theirs['drifted'] else 'no'})")
    if column.startswith("num") and sample < case["n_rows"]:
        return (f"{side}: Driftline's evidently mode tests numeric columns on its row sample "
                f"of {_n(sample)} of the {_n(case['n_rows'])} window rows (bottom-k by event-id "
                "hash), Evidently on every row; near the threshold the two estimates can fall "
                "on different sides")
    return f"{side}: unexpected (both sides see every value)"


def _false_positive_reason(case: dict[str, Any]) -> str:
    methods = {v["method"] for v in case["evidently"][0]["verdicts"].values()}
    if "chisquare" in methods:
        return ("Chi-square, as Evidently runs it, tests the window against the reference "
                "proportions as if they were exact; with a reference of "
                f"{_n(case['reference_rows'])} rows and a window of {_n(case['n_rows'])}, the "
                "reference's own sampling noise is larger than the window's, so unchanged "
                "categories are rejected.")
    return ""


def _first_mmd(c: dict[str, Any]) -> str:
    firsts = [r["records_multivariate_first_s"] for case in c["cases"]
              for r in case["driftline"] if "records_multivariate_first_s" in r]
    if not firsts:
        return "n/a"
    return f"{_n(min(firsts), 2)} to {_n(max(firsts), 2)} s"


def _compare(c: dict[str, Any]) -> list[str]:
    time_rows, mem_rows, verdict_rows, notes = [], [], [], []
    for case in c["cases"]:
        ours, theirs = case["driftline"], case["evidently"]
        label = [_k(case["n_rows"]), _n(case["reference_rows"])]
        if "error" in theirs[0]:
            notes.append(f"- {label[0]}: Evidently failed: `{theirs[0]['error']}`")
            continue
        ev_s, dl_s = _med(theirs, "seconds"), _med(ours, "seconds")
        runs = f"{len(ours)} / {len(theirs)}"
        time_rows.append([*label, _methods(case), runs, _n(ev_s, 2), _n(dl_s, 3),
                          f"{_n(_med(ours, 'fit_s'), 3)} / {_n(_med(ours, 'update_s'), 3)} / "
                          f"{_n(_med(ours, 'records_s'), 3)}", f"**{_n(ev_s / dl_s, 1)}x**",
                          _n(_med(ours, "build_s"), 2),
                          _n(dl_s - _med(ours, "records_s")
                             + _med(ours, "records_multivariate_s"), 2)])
        ev_peak, dl_peak = _med(theirs, "peak_rss_mib"), _med(ours, "peak_rss_mib")
        ev_grow = ev_peak - _med(theirs, "rss_loaded_mib")
        dl_grow = dl_peak - _med(ours, "rss_loaded_mib")
        mem_rows.append([*label, _n(ev_peak), _n(ev_grow), _n(dl_peak), _n(dl_grow),
                         f"**{_n(ev_peak / dl_peak, 1)}x**",
                         f"{_n(ev_grow / dl_grow, 1)}x" if dl_grow > 0 else "n/a",
                         _n(_med(ours, "peak_rss_torch_mib"))])
        a, x = case["agreement"], case["agreement_exact"]
        sample, exact_sample = ours[0]["sample_size"], ours[0]["exact"]["sample_size"]

        def same(agg: dict[str, Any], key: str) -> str:
            diff = agg[key]
            return "yes" if not diff else f"**no**: {', '.join(diff)}"

        verdict_rows.append([
            *label, f"{len(a['drifted'])}: {', '.join(a['drifted'])}", same(a, "method_diff"),
            f"{same(a, 'verdict_diff')} (sample {_n(sample)})",
            f"{same(x, 'verdict_diff')} (sample {_n(exact_sample)})",
            f"{_n(a['max_gap'], 4)} ({a['max_gap_column']})",
            f"{_n(x['max_gap'], 6)}", "yes" if case.get("count_consistent") else "**no**"])
        for agg, size in ((a, sample), (x, exact_sample)):
            for column, d in agg["details"].items():
                notes.append(f"- {label[0]} rows, reference {label[1]}, sample {_n(size)}, "
                             f"`{column}`: {_why(column, d, case, size)}.")
        false_positive = sorted(set(a["drifted"]) - DRIFTED_NAMES)
        if false_positive:
            notes.append(f"- {label[0]} rows, reference {label[1]}: Evidently flags "
                         f"{', '.join(false_positive)}, which did not drift (same generator, "
                         "new draw); Driftline's evidently mode follows it by design. "
                         + _false_positive_reason(case))
        joint = ours[0].get("multivariate") or []
        if joint:
            j = joint[0]
            notes.append(f"- {label[0]} rows, reference {label[1]}: Driftline's default "
                         f"multivariate record ({j['metric']} of the numeric features on the "
                         f"row samples): p = {_n(j['p_value'], 4)}, {j['status']}.")
    return [
        "## 5. Drift: Driftline against Evidently", "",
        "Both sides get the same pandas DataFrames, generated from one seed in each process "
        "(`benchmarks/drift_data.py`): 20 numeric columns (normal, log-normal, uniform, gamma) "
        "and 5 categorical ones (Zipf mixes over 3 to 20 categories). Drifted in the current "
        "frame: `num_00`-`num_05` (mean + 0.5 standard deviations) and `cat_0`, `cat_1` (20% "
        "of the mass moved from the most to the least frequent category); the other 17 columns "
        "are not. Evidently: `Report([DataDriftPreset()]).run(current, reference)` and "
        "`snapshot.dict()`. Driftline, `drift.mode: evidently`: `columns_from_events` + "
        "`build_profile` on the reference (fit), the current frame as `Prediction` batches of "
        "5000 through `WindowState.update` (update), `compute_window_records` (records); "
        "building the batches from the frame is timed apart. Driftline's default multivariate "
        "test (MMD on the numeric features' row samples) is off for the like-for-like figures "
        "(Evidently's preset has no multivariate test); the last time column has it on (torch "
        "already imported). Every run is a fresh process; memory is the process's peak "
        "resident set (`VmHWM`, as in section 3, but started again once the frames are built, "
        "so that generating them does not count) and its growth over the resident set at that "
        "point; Driftline's peak is read before torch is imported. \"With MMD record\": fit + "
        "update + records with the multivariate test on, timed on its second call in the "
        "process (the first also warms torch up: " + _first_mmd(c) + ").", "",
        *_table(["rows", "reference rows", "Evidently picked", "runs (Driftline / Evidently)",
                 "Evidently (s)", "Driftline (s)", "fit / update / records (s)",
                 "Evidently / Driftline", "building batches (s)",
                 "Driftline with MMD record (s)"], time_rows),
        "### Peak memory (MiB)", "",
        *_table(["rows", "reference rows", "Evidently peak", "Evidently growth",
                 "Driftline peak", "Driftline growth", "peak ratio", "growth ratio",
                 "Driftline peak after importing torch"], mem_rows),
        "### Per-column verdicts", "",
        "Evidently's verdict per column follows its own rule (K-S: `p <= threshold`, other "
        "tests `p < threshold`, distances `>= threshold`), and the count of drifted columns "
        "it reports is checked against the per-column verdicts. Driftline's verdict is its "
        "`data_drift` record being `alert`. Driftline's evidently mode runs numeric tests on "
        "its bounded row sample (`drift.sample_size`, 1000 by default), so its verdicts are "
        "checked twice: as configured by default, and with the sample as large as the window "
        "(at most 20,000, the setting's limit; for larger windows still a sample). The score "
        "gap compares what Evidently reports per column: the p-value of a test, else the "
        "distance.", "",
        *_table(["rows", "reference rows", "Evidently drifted", "same test per column",
                 "same verdicts (default)", "same verdicts (large sample)",
                 "largest score gap (default)", "largest gap (large sample)",
                 "Evidently's count = its columns"], verdict_rows),
        *(["Differences and other notes:", "", *notes, ""] if notes else []),
        _meta_line(c.get("meta")), "",
    ]


# ------------------------------------------------------------------ 6. false alarms
def _far(r: dict[str, Any]) -> list[str]:
    rows, per_ref, tails = [], [], []
    n_features = 25
    for size, entry in r["by_size"].items():
        c, n = entry["counts"], entry["counts"]["windows"]
        lo, hi = wilson(c.get("calibrated:any_reject", 0), n)
        inside = "yes" if lo <= 0.01 <= hi else "**no**"
        cells = n * n_features
        ref_rates = [v["calibrated:any_reject"] / v["windows"]
                     for v in entry["per_reference"].values() if v["windows"]]
        between = (f"{100 * statistics.stdev(ref_rates) / math.sqrt(len(ref_rates)):.2f}"
                   if len(ref_rates) > 1 else "n/a")
        rows.append([_k(size) if int(size) >= 1000 else size, str(n),
                     _rate(c.get("calibrated:any_alert", 0), n),
                     _rate(c.get("calibrated:any_reject", 0), n), between, inside,
                     _pct(c.get("calibrated:alerts_numeric", 0)
                          + c.get("calibrated:alerts_categorical", 0), cells, 3),
                     _rate(c.get("evidently:dataset", 0), n),
                     _pct(c.get("evidently:any_alert", 0), n),
                     f"{_pct(c.get('evidently:alerts_numeric', 0), n * 20)} / "
                     f"{_pct(c.get('evidently:alerts_categorical', 0), n * 5)}"])
        per_ref.append([_n(int(size)), *(_pct(v["calibrated:any_reject"], v["windows"])
                                for v in entry["per_reference"].values())])
        tails.append([_n(int(size)), _pct(c.get("p<level:numeric", 0), n * 20, 3),
                      _pct(c.get("p<level:categorical", 0), n * 5, 3)])
    refs = len(next(iter(r["by_size"].values()))["per_reference"])
    check = r.get("tail_check") or []
    tail_rows = [[t["feature"], t["statistic"], _n(t["n"]), _n(t["critical"], 4),
                  _n(t["critical_true"], 4), f"{100 * t['true_tail']:.3f}%"] for t in check]
    return [
        "## 6. Drift: false alarms on drift-free windows", "",
        f"{r['references']} independent references of {_n(r['reference_rows'])} rows (own "
        "seeds), and for each, drift-free windows drawn from the same generator (numbers of "
        "windows below, summed over the references). Every window is evaluated in both modes: "
        "`calibrated` (defaults: `false_alarm_rate` 0.01 per window, Benjamini-Hochberg, "
        "2000 resamples, effect-size floors 0.075 / 0.1) and `evidently`. A calibrated window "
        "is a false alarm when any `data_drift` feature record is `alert`; the rate the "
        "calibration targets (1%) is that of any feature being rejected, `alert` or "
        "`warning` (a rejection below the effect-size floor is a `warning`). An evidently "
        "window is a false alarm when its `drift_share` record is `alert` (Evidently's dataset "
        "drift: at least half of the features drifted). Rates with binomial standard error and "
        "95% Wilson interval, in percent; per-feature rates are over windows x features. "
        "Windows go into `WindowState` straight from the columns (`drift_data.fill`); "
        f"identical records to `WindowState.update` checked: "
        f"{'yes' if r.get('fill_equals_update') else '**no**'}. The interval treats windows "
        "as independent, which they are while windows are much smaller than the reference. "
        "For windows larger than the reference the window's noise vanishes and the verdict "
        "depends mostly on how far the reference's own histogram happens to sit from the "
        "truth: a given reference then alerts on almost every window or on almost none, the "
        "calibration holds on average over references, and the effective sample is the "
        "number of references (hence the standard error between references, of the mean of "
        "the per-reference rates below).", "",
        *_table(["window rows", "windows", "calibrated: any alert", "calibrated: any "
                 "rejection (target 1%)", "SE between references", "1% in the 95% CI",
                 "calibrated: per feature",
                 "evidently: dataset drift", "evidently: any feature alert",
                 "evidently per feature: numeric / categorical"], rows),
        "Calibrated any-rejection rate per reference (the calibration averages over "
        "references, so single references may sit above or below 1%):", "",
        *_table(["window rows", *(f"reference {i}" for i in range(refs))], per_ref),
        "Share of feature p-values at or below 0.01 / 25 = 0.0004, the level at which "
        "Benjamini-Hochberg rejects the smallest p-value (0.04% if the p-values are exact). "
        "They are Monte Carlo p-values `(1 + k) / (B + 1)` over B = 4 m / alpha = 10,000 "
        "resamples (`detectors/drift/calibration.py`), valid at any B (an earlier gamma-tail "
        "fit put 2-3x too many windows below this level):", "",
        *_table(["window rows", "numeric features", "categorical features"], tails),
        *(["The critical value for 0.0004 from the 10,000-draw null the service uses, against "
           "the 0.9996 quantile of a 100,000-draw null of the same test (reference 0), and the "
           "true chance of exceeding it (at most 0.04% if the calibration is right):", "",
           *_table(["feature", "statistic", "window rows", "critical value (10k draws)",
                    "critical value (100k draws)", "true tail at that value"],
                   tail_rows)] if tail_rows else []),
        _meta_line(r.get("meta")), "",
    ]


# ------------------------------------------------------------------ 7. power
def _power(r: dict[str, Any]) -> list[str]:
    sizes = list(r["by_size"])
    scenarios = [f"mean+{d:g}sd" for d in r["shifts"]] + [f"mix {f:.0%}" for f in r["mixes"]]
    cal, ev = [], []
    windows = []
    for s in scenarios:
        cal_row, ev_row = [s], [s]
        for size in sizes:
            c = r["by_size"][size]["counts"]
            n = c.get(f"{s}|windows", 0)
            cal_row.append(f"{_pct(c.get(f'{s}|calibrated:alert', 0), n, 0)} "
                           f"({_pct(c.get(f'{s}|calibrated:reject', 0), n, 0)})")
            ev_row.append(_pct(c.get(f"{s}|evidently:alert", 0), n, 0))
        cal.append(cal_row)
        ev.append(ev_row)
    for size in sizes:
        windows.append(f"{_n(r['by_size'][size]['counts'].get(scenarios[0] + '|windows', 0))} "
                       f"at {_n(int(size))} rows")
    header = ["change", *(f"{_n(int(s))} rows" for s in sizes)]
    return [
        "## 7. Drift: detection power", "",
        "The first drift-free windows of section 6 (per size: " + ", ".join(windows) + "), "
        "each changed in one feature: `num_00` (normal) shifted by d standard deviations, or "
        "10% / 20% of `cat_0`'s mass (5 categories) moved from its most to its least frequent "
        "category. Share of windows whose record for the changed feature is `alert`, from "
        "`monitor.drift_eval.evaluate` (what `compute_window_records` calls): calibrated mode "
        "over all 25 features (the correction couples them), evidently mode over the changed "
        "feature (its verdict depends on nothing else). Beyond the reference's size (5000 "
        "rows) the reference's own sampling noise dominates the calibrated null (section 6's "
        "critical values barely move from 10k to 100k rows), so power for small shifts stops "
        "growing with the window; the evidently mode tests numeric features on a 1000-row "
        "sample at every window size. Normed Wasserstein of a d-sd mean "
        "shift is about d, so d = 0.05 is below the calibrated mode's effect-size floor "
        "(0.075): a rejection there is a `warning` by design.", "",
        "Calibrated: alert (in parentheses: alert or warning)", "",
        *_table(header, cal),
        "Evidently mode: alert (at small windows this is not power: on drift-free windows "
        "its per-feature alert rate is already the one in section 6's last column)", "",
        *_table(header, ev),
        _meta_line(r.get("meta")), "",
    ]


# ------------------------------------------------------------------ 8. multivariate
def _multivariate(m: dict[str, Any]) -> list[str]:
    rows, devices = [], []
    for device, run in m.get("runs", {}).items():
        devices.append(f"`{device}`: {run['device_name']}")
        for case in run["cases"]:
            if case["path"] != "detector":
                continue
            full = next(x for x in run["cases"] if x["path"] == "full"
                        and (x["kind"], x["rows"], x["method"])
                        == (case["kind"], case["rows"], case["method"]))
            shape = f"{_n(case['rows'])} x {case['dim']}" + (
                " (embeddings)" if case["kind"] == "embedding" else "")
            rows.append([device, shape, case["method"], _n(case["median_s"], 2),
                         str(len(case["seconds"])), _n(full["median_s"], 2),
                         str(len(full["seconds"])), _n(full["p_value"], 4)])
    gpu = any(d.startswith("cuda") for d in m.get("runs", {}))
    metas = m.get("metas") or {}
    return [
        "## 8. Drift: multivariate tests (MMD, domain classifier)", "",
        "Reference and current of the same size: tabular = the 20 numeric and 5 categorical "
        "columns (as integer codes) of section 5's tables, with its drift; embeddings = "
        "normal vectors, the current's first 16 components shifted by 0.1. \"Detector\": "
        "`MMDDrift()` / `DomainClassifierDrift()` with defaults, `fit` + `update` in batches "
        "of 5000 + `score`, i.e. the test on 1000-row samples of each side, as a window runs "
        "it. \"Full\": `mmd_test` (standardised; block MMD in blocks of 2000 pooled rows, 200 "
        "permutations) and `domain_classifier_test` (20 permutations, subsampled to 20,000 "
        "pooled rows) on every row. Median of the runs given (3, or 1 where one run took over "
        "15 s). Devices: " + "; ".join(devices) + ".", "",
        *_table(["device", "rows x columns", "method", "detector (s)", "runs", "full (s)",
                 "runs", "full p-value"], rows),
        *([] if gpu else [
            "No GPU run is recorded yet. On a machine with CUDA: `python -m benchmarks."
            "drift_bench --only multivariate --device cuda --json gpu.json`, then here: "
            "`python -m benchmarks.drift_bench --merge-json gpu.json --out "
            "docs/benchmarks.md` adds its rows to this table.", ""]),
        *[_meta_line(meta) for meta in metas.values() if meta], "",
    ]


def render(d: dict[str, Any]) -> str:
    """The drift sections present in ``d``, between the markers."""
    lines = [BEGIN, ""]
    if "compare" in d:
        lines += _compare(d["compare"])
    if "rates" in d:
        lines += _far(d["rates"])
        lines += _power(d["rates"])
    if "multivariate" in d:
        lines += _multivariate(d["multivariate"])
    total = sum(d[s]["meta"]["seconds"] for s in ("compare", "rates") if s in d)
    mv = d.get("multivariate") or {}
    cpu_run, cpu_meta = mv.get("runs", {}).get("cpu"), (mv.get("metas") or {}).get("cpu")
    total += (cpu_run.get("wall_s") or cpu_meta["seconds"]) if cpu_run and cpu_meta else 0.0
    lines += [f"The drift sections (the CPU runs) took {_n(total / 60, 1)} min in all.", "",
              END]
    return "\n".join(lines) + "\n"
