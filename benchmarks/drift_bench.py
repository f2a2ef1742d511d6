"""Drift benchmarks: Driftline against Evidently, false alarms, power, multivariate timing.

    python -m benchmarks.drift_bench --out docs/benchmarks.md            # every drift section
    python -m benchmarks.drift_bench --quick --out /tmp/bench.md         # small sizes
    python -m benchmarks.drift_bench --only compare,rates                # some sections
    python -m benchmarks.drift_bench --only multivariate --device cuda   # on a GPU machine
    python -m benchmarks.drift_bench --merge-json gpu.json --out docs/benchmarks.md
    python -m benchmarks.drift_bench --render-only --out docs/benchmarks.md

Sections: ``compare`` (time, peak memory and per-column verdicts against Evidently's
``DataDriftPreset``, :mod:`benchmarks.drift_compare`), ``rates`` (false-alarm rate and detection
power of the calibrated and evidently modes, :mod:`benchmarks.drift_rates`), ``multivariate``
(MMD and domain classifier timing, :mod:`benchmarks.drift_multivariate`). Raw results go to
``--json`` (default ``benchmarks/drift_results.json``); a run of some sections replaces those
sections there and keeps the others, and multivariate runs are kept per device, so a GPU run
adds its rows next to the CPU's. ``--out`` gets the drift sections spliced into the document
between markers, the rest of the document untouched. ``make bench`` runs them all through
:mod:`benchmarks.run`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks import common, drift_rates, report_drift

RESULTS = Path(__file__).with_name("drift_results.json")
SECTIONS = ("compare", "rates", "multivariate")


@dataclass(frozen=True)
class DriftPlan:
    compare: tuple[tuple[int, int, int], ...]  # (rows, reference rows, runs)
    references: int
    windows: tuple[tuple[int, int], ...]  # (window size, drift-free windows per reference)
    power_windows: int  # the first ones of those, per reference, also used for power
    shifts: tuple[float, ...]
    mixes: tuple[float, ...]
    multivariate_rows: tuple[int, ...]
    embeddings: tuple[tuple[int, int], ...]  # (rows, dimensions)
    multivariate_repeats: int
    workers: int


FULL = DriftPlan(
    compare=((10_000, 5000, 3), (10_000, 1000, 3), (100_000, 5000, 3), (1_000_000, 5000, 1)),
    references=5,
    windows=((50, 400), (200, 400), (1000, 400), (10_000, 200), (100_000, 40)),
    power_windows=40, shifts=(0.05, 0.1, 0.2, 0.3, 0.5), mixes=(0.1, 0.2),
    multivariate_rows=(1000, 10_000, 100_000), embeddings=((10_000, 384),),
    multivariate_repeats=3, workers=2)
QUICK = DriftPlan(
    compare=((10_000, 5000, 1), (10_000, 1000, 1)), references=2,
    windows=((50, 40), (1000, 40), (10_000, 10)), power_windows=10,
    shifts=(0.1, 0.5), mixes=(0.2,), multivariate_rows=(1000,), embeddings=((2000, 384),),
    multivariate_repeats=1, workers=2)


def _load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def compare(plan: DriftPlan) -> dict[str, Any]:
    from benchmarks.drift_compare import agreement

    cases = []
    for rows, ref_rows, runs in plan.compare:
        base = {"n_rows": rows, "reference_rows": ref_rows}
        ours, theirs = [], []
        for i in range(runs):
            common.log(f"drift compare: {rows:,} rows, reference {ref_rows:,}, "
                       f"run {i + 1}/{runs}: Driftline")
            ours.append(common.in_child("drift_driftline", {**base, "exact_check": i == 0}))
            common.log(f"drift compare: {rows:,} rows, reference {ref_rows:,}, "
                       f"run {i + 1}/{runs}: Evidently")
            theirs.append(common.in_child("drift_evidently", base, timeout_s=1800))
            if "error" in theirs[-1]:
                break
        case: dict[str, Any] = {**base, "driftline": ours, "evidently": theirs}
        if "error" not in theirs[0]:
            ev = theirs[0]["verdicts"]
            case["agreement"] = agreement(ours[0]["verdicts"], ev)
            case["agreement_exact"] = agreement(ours[0]["exact"]["verdicts"], ev)
            case["agreement_multivariate_on"] = agreement(
                ours[0]["verdicts_multivariate_on"], ev)
            case["count_consistent"] = (theirs[0]["drifted_count"]
                                        == sum(v["drifted"] for v in ev.values()))
        cases.append(case)
    return {"cases": cases}


def rates(plan: DriftPlan) -> dict[str, Any]:
    from benchmarks.drift_data import check_fill

    common.log("drift rates: checking that the direct fill equals WindowState.update")
    fill_ok = check_fill()
    tasks = [drift_rates.Task(r, size, windows, min(plan.power_windows, windows), plan.shifts,
                              plan.mixes)
             for size, windows in plan.windows for r in range(plan.references)]
    common.log(f"drift rates: {len(tasks)} tasks on {plan.workers} processes")
    results = drift_rates.run(tasks, plan.workers, common.log)
    common.log("drift rates: the calibrated tail against a 100,000-draw null")
    tail = drift_rates.tail_check([size for size, _ in plan.windows])
    return {"fill_equals_update": fill_ok, "tail_check": tail, "references": plan.references,
            "reference_rows": drift_rates.REFERENCE_ROWS, "shifts": plan.shifts,
            "mixes": plan.mixes, "by_size": drift_rates.summarise(results)}


def _devices(device: str) -> list[str]:
    """``auto``: the CPU, and CUDA too when torch sees a GPU; else just ``device``."""
    if device != "auto":
        return [device]
    import torch

    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def multivariate(plan: DriftPlan, device: str) -> dict[str, Any]:
    runs = {}
    for name in _devices(device):
        common.log(f"drift multivariate on {name}")
        started = time.perf_counter()
        run = common.in_child("drift_multivariate", {
            "device": name, "rows": list(plan.multivariate_rows),
            "embeddings": [list(e) for e in plan.embeddings],
            "repeats": plan.multivariate_repeats}, timeout_s=3600)
        run["wall_s"] = time.perf_counter() - started
        runs[run["device"]] = run
    return {"runs": runs}


def run_sections(plan: DriftPlan, sections: tuple[str, ...], device: str = "auto",
                 quick: bool = False) -> dict[str, Any]:
    """Measure ``sections``; each result carries when, where and how long it took."""
    out: dict[str, Any] = {}
    for name in sections:
        started, load = time.perf_counter(), _load()
        if name == "compare":
            result = compare(plan)
        elif name == "rates":
            result = rates(plan)
        else:
            result = multivariate(plan, device)
        result["meta"] = {"machine": common.machine(), "plan": asdict(plan), "quick": quick,
                          "load_before": load, "load_after": _load(),
                          "seconds": time.perf_counter() - started}
        out[name] = result
    return out


def merge(saved: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``new`` sections replace saved ones; multivariate runs are merged per device."""
    merged = dict(saved)
    for name, section in new.items():
        if name == "multivariate" and "multivariate" in saved:
            runs = {**saved["multivariate"].get("runs", {}), **section.get("runs", {})}
            metas = {**saved["multivariate"].get("metas", {}),
                     **{d: section.get("meta") for d in section.get("runs", {})}}
            merged[name] = {**section, "runs": runs, "metas": metas}
        elif name == "multivariate":
            merged[name] = {**section, "metas": {d: section.get("meta")
                                                 for d in section.get("runs", {})}}
        else:
            merged[name] = section
    return merged


