"""The ``driftline`` command line, run as a user would (in-process through ``main``)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import create_engine, func, select

from monitor.cli import main
from monitor.db.schema import ApiKeyRow, ModelRow, ReferenceRow
from monitor.simulate import SimulationSpec, model_config, reference_rows, write_files


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/cli.db"
    assert main(["--database-url", url, "db", "upgrade"]) == 0
    return url


def _count(url: str, table: type) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        n = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    engine.dispose()
    return n


def test_bad_config_is_refused_naming_the_field(db: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model_id: m\ntask: binary_classification\nwindow: 1h\n"
                   "features:\n  - {name: a, type: numeric}\n  - {name: b, type: texty}\n")
    assert main(["--database-url", db, "models", "apply", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "features.1.type" in err
    assert "nothing applied" in err
    assert _count(db, ModelRow) == 0


def test_apply_reference_and_keys(db: str, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    spec = SimulationSpec(n_numeric=3, n_categorical=1, n_events=10)
    cfg = tmp_path / "model.json"
    cfg.write_bytes(orjson.dumps(model_config(spec)))
    ref = tmp_path / "ref.jsonl"
    ref.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in reference_rows(spec, 300)))
    assert main(["--database-url", db, "models", "apply", str(cfg)]) == 0
    assert main(["--database-url", db, "models", "apply", str(cfg)]) == 0
    assert main(["--database-url", db, "reference", "set", "ctr-ranker", str(ref)]) == 0
    assert main(["--database-url", db, "reference", "set", "nope", str(ref)]) == 2
    assert main(["--database-url", db, "keys", "create", "--scope", "read"]) == 0
    out = capsys.readouterr().out
    assert "model ctr-ranker created" in out
    assert "model ctr-ranker updated" in out
    assert "reference v1 for ctr-ranker: 300 rows" in out
    key = out.strip().splitlines()[-1]
    assert key.startswith("dl_")
    assert (_count(db, ModelRow), _count(db, ReferenceRow), _count(db, ApiKeyRow)) == (1, 1, 1)
    engine = create_engine(db)
    with engine.connect() as conn:
        stored = conn.execute(select(ApiKeyRow.key_sha256)).scalar_one()
    assert key not in stored


def test_backtest_writes_the_contract_files(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    spec = SimulationSpec(n_numeric=4, n_categorical=2, n_events=3000, rate_per_s=1.0,
                          drift_at=1500, seed=4)
    preds, fb = write_files(spec, tmp_path)
    cfg = tmp_path / "model.json"
    cfg.write_bytes(orjson.dumps(model_config(spec, window="15m")))
    ref = tmp_path / "ref.jsonl"
    ref.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in reference_rows(spec, 2000)))
    out = tmp_path / "out"
    assert main(["backtest", "--config", str(cfg), "--reference", str(ref), "--predictions",
                 str(preds), "--feedback", str(fb), "--out", str(out)]) == 0
    assert "3,000 prediction events" in capsys.readouterr().out
    records = [orjson.loads(line) for line in (out / "metrics.jsonl").read_bytes().splitlines()]
    windows = {r["window_start"] for r in records}
    assert len(windows) == 4  # 3000 s of events in 15-minute windows
    events = sum(r["value"] for r in records if r["metric"] == "events")
    assert events == 3000
    keys = set(records[0])
    assert {"model_id", "window_start", "window_end", "family", "metric", "feature", "slice",
            "value", "threshold", "p_value", "ci_low", "ci_high", "n", "status"} <= keys
    drifted = {r["feature"] for r in records if r["family"] == "data_drift"
               and r["status"] == "alert" and r["feature"] and r["window_start"] in
               sorted(windows)[2:]}
    assert set(spec.drifted_features) <= drifted
    # the same rule engine as the service, in event time: drift in windows 2 and 3 fires the
    # sustained-drift rule at window 3 and sends one retraining trigger with the evidence
    alerts = [orjson.loads(line) for line in (out / "alerts.jsonl").read_bytes().splitlines()]
    starts = sorted(windows)
    share = [next(r["status"] for r in records if r["window_start"] == w
                  and r["metric"] == "drift_share") for w in starts]
    fired = next(i for i in range(1, 4) if share[i - 1] == share[i] == "alert")
    assert fired in (2, 3)  # drift starts at event 1500, inside window 1
    assert [(a["rule"], a["state"], a["starts_at"]) for a in alerts
            if a["rule"] == "data_drift_sustained"] == [
        ("data_drift_sustained", "firing", starts[fired])]
    triggers = [orjson.loads(line) for line in (out / "triggers.jsonl").read_bytes().splitlines()]
    assert len(triggers) == 1
    (trigger,) = triggers
    window_end = next(r["window_end"] for r in records if r["window_start"] == starts[fired])
    assert (trigger["status"], trigger["created_at"]) == ("pending", window_end)
    assert set(spec.drifted_features) <= set(trigger["evidence"]["drifted_features"])
    assert trigger["reason"].startswith("data_drift_sustained")
    # a full replay finds the same trigger, not a second one
    again = tmp_path / "again"
    assert main(["backtest", "--config", str(cfg), "--reference", str(ref), "--predictions",
                 str(preds), "--feedback", str(fb), "--out", str(again)]) == 0
    assert (again / "triggers.jsonl").read_bytes() == (out / "triggers.jsonl").read_bytes()
    assert (again / "alerts.jsonl").read_bytes() == (out / "alerts.jsonl").read_bytes()


def test_backtest_replays_history_older_than_the_live_age_limit(tmp_path: Path) -> None:
    from monitor.backtest import run_backtest
    from monitor.config import parse_config
    from monitor.timeutil import now_ms

    spec = SimulationSpec(n_numeric=2, n_categorical=1, n_events=500,
                          start_ms=now_ms() - 200 * 86_400_000)
    preds, _ = write_files(spec, tmp_path)
    result = run_backtest(parse_config(model_config(spec)), None, preds)
    assert (result.stats.accepted, result.stats.dead_letters) == (500, 0)
