"""KPI benchmarks: interval coverage, false alarms of always-valid monitoring, and cost.

    .venv/bin/python -m benchmarks.kpi_bench [--streams 2000] [--windows 2000] [--repeats 3]

**Coverage.** ``windows`` seeded windows of ``n`` predictions (5000 and 500) per KPI, each
through :class:`~detectors.kpi.KpiState` (``update_totals``) and ``value()``; the share whose
95% interval holds the true value, the mean half-width, and the windows with no value. Clicks
are 0/1 at CTR 0.05, a click converts with probability 0.20, a conversion brings a log-normal
revenue (``exp(N(3, 1))``): CTR (clicks / predictions, Wilson), conversion (conversions /
clicks, Wilson on the clicks) and revenue per prediction (``kind="mean"``, delta method; true
value ``0.05 * 0.20 * exp(3.5)``).

**False alarms.** Each of ``streams`` seeded streams has 50 windows of 0/1 clicks at CTR 0.05
(``n`` predictions per window, 5000 and 500). The naive monitor runs a one-sided 5% z-test of
each window's CTR against the baseline (``(mean - 0.05) / sqrt(0.05 * 0.95 / n) < -1.645``)
and alarms on the first window that rejects; the always-valid monitor is
:class:`~detectors.kpi.MixtureSPRT` (``direction="down"``, ``alpha=0.05``, ``tau`` 10% of the
baseline, pooled variance), fed window by window. The table gives the share of drift-free
streams that alarmed by window 1, 10 and 50 (the false-alarm rate under continuous
monitoring), then, for a drop to 0.04 at window 10 (0-based), the share of streams that
alarmed before the change and, among the others, the share that alarmed by window 50 and the
median delay to that alarm (0 = on the change window itself).

**Cost.** Per window of ``n`` predictions (5000 and 50,000; 5% clicks): ``KpiState.update``
on one dict of events per prediction (the service's shape; median and fastest run), ``value()``,
and one ``MixtureSPRT.update_state`` (built ``from_reference``, as the service does); median
of ``repeats``.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import numpy as np
from scipy import stats

from detectors.kpi import KpiState, MixtureSPRT, always_valid_p_values

BASELINE = 0.05
DROP_TO = 0.04
CHANGE = 10
WINDOWS = 50
ALPHA = 0.05
CONVERT = 0.20
REVENUE_MU, REVENUE_SIGMA = 3.0, 1.0


# ------------------------------------------------------------------ interval coverage
def _draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    click = (rng.random(n) < BASELINE).astype(np.float64)
    conversion = click * (rng.random(n) < CONVERT)
    revenue = conversion * rng.lognormal(REVENUE_MU, REVENUE_SIGMA, n)
    return click, conversion, revenue


CLICK, CONVERSION, REVENUE = 0, 1, 2  # columns of a draw
# name, true value, a fresh state, the draw's numerator column and denominator column
KPIS: tuple[tuple[str, float, Callable[[], KpiState], int, int | None], ...] = (
    ("CTR (clicks / predictions)", BASELINE, lambda: KpiState("ctr", "click"), CLICK, None),
    ("conversion (conversions / clicks)", CONVERT,
     lambda: KpiState("conversion", "conversion", "click"), CONVERSION, CLICK),
    ("revenue per prediction (mean)",
     BASELINE * CONVERT * math.exp(REVENUE_MU + REVENUE_SIGMA**2 / 2),
     lambda: KpiState("revenue", "revenue", kind="mean"), REVENUE, None),
)


def coverage(windows: int, seed: int = 0) -> list[dict[str, float | int | str]]:
    rng = np.random.default_rng(seed)
    rows: list[dict[str, float | int | str]] = []
    for n in (5000, 500):
        draws = [_draw(rng, n) for _ in range(windows)]
        for name, truth, make, num, den in KPIS:
            hits, widths, unknown, method = 0, [], 0, ""
            for draw in draws:
                state = make()
                state.update_totals(draw[num], None if den is None else draw[den])
                v = state.value()
                if v.value is None or v.ci_low is None or v.ci_high is None:
                    unknown += 1
                    continue
                method = v.method or method
                hits += v.ci_low <= truth <= v.ci_high
                widths.append((v.ci_high - v.ci_low) / 2)
            known = windows - unknown
            rows.append({"kpi": name, "n": n, "truth": truth, "method": method,
                         "coverage": hits / known if known else math.nan,
                         "half_width": float(np.mean(widths)) if widths else math.nan,
                         "unknown": unknown})
    return rows


# ------------------------------------------------------------------ false alarms
def _windows(rng: np.random.Generator, p: np.ndarray, streams: int,
             n: int) -> tuple[np.ndarray, np.ndarray]:
    mean = rng.binomial(n, p, size=(streams, p.size)) / n
    return mean, mean * (1 - mean) * n / (n - 1)


def _alarms(mean: np.ndarray, var: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Per monitor, a boolean (streams, windows): has it alarmed by this window."""
    naive = stats.norm.cdf((mean - BASELINE) / math.sqrt(BASELINE * (1 - BASELINE) / n)) < ALPHA
    p = always_valid_p_values(n, mean, var, baseline=BASELINE, direction="down")
    return {"naive z-test every window": np.logical_or.accumulate(naive, axis=1),
            "mSPRT (always valid)": p < ALPHA}


