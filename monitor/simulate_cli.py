"""``driftline simulate``: synthetic traffic to Kafka (or to JSONL files), drift on request."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

import orjson

from monitor.settings import Settings
from monitor.simulate import SimulationSpec, model_config, produce, reference_rows, write_files
from monitor.timeutil import now_ms, parse_duration


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model-id", default="ctr-ranker")
    parser.add_argument("--events", type=int, default=10_000, help="number of predictions")
    parser.add_argument("--rate", type=float, default=10.0,
                        help="predictions per second of event time (default 10)")
    parser.add_argument("--start", default=None,
                        help="event time of the first prediction, as a duration before now "
                             "(e.g. 6h; default: so that the last event is about now)")
    parser.add_argument("--drift-at", type=int, default=None,
                        help="index of the first prediction with injected drift")
    parser.add_argument("--drift-features", default=None,
                        help="comma-separated feature names (default: the first 3 numeric)")
    parser.add_argument("--drift-shift", type=float, default=1.0,
                        help="shift in standard deviations (default 1.0)")
    parser.add_argument("--category-drift", action="store_true",
                        help="also change the mix of the first categorical feature")
    parser.add_argument("--feedback-share", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pace", type=float, default=None,
                        help="event-time seconds per wall-clock second (default: full speed)")
    parser.add_argument("--window", default="1h", help="window of the emitted config")
    parser.add_argument("--out", default=None,
                        help="write predictions.jsonl, feedback.jsonl, reference.jsonl and "
                             "model.json into this directory instead of producing to Kafka")


def spec_from_args(args: argparse.Namespace) -> SimulationSpec:
    span_ms = int(args.events / args.rate * 1000)
    start = (now_ms() - parse_duration(args.start) if args.start
             else now_ms() - span_ms - 60_000)
    known = {f.name for f in fields(SimulationSpec)}
    drift_features = tuple(args.drift_features.split(",")) if args.drift_features else None
    values = {"model_id": args.model_id, "n_events": args.events, "rate_per_s": args.rate,
              "start_ms": start, "drift_at": args.drift_at, "drift_features": drift_features,
              "drift_shift": args.drift_shift, "category_drift": args.category_drift,
              "feedback_share": args.feedback_share, "seed": args.seed}
    return SimulationSpec(**{k: v for k, v in values.items() if k in known})


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        spec = spec_from_args(args)
    except ValueError as exc:
        print(f"driftline simulate: error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        out = Path(args.out)
        preds, fb = write_files(spec, out)
        (out / "reference.jsonl").write_bytes(b"".join(
            orjson.dumps(r) + b"\n" for r in reference_rows(spec, 5000)))
        (out / "model.json").write_bytes(orjson.dumps(model_config(spec, args.window),
                                                      option=orjson.OPT_INDENT_2))
        print(f"wrote {preds}, {fb}, {out / 'reference.jsonl'}, {out / 'model.json'}")
        return 0

    def progress(counts: dict[str, int]) -> None:
        print(f"  sent {counts.get('predictions', 0):,} predictions, "
              f"{counts.get('feedback', 0):,} feedback", file=sys.stderr, flush=True)

    counts = produce(spec, settings.kafka_bootstrap_servers, settings.predictions_topic,
                     settings.feedback_topic, pace=args.pace, on_progress=progress)
    print(f"produced {counts.get('predictions', 0):,} predictions and "
          f"{counts.get('feedback', 0):,} feedback events to {settings.kafka_bootstrap_servers}")
    return 0
