"""``make bench``: measure Driftline on this machine and write docs/benchmarks.md.

    python -m benchmarks.run --out docs/benchmarks.md     # the full run, about 25 minutes
    python -m benchmarks.run --quick --out /tmp/bench.md  # small sizes, about 2 minutes
    python -m benchmarks.run --skip-evidently             # without the Evidently comparison
    python -m benchmarks.run --only labels                # sections 9-10 (concept detectors
                                                          # vs River, CBPE error), spliced
    python -m benchmarks.run --only slices                # sections 11-12 (worst-slice cost,
                                                          # KPI intervals and alarms), spliced
    python -m benchmarks.run --only drift                 # only the drift sections (5-8), about
                                                          # 13 minutes, spliced into --out

What it measures (medians of repeated runs, each in a fresh process):

1. backtest throughput and peak memory at 100k and 1M events (25 features);
2. one worker from the embedded broker to committed windows, on SQLite and PostgreSQL, with
   the cost and latency of closing a window;
3. Evidently's ``DataDriftPreset`` on the same rows, time and peak memory;
4. where the time goes: the backtest and a worker batch under cProfile, by pipeline stage;
5-8. drift (:mod:`benchmarks.drift_bench`): Driftline against Evidently on 10k to 1M rows (time,
   memory, per-column verdicts), false alarms and detection power of the calibrated and
   evidently modes, MMD and domain-classifier timing. Their raw results also go to
   ``benchmarks/drift_results.json``, where a GPU run of the multivariate section can be merged.
9-10. labels (:mod:`benchmarks.labels_bench`): concept-drift detectors against River, CBPE's
   estimate against realized performance;
11-12. slices and KPIs (:mod:`benchmarks.slices_bench`): the cost of worst-slice discovery per
   window by rows, dimensions and values (``worst_slices``, the partition-merge service path,
   the per-slice sequential test), KPI interval coverage, false alarms of the always-valid test
   against a naive per-window z-test, and the KPI cost per window.

``--skip-drift``, ``--skip-labels`` and ``--skip-slices`` leave those sections out of a full run;
``--only drift|labels|slices`` runs only them and splices them into ``--out`` between their
markers, keeping the rest of the document.

``--baseline-tree DIR`` measures instead the backtest, its profile and the worker with
``monitor`` and ``detectors`` imported from DIR (e.g. an export of the revision before an
optimisation) and saves the figures to ``benchmarks/baseline.json`` (no report); later runs show
them as "before".
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks import common, drift_bench, labels_bench, report, slices_bench, worker_bench

BASELINE = Path(__file__).with_name("baseline.json")
LAST_RUN = Path(__file__).with_name("last_run.json")


@dataclass(frozen=True)
class Plan:
    backtest_sizes: tuple[int, ...]
    backtest_repeats: int
    profile_events: int
    evidently_runs: tuple[tuple[int, int], ...]  # (rows, runs)
    reference_rows: int
    worker_events: int
    worker_repeats: int


FULL = Plan(backtest_sizes=(100_000, 1_000_000), backtest_repeats=3, profile_events=200_000,
            evidently_runs=((100_000, 3), (1_000_000, 1)), reference_rows=100_000,
            worker_events=100_000, worker_repeats=3)
QUICK = Plan(backtest_sizes=(10_000, 50_000), backtest_repeats=2, profile_events=20_000,
             evidently_runs=((10_000, 1),), reference_rows=10_000, worker_events=10_000,
             worker_repeats=1)


def backtests(plan: Plan, data: Path, reference: Path, tree: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n in plan.backtest_sizes:
        path = common.prediction_file(data, n)
        runs = []
        for i in range(plan.backtest_repeats):
            common.log(f"backtest {n:,} events, run {i + 1}/{plan.backtest_repeats}")
            runs.append(common.in_child("backtest", {"path": str(path), "n_events": n,
                                                     "reference": str(reference)}, tree=tree))
        out[str(n)] = runs
    return out


def backtest_profile(plan: Plan, data: Path, reference: Path,
                     tree: str | None) -> dict[str, Any]:
    n = plan.profile_events
    common.log(f"profiling the backtest at {n:,} events")
    return common.in_child("profile_backtest", {
        "path": str(common.prediction_file(data, n)), "n_events": n,
        "reference": str(reference)}, tree=tree)


def floors(plan: Plan, data: Path, reference: Path) -> dict[str, Any]:
    n = plan.profile_events
    common.log(f"stage ceilings of the backtest at {n:,} events")
    return common.in_child("floors", {"path": str(common.prediction_file(data, n)),
                                      "n_events": n, "reference": str(reference)})


def evidently(plan: Plan, data: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, runs in plan.evidently_runs:
        path = common.prediction_file(data, n)
        results = []
        for i in range(runs):
            common.log(f"Evidently DataDriftPreset on {n:,} rows, run {i + 1}/{runs}")
            result = common.in_child("evidently", {"path": str(path), "n_events": n,
                                                   "reference_rows": plan.reference_rows},
                                     timeout_s=1800)
            results.append(result)
            if "error" in result:
                break
        out[str(n)] = results
    return out


def workers(plan: Plan, work: Path, trees: dict[str, str | None]) -> dict[str, Any]:
    """Per source tree ("current", maybe "baseline") and database: runs and a profiled run."""
    from monitor.embedded_broker import EmbeddedBroker

    out: dict[str, Any] = {"events": plan.worker_events, "partitions": worker_bench.PARTITIONS,
                           "window": worker_bench.WINDOW}
    databases = ["sqlite"]
    why_not = worker_bench.postgres_available()
    if why_not is None:
        databases.append("postgresql")
    else:
        out["postgresql_skipped"] = why_not
    with EmbeddedBroker(log_dir=work / "broker") as broker:
        topics = ("bench.predictions", "bench.feedback")
        broker.create_topics(list(topics), partitions=worker_bench.PARTITIONS)
        common.log(f"producing {plan.worker_events:,} predictions to the embedded broker")
        out["produce"] = worker_bench.produce(broker.bootstrap_servers, topics[0],
                                              worker_bench.stream_spec(plan.worker_events))
        base = {"n_events": plan.worker_events, "bootstrap": broker.bootstrap_servers,
                "topic": topics[0], "feedback_topic": topics[1], "reference_rows": 10_000}
        common.log("the Kafka client alone, same consumer settings")
        out["consume_only"] = common.in_child("consume", base)
        for label, tree in trees.items():
            for db in databases:
                runs = []
                for i in range(plan.worker_repeats + 1):  # the last run is the profiled one
                    profiled = i == plan.worker_repeats
                    common.log(f"worker ({label} code) on {db}, "
                               f"{'profiled run' if profiled else f'run {i + 1}'}")
                    url = worker_bench.new_database(db, work)
                    try:
                        runs.append(common.in_child("worker", {**base, "url": url,
                                                               "profile": profiled}, tree=tree))
                    finally:
                        worker_bench.drop_database(url)
                out[f"{label}:{db}"] = {"runs": runs[:-1], "profile": runs[-1]}
    return out


def _baseline(plan: dict[str, Any]) -> dict[str, Any] | None:
    """The saved "before" figures, if they were measured with the same plan."""
    if not BASELINE.exists():
        return None
    baseline: dict[str, Any] = json.loads(BASELINE.read_text())
    same = baseline.get("plan") == json.loads(json.dumps(plan))
    return baseline if same else None


def _drift(quick: bool) -> dict[str, Any]:
    """Sections 5-8, also merged into ``drift_results.json`` (where GPU runs are added)."""
    plan = drift_bench.QUICK if quick else drift_bench.FULL
    drift = drift_bench.run_sections(plan, drift_bench.SECTIONS, quick=quick)
    saved = (json.loads(drift_bench.RESULTS.read_text()) if drift_bench.RESULTS.exists()
             else {})
    merged = drift_bench.merge(saved, drift)
    drift_bench.RESULTS.write_text(json.dumps(merged, indent=1, default=float))
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--quick", action="store_true", help="small sizes, one or two runs")
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument("--skip-worker", action="store_true")
    parser.add_argument("--skip-drift", action="store_true", help="leave out sections 5-8")
    parser.add_argument("--skip-labels", action="store_true", help="leave out sections 9-10")
    parser.add_argument("--skip-slices", action="store_true",
                        help="leave out sections 11-12")
    parser.add_argument("--only", choices=["drift", "labels", "slices"],
                        help="run only these sections and splice them into --out, keeping "
                             "the rest of the document")
    parser.add_argument("--data-dir", type=Path,
                        help="keep generated streams here (reused by later runs)")
    parser.add_argument("--json", type=Path, default=LAST_RUN,
                        help=f"where the raw results go (default {LAST_RUN.name} beside this)")
    parser.add_argument("--from-json", type=Path,
                        help="measure nothing: render the report from saved raw results")
    parser.add_argument("--baseline-tree", type=Path,
                        help="source tree to measure as 'before' (saved to baseline.json)")
    parser.add_argument("--baseline-label", default="",
                        help="what the baseline tree is, for the report")
    args = parser.parse_args(argv)
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        saved.setdefault("baseline", _baseline(saved["plan"]))
        args.out.write_text(report.render(saved))
        common.log(f"wrote {args.out}")
        return 0
    # sections that splice themselves into --out between their markers
    spliced = {"drift": drift_bench.main, "labels": labels_bench.main,
               "slices": slices_bench.main}
    splice_args = ["--out", str(args.out), *(["--quick"] if args.quick else [])]
    if args.only:
        return spliced[args.only](splice_args)
    plan = QUICK if args.quick else FULL
    work = Path(tempfile.mkdtemp(prefix="driftline-bench-"))
    data = args.data_dir or work / "data"
    tree = str(args.baseline_tree.resolve()) if args.baseline_tree else None
    results: dict[str, Any] = {"machine": common.machine(), "plan": asdict(plan),
                               "quick": args.quick}
    label = "baseline" if tree else "current"
    try:
        common.log(f"plan: {plan}")
        for n in sorted(plan.backtest_sizes, reverse=True):
            common.prediction_file(data, n)
        reference = common.reference_file(data, plan.reference_rows)
        results["backtest"] = backtests(plan, data, reference, tree)
        results["profile"] = backtest_profile(plan, data, reference, tree)
        if not tree:
            results["floors"] = floors(plan, data, reference)
        if not args.skip_worker:
            results["worker"] = workers(plan, work, {label: tree})
        if not args.skip_evidently and not tree:
            results["evidently"] = evidently(plan, data)
        if not args.skip_drift and not tree:
            results["drift"] = _drift(args.quick)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if tree:
        baseline = {"label": args.baseline_label, **results,
                    "worker": {k.split(":", 1)[1]: v for k, v in results.get("worker", {}).items()
                               if ":" in k}}
        path = BASELINE if args.json == LAST_RUN else args.json
        path.write_text(json.dumps(baseline, indent=1, default=float))
        common.log(f"wrote {path}")
        return 0
    results["baseline"] = _baseline(asdict(plan))
    args.json.write_text(json.dumps(results, indent=1, default=float))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report.render(results))
    common.log(f"wrote {args.out}")
    for name, skip in (("labels", args.skip_labels), ("slices", args.skip_slices)):
        if not skip:
            spliced[name](splice_args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
