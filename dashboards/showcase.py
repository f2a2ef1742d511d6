"""A seeded stream that gives every dashboard panel something to show.

Twelve hourly windows of a click-through model (1,200 predictions an hour) with three incidents:

- **data drift**: features ``amount`` (by one standard deviation) and ``tenure`` (its scale by
  half) shift from window 6;
- **a slice failure**: the error rate of ``country=KR`` goes from 10% to 45% from window 5;
- **a KPI drop**: the click-through rate of ``device=ios`` falls from 12% to 2% from window 7.

Plus the operational noise a real stream has: a few malformed lines (dead letters), events that
arrive hours after their window was final (late events), and a retraining target that nothing
delivers to, so the outbox holds a backlog. ``write_showcase`` writes the files;
``driftline backtest --into-database`` (or :func:`monitor.backtest.run_backtest` with an engine)
loads them, and the dashboards' pictures in the README are drawn from that database.

>>> import tempfile
>>> files = write_showcase(Path(tempfile.mkdtemp()))
>>> sum(1 for _ in files.predictions.open()) > 12 * 1200
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MODEL_ID = "ctr-ranker"
START_MS = 1_795_000_000_000 - 1_795_000_000_000 % 3_600_000  # 2026-11-18T11:00:00Z
HOUR_MS = 3_600_000
WINDOWS = 12
PER_WINDOW = 1200
DRIFT_FROM = 6
SLICE_FAILURE_FROM = 5
KPI_DROP_FROM = 7
COUNTRIES = ("US", "DE", "BR", "FR", "KR")
COUNTRY_P = (0.4, 0.2, 0.15, 0.15, 0.1)
DEVICES = ("ios", "android", "web")


@dataclass(frozen=True)
class ShowcaseFiles:
    config: Path
    reference: Path
    predictions: Path
    feedback: Path


def model_config() -> dict[str, Any]:
    """The showcase model: slices by country and device, a CTR KPI, and a retraining target."""
    return {
        "model_id": MODEL_ID,
        "task": "binary_classification",
        "window": "1h",
        "features": [{"name": "amount", "type": "numeric"},
                     {"name": "tenure", "type": "numeric"},
                     {"name": "country", "type": "categorical"},
                     {"name": "device", "type": "categorical"}],
        "slices": ["country", "device"],
        "kpis": [{"name": "ctr", "numerator": "click", "denominator": "predictions"}],
        "retraining": {"enabled": True, "on": ["data_drift_sustained", "performance_drop"],
                       "cooldown": "1h", "max_running": 5, "daily_budget": 5,
                       "dispatch": {"type": "http",
                                    "url": "https://training.example.com/retrain"}},
    }


def _iso(ms: int) -> str:
    seconds, millis = divmod(int(ms), 1000)
    text = np.datetime64(seconds, "s").astype(str)
    return f"{text}.{millis:03d}Z"


def _rows(rng: np.random.Generator, n: int, window: int | None) -> list[dict[str, Any]]:
    """``n`` predictions with their truth; ``window`` None is the reference period."""
    w = -1 if window is None else window
    amount = rng.normal(1.0 if w >= DRIFT_FROM else 0.0, 1.0, n)
    tenure = rng.gamma(2.0, 3.0 if w >= DRIFT_FROM else 2.0, n)
    country = rng.choice(COUNTRIES, n, p=COUNTRY_P)
    device = rng.choice(DEVICES, n, p=(0.4, 0.4, 0.2))
    score = 1.0 / (1.0 + np.exp(-(0.8 * rng.normal(0, 1, n) + 0.3 * (amount - 1.0))))
    prediction = (score > 0.5).astype(int)
    out = []
    for i in range(n):
        bad = 0.45 if (country[i] == "KR" and w >= SLICE_FAILURE_FROM) else 0.10
        label = int(prediction[i]) if rng.random() >= bad else 1 - int(prediction[i])
        ctr = 0.02 if (device[i] == "ios" and w >= KPI_DROP_FROM) else 0.12
        out.append({"features": {"amount": round(float(amount[i]), 4),
                                 "tenure": round(float(tenure[i]), 3),
                                 "country": str(country[i]), "device": str(device[i])},
                    "prediction": int(prediction[i]), "score": round(float(score[i]), 4),
                    "label": label, "events": {"click": float(rng.random() < ctr)}})
    return out


def write_showcase(directory: Path, seed: int = 7) -> ShowcaseFiles:
    """Write ``config.json``, ``reference.jsonl``, ``predictions.jsonl`` and ``feedback.jsonl``."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    files = ShowcaseFiles(directory / "config.json", directory / "reference.jsonl",
                          directory / "predictions.jsonl", directory / "feedback.jsonl")
    files.config.write_text(json.dumps(model_config(), indent=2) + "\n", encoding="utf-8")
    with files.reference.open("w", encoding="utf-8") as fh:
        for i, row in enumerate(_rows(rng, 4000, None)):
            fh.write(json.dumps({"model_id": MODEL_ID, "prediction_id": f"ref-{i}",
                                 "timestamp": _iso(START_MS - HOUR_MS), **row}) + "\n")
    late: list[str] = []
    with files.predictions.open("w", encoding="utf-8") as preds, \
            files.feedback.open("w", encoding="utf-8") as fb:
        for w in range(WINDOWS):
            offsets = np.sort(rng.integers(0, HOUR_MS, PER_WINDOW))
            for i, row in enumerate(_rows(rng, PER_WINDOW, w)):
                ts = START_MS + w * HOUR_MS + int(offsets[i])
                pid = f"w{w}-{i}"
                line = json.dumps({"model_id": MODEL_ID, "prediction_id": pid,
                                   "timestamp": _iso(ts), "features": row["features"],
                                   "prediction": row["prediction"], "score": row["score"]})
                if w == 1 and i < 6:
                    late.append(line.replace(pid, f"late-{i}"))  # replayed at the end
                preds.write(line + "\n")
                if rng.random() < 0.9:  # 90% of predictions get their label 5 minutes later
                    fb.write(json.dumps({"model_id": MODEL_ID, "prediction_id": pid,
                                         "timestamp": _iso(ts + 300_000), "label": row["label"],
                                         "events": row["events"]}) + "\n")
            if w in (3, 8):  # a producer bug: lines that are not events
                preds.write('{"model_id": "ctr-ranker", "prediction_id": "broken"}\n')
                preds.write("not json at all\n")
        for line in late:  # window 1 was final hours ago: counted as late, not applied
            preds.write(line + "\n")
    return files