def splice(path: Path, block: str) -> None:
    """Put ``block`` between the drift markers of ``path`` (appended when there are none)."""
    text = path.read_text() if path.exists() else "# Driftline benchmarks\n"
    begin, end = report_drift.BEGIN, report_drift.END
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip() + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.drift_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections: {', '.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="small sizes, single runs")
    parser.add_argument("--device", default="auto",
                        help="multivariate: cpu, cuda, or auto (the CPU, and CUDA if present)")
    parser.add_argument("--json", type=Path, default=RESULTS)
    parser.add_argument("--fresh", action="store_true",
                        help="do not merge into the results already in --json")
    parser.add_argument("--merge-json", type=Path, action="append", default=[],
                        help="add the sections of another results file (e.g. a GPU run)")
    parser.add_argument("--out", type=Path, help="document to splice the drift sections into")
    parser.add_argument("--render-only", action="store_true",
                        help="measure nothing: render --json into --out")
    args = parser.parse_args(argv)
    sections = tuple(s for s in args.only.split(",") if s)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; use {', '.join(SECTIONS)}")
    saved: dict[str, Any] = ({} if args.fresh or not args.json.exists()
                             else json.loads(args.json.read_text()))
    for other in args.merge_json:
        saved = merge(saved, json.loads(other.read_text()))
    if not args.merge_json and not args.render_only:
        plan = QUICK if args.quick else FULL
        saved = merge(saved, run_sections(plan, sections, args.device, args.quick))
    args.json.write_text(json.dumps(saved, indent=1, default=float))
    common.log(f"wrote {args.json}")
    if args.out:
        splice(args.out, report_drift.render(saved))
        common.log(f"wrote the drift sections into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