def _after_change(alarmed: np.ndarray) -> tuple[float, float]:
    """Share detected and median delay, over the streams without an alarm before the change."""
    after = alarmed[~alarmed[:, CHANGE - 1], CHANGE:]
    hit = after.any(axis=1)
    delay = float(np.median(after[hit].argmax(axis=1))) if hit.any() else math.nan
    return float(hit.mean()) if hit.size else math.nan, delay


def run(streams: int, seed: int = 0) -> list[dict[str, float | int | str]]:
    rng = np.random.default_rng(seed)
    rows: list[dict[str, float | int | str]] = []
    for n in (5000, 500):
        flat = _alarms(*_windows(rng, np.full(WINDOWS, BASELINE), streams, n), n)
        p = np.r_[np.full(CHANGE, BASELINE), np.full(WINDOWS - CHANGE, DROP_TO)]
        drop = _alarms(*_windows(rng, p, streams, n), n)
        for name in flat:
            detected, delay = _after_change(drop[name])
            rows.append({"monitor": name, "n": n,
                         "far_1": float(flat[name][:, 0].mean()),
                         "far_10": float(flat[name][:, 9].mean()),
                         "far_50": float(flat[name][:, -1].mean()),
                         "early": float(drop[name][:, CHANGE - 1].mean()),
                         "detected": detected, "delay": delay})
    return rows


# ------------------------------------------------------------------ cost
def _times_ms(call: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def cost(repeats: int, seed: int = 0) -> list[dict[str, float | int]]:
    rng = np.random.default_rng(seed)
    reference = KpiState("ctr", "click")
    reference.update_totals(rng.random(100_000) < BASELINE)
    rows: list[dict[str, float | int]] = []
    for n in (5000, 50_000):
        events = [{"click": 1} if c else {} for c in rng.random(n) < BASELINE]
        state = KpiState("ctr", "click")
        state.update(events)
        test = MixtureSPRT.from_reference(reference, alpha=ALPHA)

        def update(events: list[dict[str, int]] = events) -> None:
            KpiState("ctr", "click").update(events)

        def feed(test: MixtureSPRT = test, state: KpiState = state) -> None:
            test.update_state(state)

        updates = _times_ms(update, repeats)
        rows.append({"n": n,
                     "update_ms": float(np.median(updates)), "update_min_ms": min(updates),
                     "value_ms": float(np.median(_times_ms(state.value, repeats))),
                     "sprt_ms": float(np.median(_times_ms(feed, repeats)))})
    return rows


# ------------------------------------------------------------------ tables
def coverage_table(rows: list[dict[str, float | int | str]], windows: int) -> list[str]:
    return [f"Interval coverage, {windows} seeded windows per size (95% intervals; a"
            f" coverage figure is +-{math.sqrt(0.05 * 0.95 / windows):.3f} SE around 0.95).",
            "",
            "| KPI | predictions/window | true value | interval | coverage | mean half-width"
            " | windows without a value |",
            "| --- | ---: | ---: | --- | ---: | ---: | ---: |",
            *(f"| {r['kpi']} | {r['n']:,} | {r['truth']:.4g} | {r['method']} |"
              f" {r['coverage']:.3f} | {r['half_width']:.4g} | {r['unknown']} |" for r in rows)]


def alarm_table(rows: list[dict[str, float | int | str]], streams: int) -> list[str]:
    se = math.sqrt(ALPHA * (1 - ALPHA) / streams)
    return [f"KPI monitoring, {streams} seeded streams of {WINDOWS} windows, CTR {BASELINE}"
            f" (false alarms: share of drift-free streams alarmed by window k; +-{se:.3f} SE"
            f" at 5%)",
            "",
            "| monitor | predictions/window | FAR by 1 | FAR by 10 | FAR by 50 |"
            f" drop at {CHANGE}: alarmed before | detected by 50 | median delay (windows) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            *(f"| {r['monitor']} | {r['n']} | {r['far_1']:.3f} | {r['far_10']:.3f} |"
              f" {r['far_50']:.3f} | {r['early']:.3f} | {r['detected']:.3f} |"
              f" {r['delay']:.0f} |" for r in rows)]


def cost_table(rows: list[dict[str, float | int]], repeats: int) -> list[str]:
    return [f"Cost per window and KPI (CTR), median of {repeats} (and the fastest run, less"
            f" exposed to the other work on the machine, for reading the events).",
            "",
            "| predictions/window | KpiState.update, dicts (ms) | fastest (ms) | value() (ms) |"
            " MixtureSPRT.update_state (ms) |",
            "| ---: | ---: | ---: | ---: | ---: |",
            *(f"| {r['n']:,} | {r['update_ms']:.2f} | {r['update_min_ms']:.2f} |"
              f" {r['value_ms']:.3f} | {r['sprt_ms']:.3f} |" for r in rows)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--windows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    lines = [*coverage_table(coverage(args.windows), args.windows), "",
             *alarm_table(run(args.streams), args.streams), "",
             *cost_table(cost(args.repeats), args.repeats)]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
