"""Slice and KPI benchmarks (sections 11-12 of docs/benchmarks.md), run in one go and spliced in.

    python -m benchmarks.slices_bench --out docs/benchmarks.md   # 10k and 100k rows, median of 3
    python -m benchmarks.slices_bench --quick --out /tmp/bench.md  # 10k rows, one run
    python -m benchmarks.slices_bench --out -                    # print the sections instead

11. Worst-slice discovery, the cost of one window by rows, dimensions (2, 4, 8) and values per
    dimension (5, 20, 100). Each window has ``dims`` independent uniform dimensions of
    ``values`` values each and a 0/1 bad flag at rate 0.10 (seeded). Timed, median of
    ``repeats``: ``worst_slices`` with the dimensions as columns (``{dim: list}``) and as one
    dictionary per row (the shape of decoded events), every single and pair slice,
    ``min_support=30``, ``max_slices=2000``, Benjamini-Hochberg at 5% (the service's per-window
    search, ``monitor.worst_slices``, is the row-dictionary call); the merged-counts path,
    ``slice_counts`` of 4 partitions (row dictionaries, a quarter of the rows each),
    ``merge_counts`` and ``worst_from_counts`` (whose results must equal ``worst_slices``'); and
    one ``MixtureSPRT.update`` of the per-slice sequential test with the merged counts, set up
    as the service sets it up from the default ``slicing:`` settings, on a test that has already
    seen one window. Peak memory is ``tracemalloc``'s peak of the allocations made by the call,
    in one further untimed run (the window's data excluded). Then the calibration of one window
    on data without any slice effect: the share of windows with any discovery.
12. KPIs (:mod:`benchmarks.kpi_bench`): interval coverage, false alarms of the always-valid
    test against a naive per-window z-test, and the cost per window.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import common, kpi_bench
from detectors.slices import (
    MixtureSPRT,
    merge_counts,
    slice_counts,
    worst_from_counts,
    worst_slices,
    z_test,
)

START = "<!-- slices benchmarks: start -->"
END = "<!-- slices benchmarks: end -->"
DIMS = (2, 4, 8)
VALUES = (5, 20, 100)
PARTITIONS = 4
MIN_SUPPORT = 30
MAX_SLICES = 2000
BASELINE_CONVERSIONS = kpi_bench.BASELINE * kpi_bench.CONVERT  # per prediction


@dataclass(frozen=True)
class Plan:
    rows: tuple[int, ...]
    repeats: int
    kpi_windows: int
    kpi_streams: int
    kpi_repeats: int  # the KPI steps take under a millisecond: more runs against the noise
    null_windows: int  # windows without any slice effect, per calibration row


FULL = Plan(rows=(10_000, 100_000), repeats=3, kpi_windows=2000, kpi_streams=2000,
            kpi_repeats=9, null_windows=500)
QUICK = Plan(rows=(10_000,), repeats=1, kpi_windows=500, kpi_streams=500, kpi_repeats=3,
             null_windows=100)
NULL_CASES = ((1000, 2, 5), (1000, 4, 5), (10_000, 2, 5), (10_000, 4, 20))


@dataclass(frozen=True)
class Case:
    """One window size: what it holds, the medians (seconds) and the peaks (MiB)."""

    rows: int
    dims: int
    values: int
    possible: int  # single and pair slices that could exist
    supported: int  # slices with at least MIN_SUPPORT rows
    tested: int  # after the MAX_SLICES cap
    significant: int
    counted: int  # keys of the merged counts (every slice with a row)
    columns_s: float
    dicts_s: float
    counts_s: float  # slice_counts of the partitions
    merge_s: float
    from_counts_s: float
    sprt_s: float
    same: bool  # worst_from_counts(merged) == worst_slices(window)
    dicts_peak_mib: float
    merged_peak_mib: float

    @property
    def merged_s(self) -> float:
        return self.counts_s + self.merge_s + self.from_counts_s


def window(rows: int, dims: int, values: int, seed: int) -> tuple[dict[str, list[str]],
                                                                   np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.array([f"v{i:03d}" for i in range(values)])
    cols = {f"d{j}": labels[rng.integers(0, values, rows)].tolist() for j in range(dims)}
    return cols, (rng.random(rows) < 0.10).astype(np.int64)


def sequential_test() -> MixtureSPRT:
    """The per-slice test as ``monitor.worst_slices`` builds it, from the default settings."""
    from monitor.config import SlicingConfig

    s = SlicingConfig()
    return MixtureSPRT(delta=s.sequential_delta, alpha=s.sequential_alpha / s.max_tracked,
                       min_n=s.min_support, max_tracked=s.max_tracked)


def _sequential_params() -> str:
    t = sequential_test()
    return (f"`delta={t.delta}`, `alpha={t.alpha:.4g}`, `min_n={t.min_n}`, "
            f"`max_tracked={t.max_tracked}`")


def median_seconds(call: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def peak_mib(call: Callable[[], Any]) -> float:
    """Peak of the memory ``call`` allocates (Python objects and numpy arrays), in MiB."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _summary(results: list[Any]) -> list[tuple[str, int, int, bool]]:
    return [(r.slice, r.n, r.bad, r.significant) for r in results]


def measure(rows: int, dims: int, values: int, repeats: int, seed: int = 0) -> Case:
    cols, bad = window(rows, dims, values, seed)
    dicts = [dict(zip(cols, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]
    totals = (rows, int(bad.sum()))
    cut = [rows * i // PARTITIONS for i in range(PARTITIONS + 1)]
    parts = [(dicts[a:b], bad[a:b]) for a, b in pairwise(cut)]

    columns_s, found = median_seconds(lambda: worst_slices(cols, bad), repeats)
    dicts_s, _ = median_seconds(lambda: worst_slices(dicts, bad), repeats)
    stages: list[list[float]] = [[], [], []]
    merged: dict[str, tuple[int, int]] = {}
    from_counts: list[Any] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        counts = [slice_counts(p_rows, p_bad) for p_rows, p_bad in parts]
        t1 = time.perf_counter()
        merged = merge_counts(*counts)
        t2 = time.perf_counter()
        from_counts = worst_from_counts(merged, *totals)
        t3 = time.perf_counter()
        for stage, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            stage.append(seconds)
    sprt_times = []
    for _ in range(repeats):
        test = sequential_test()
        test.update(merged, totals)  # the state of one window before
        start = time.perf_counter()
        test.update(merged, totals)
        sprt_times.append(time.perf_counter() - start)

    def merged_path() -> None:
        merged = merge_counts(*(slice_counts(p_rows, p_bad) for p_rows, p_bad in parts))
        worst_from_counts(merged, *totals)
        sequential_test().update(merged, totals)

    pairs = math.comb(dims, 2)
    return Case(rows=rows, dims=dims, values=values,
                possible=dims * values + pairs * values * values,
                supported=sum(n >= MIN_SUPPORT for n, _ in merged.values()),
                tested=len(found), significant=sum(r.significant for r in found),
                counted=len(merged), columns_s=columns_s, dicts_s=dicts_s,
                counts_s=statistics.median(stages[0]), merge_s=statistics.median(stages[1]),
                from_counts_s=statistics.median(stages[2]),
                sprt_s=statistics.median(sprt_times),
                same=_summary(found) == _summary(from_counts),
                dicts_peak_mib=peak_mib(lambda: worst_slices(dicts, bad)),
                merged_peak_mib=peak_mib(merged_path))


def run_slices(plan: Plan, seed: int = 0) -> list[Case]:
    cases = []
    for rows in plan.rows:
        for dims in DIMS:
            for values in VALUES:
                case = measure(rows, dims, values, plan.repeats, seed)
                cases.append(case)
                common.log(f"slices: {rows:,} rows, {dims} dims x {values} values: "
                           f"worst_slices {case.dicts_s * 1000:.1f} ms, merged counts "
                           f"{case.merged_s * 1000:.1f} ms, MixtureSPRT.update "
                           f"{case.sprt_s * 1000:.1f} ms")
    return cases


def calibration(windows: int) -> list[dict[str, float | int]]:
    """Per (rows, dims, values): windows with no slice effect that hold any discovery."""
    out: list[dict[str, float | int]] = []
    for i, (rows, dims, values) in enumerate(NULL_CASES):
        hit, tested = 0, 0
        for w in range(windows):
            cols, bad = window(rows, dims, values, seed=1_000_000 * (i + 1) + w)
            found = worst_slices(cols, bad, min_support=MIN_SUPPORT, max_slices=MAX_SLICES)
            hit += any(r.significant for r in found)
            tested += len(found)
        out.append({"rows": rows, "dims": dims, "values": values, "windows": windows,
                    "any": hit / windows, "tested": tested / windows})
    return out


def calibration_table(rows: list[dict[str, float | int]]) -> list[str]:
    windows = int(rows[0]["windows"]) if rows else 0
    se = math.sqrt(0.05 * 0.95 / windows) if windows else math.nan
    worst = max(rows, key=lambda r: r["any"]) if rows else None
    lines = [f"Calibration of one window: seeded windows where no slice differs (bad rate 0.10 "
             f"everywhere), the share with any discovery (with exact p-values, "
             f"Benjamini-Hochberg at 5% would keep it at or below 0.05; +-{se:.3f} SE at 0.05 "
             f"with {windows} windows).", "",
             "| rows | dims | values/dim | windows | slices tested (mean) "
             "| windows with any discovery |", "|" + "---:|" * 6]
    lines += [f"| {r['rows']:,} | {r['dims']} | {r['values']} | {r['windows']} "
              f"| {r['tested']:,.0f} | {r['any']:.3f} |" for r in rows]
    if worst:
        from scipy import stats

        verdict = ("within" if worst["any"] <= 0.05 + 2 * se else "above")
        z_p = z_test(30, 10, 9970, 990, continuity=True)[1]
        lines += ["", f"The highest share, {worst['any']:.3f} at {worst['rows']:,} rows "
                  f"({worst['dims']} x {worst['values']}), is {verdict} 0.05 plus two standard "
                  f"errors. `worst_slices` uses the one-sided Fisher exact (hypergeometric) "
                  f"test; the pooled z-test it used before (`test=\"z\"`) is loosest where "
                  f"Benjamini-Hochberg needs it most, small slices at tiny p-values: 30 rows "
                  f"with 10 bad at a 10% rate elsewhere, z-test p = {z_p:.1e}, binomial tail "
                  f"P(X >= 10) = {stats.binom.sf(9, 30, 0.10):.1e} (with the z-test, 0.178 of "
                  f"windows at 10,000 rows and 4 x 20 held a discovery)."]
    return lines


# ------------------------------------------------------------------ the report
def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def _find(cases: list[Case], rows: int, dims: int, values: int) -> Case | None:
    return next((c for c in cases if (c.rows, c.dims, c.values) == (rows, dims, values)), None)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b > 0 else "-"


def reading(cases: list[Case]) -> list[str]:
    """Plain words on the measured numbers (the largest row count measured)."""
    rows = max(c.rows for c in cases)
    small, wide = _find(cases, rows, 2, 5), _find(cases, rows, 8, 100)
    mid, mid_wide = _find(cases, rows, 8, 20), _find(cases, rows, 2, 20)
    heavy = max((c for c in cases if c.rows == rows), key=lambda c: c.merged_s + c.sprt_s)
    out = ["How to read it:", ""]
    if small and mid and mid_wide:
        out.append(
            f"- `worst_slices` does not grow with dims² x values², the number of possible "
            f"slices. Its row work is mostly one Python pass per dimension that codes the "
            f"values (rows x dims); each pair of dimensions is then a numpy `bincount` of those "
            f"codes, cheap even for 28 pairs; its per-slice work (key strings, the exact test in "
            f"Python) is bounded by the slices with >= {MIN_SUPPORT} rows, of which at most "
            f"{MAX_SLICES:,} are tested. At {rows:,} rows and 20 values, 4x the dimensions "
            f"(2 to 8, so 1 to 28 pairs) costs {_ratio(mid.dicts_s, mid_wide.dicts_s)} "
            f"({_ms(mid_wide.dicts_s)} to {_ms(mid.dicts_s)} ms on row dicts, "
            f"{_ms(mid_wide.columns_s)} to {_ms(mid.columns_s)} ms on columns); the smallest "
            f"window (2 x 5) takes {_ms(small.dicts_s)} ms on row dicts.")
    if wide and mid:
        lead = ("More values can make it cheaper" if wide.dicts_s < mid.dicts_s
                else "More values cost less than their count suggests")
        out.append(
            f"- {lead}: "
            f"at 8 x 100 ({wide.possible:,} possible slices) only {wide.supported:,} pass the "
            f"support floor, against {mid.supported:,} at 8 x 20, so {_ms(wide.dicts_s)} ms "
            f"against {_ms(mid.dicts_s)} ms. Row dictionaries cost about "
            f"{_ratio(sum(c.dicts_s for c in cases), sum(c.columns_s for c in cases))} the "
            f"columns overall (turning the dictionaries into columns is a Python pass).")
    found = sum(c.significant for c in cases)
    out.append(
        f"- The windows have no real slice effect, so every discovery is a false one: "
        f"{found} significant slice(s) in {len(cases)} windows; the calibration table below "
        f"measures how often that happens.")
    if wide:
        out.append(
            f"- The merged-counts path is where dims² x values² shows: `slice_counts` keeps every "
            f"slice with a row (no support floor, so that partitions merge exactly), so the "
            f"counts carry up to min(rows, values²) keys per pair of dimensions: "
            f"{wide.counted:,} keys at {rows:,} rows and 8 x 100, counted in "
            f"{_ms(wide.counts_s)} ms and merged (Python dictionaries) in "
            f"{_ms(wide.merge_s)} ms, against {_ms(wide.dicts_s)} ms for `worst_slices` on the "
            f"whole window. Its results equal `worst_slices`' in every case measured: "
            f"{'yes' if all(c.same for c in cases) else 'NO'}.")
    stages = {"slice_counts": heavy.counts_s, "merge_counts": heavy.merge_s,
              "worst_from_counts": heavy.from_counts_s, "MixtureSPRT.update": heavy.sprt_s}
    costliest = max(stages, key=stages.__getitem__)
    out.append(
        f"- `MixtureSPRT.update` visits every key it is given and, past its "
        f"{sequential_test().max_tracked:,} tracked slices, sorts them all to evict: "
        f"{_ms(heavy.sprt_s)} ms per window at {heavy.rows:,} rows, {heavy.dims} x "
        f"{heavy.values} ({heavy.counted:,} keys); the costliest step of that window is "
        f"`{costliest}`. Its cost follows the number of distinct slices in a window, so it is "
        f"the number of values per dimension that has to stay bounded (the reference's "
        f"categories and quantile bins bound it for features; tags are free-form).")
    if wide:
        out.append(
            f"- Peak memory is tracemalloc's (Python objects and numpy buffers the call "
            f"allocates, the window's data excluded): {wide.dicts_peak_mib:,.1f} MiB for "
            f"`worst_slices` at {rows:,} rows, 8 x 100, against {wide.merged_peak_mib:,.1f} "
            f"MiB for the merged-counts path and the update, mostly the counts dictionaries.")
    return out


def slices_table(cases: list[Case], repeats: int) -> list[str]:
    lines = [f"`worst_slices` on one window, median of {repeats} (bad rate 0.10, seed 0, "
             f"`min_support={MIN_SUPPORT}`, `max_slices={MAX_SLICES:,}`, FDR 5%). Possible "
             f"slices: dims x values + pairs x values²; \">= support\": those with at least "
             f"{MIN_SUPPORT} rows; tested: after the `max_slices` cap.", "",
             "| rows | dims | values/dim | possible slices | >= support | tested | significant "
             "| columns (ms) | row dicts (ms) | peak, row dicts (MiB) |",
             "|" + "---:|" * 10]
    lines += [f"| {c.rows:,} | {c.dims} | {c.values} | {c.possible:,} | {c.supported:,} "
              f"| {c.tested:,} | {c.significant} | {_ms(c.columns_s)} | {_ms(c.dicts_s)} "
              f"| {c.dicts_peak_mib:,.1f} |" for c in cases]
    lines += ["", f"The merged-counts path on the same windows, median of {repeats}: "
              f"`slice_counts` of {PARTITIONS} partitions (row dicts, a quarter of the rows each), "
              f"`merge_counts`, `worst_from_counts` (\"same\": its results equal "
              f"`worst_slices`'), then one `MixtureSPRT.update` with the merged counts. Counts "
              f"keys: slices with at least one row, what the partitions hand over.", "",
              "| rows | dims | values/dim | counts keys | slice_counts x4 (ms) "
              "| merge_counts (ms) | worst_from_counts (ms) | merged path (ms) | same "
              "| MixtureSPRT.update (ms) | peak, merged path + update (MiB) |",
              "|" + "---:|" * 8 + "---|" + "---:|" * 2]
    lines += [f"| {c.rows:,} | {c.dims} | {c.values} | {c.counted:,} | {_ms(c.counts_s)} "
              f"| {_ms(c.merge_s)} | {_ms(c.from_counts_s)} | {_ms(c.merged_s)} "
              f"| {'yes' if c.same else 'NO'} | {_ms(c.sprt_s)} "
              f"| {c.merged_peak_mib:,.1f} |" for c in cases]
    return lines


def kpi_reading(coverage: list[dict[str, Any]], alarms: list[dict[str, Any]],
                cost: list[dict[str, Any]]) -> list[str]:
    def alarm(monitor: str, n: int, field: str) -> float:
        return next(float(r[field]) for r in alarms if r["monitor"] == monitor
                    and r["n"] == n)

    naive, msprt = "naive z-test every window", "mSPRT (always valid)"
    wilson = [float(r["coverage"]) for r in coverage if r["method"] == "wilson"]
    delta = [r for r in coverage if r["method"] == "delta"]
    worst = min(delta, key=lambda r: r["coverage"]) if delta else None
    big = max(cost, key=lambda r: r["n"])
    small = min(cost, key=lambda r: r["n"])
    out = ["How to read it:", ""]
    if wilson:
        out.append(f"- The Wilson intervals of the 0/1 rates cover {min(wilson):.3f} to "
                   f"{max(wilson):.3f} of the windows, at 500 predictions a window as at 5000 "
                   f"(nominal 0.95).")
    if worst:
        out.append(f"- The delta-method interval of a skewed mean (revenue that only rare "
                   f"conversions carry) covers less when few units carry it: "
                   f"{worst['coverage']:.3f} for {worst['kpi']} at {worst['n']:,} predictions "
                   f"(about {worst['n'] * BASELINE_CONVERSIONS:.0f} conversions a window).")
    out.append(
        f"- Checking a 5% z-test after every window alarms by window 50 on "
        f"{alarm(naive, 5000, 'far_50'):.0%} of the streams that never changed (5000 "
        f"predictions a window); the always-valid test on {alarm(msprt, 5000, 'far_50'):.1%}, "
        f"within its 5% bound however long it is watched. The price is delay on a real drop: "
        f"a median of {alarm(msprt, 5000, 'delay'):.0f} windows after the change at 5000 "
        f"predictions, {alarm(msprt, 500, 'delay'):.0f} at 500 (the naive test: "
        f"{alarm(naive, 5000, 'delay'):.0f} and {alarm(naive, 500, 'delay'):.0f}, but it has "
        f"already alarmed falsely before the change on {alarm(naive, 5000, 'early'):.0%} and "
        f"{alarm(naive, 500, 'early'):.0%} of the streams).")
    out.append(
        f"- Per window and KPI, reading the event dictionaries is the cost, and it grows "
        f"with the predictions (fastest runs: {small['update_min_ms']:.2f} ms at "
        f"{small['n']:,}, {big['update_min_ms']:.2f} ms at {big['n']:,}; the medians vary more "
        f"from run to run on this shared machine); the value and the sequential update take "
        f"{big['value_ms'] + big['sprt_ms']:.2f} ms whatever the window's size.")
    return out


def section(plan: Plan, quick: bool) -> str:
    began = time.perf_counter()
    cases = run_slices(plan)
    common.log(f"slices: calibration on {plan.null_windows} windows per row")
    null = calibration(plan.null_windows)
    common.log("KPIs: coverage, false alarms, cost")
    coverage = kpi_bench.coverage(plan.kpi_windows)
    alarms = kpi_bench.run(plan.kpi_streams)
    cost = kpi_bench.cost(plan.kpi_repeats)
    machine = common.machine()
    took = (time.perf_counter() - began) / 60
    load = ", ".join(f"{v:.1f}" for v in _loadavg())
    measured = (f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
                f"{machine['cpu']} ({machine['cores']} cores), Python {machine['python']}, "
                f"numpy {machine['packages']['numpy']}, revision {machine['revision']}"
                f"{', quick plan (10k rows, one run)' if quick else ', full plan'}; "
                f"load average at the end: {load}. The machine is shared with other work, so "
                f"single timings vary by 10-30%.")
    return "\n".join([
        START,
        "## 11. Slices: worst-slice discovery per window",
        "",
        f"Windows of {' and '.join(f'{r:,}' for r in plan.rows)} rows with 2, 4 or 8 independent "
        f"uniform dimensions of 5, 20 or 100 values each (`benchmarks/slices_bench.py`). "
        f"`worst_slices` on the whole window (singles and pairs; the service calls it on the "
        f"row dictionaries of each window and target, `monitor/worst_slices.py`), the "
        f"merged-counts path that counts per partition and tests once, and one update of the "
        f"per-slice sequential test (`detectors.slices.MixtureSPRT` as the service builds it "
        f"from the default `slicing:` settings, {_sequential_params()}, on a test that already "
        f"holds one window; the service feeds it the counts of each final window).",
        "",
        *slices_table(cases, plan.repeats),
        "",
        *reading(cases),
        "",
        *calibration_table(null),
        "",
        measured,
        "",
        "## 12. KPIs: interval coverage, always-valid change test, cost",
        "",
        "Simulated windows (`benchmarks/kpi_bench.py`): clicks at CTR 0.05, a click converting "
        "with probability 0.20, log-normal revenue per conversion.",
        "",
        *kpi_bench.coverage_table(coverage, plan.kpi_windows),
        "",
        *kpi_bench.alarm_table(alarms, plan.kpi_streams),
        "",
        *kpi_bench.cost_table(cost, plan.kpi_repeats),
        "",
        *kpi_reading(coverage, alarms, cost),
        "",
        f"{measured} Sections 11-12 took {took:.1f} min.",
        END,
    ])


def _loadavg() -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in Path("/proc/loadavg").read_text().split()[:3])
    except (OSError, ValueError):
        return ()


def splice(document: str, block: str) -> str:
    """``document`` with its slice sections replaced by ``block`` (appended when absent)."""
    if START in document and END in document:
        head, rest = document.split(START, 1)
        return head + block + rest.split(END, 1)[1]
    return document.rstrip("\n") + "\n\n" + block + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/benchmarks.md",
                        help="document to splice the sections into; '-' prints them")
    parser.add_argument("--quick", action="store_true", help="10k rows, one run")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    block = section(plan, args.quick)
    if args.out == "-":
        print(block)
        return 0
    out = Path(args.out)
    existing = out.read_text() if out.exists() else ""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(splice(existing, block))
    print(f"wrote the slice and KPI sections into {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
