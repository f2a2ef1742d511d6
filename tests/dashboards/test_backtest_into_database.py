"""``driftline backtest --into-database`` and ``driftline db upgrade``'s reporting role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from monitor.cli import main
from monitor.db.engine import make_engine
from monitor.db.reporting import ROLE
from monitor.db.schema import MODELS, REFERENCES
from monitor.settings import get_settings


@pytest.fixture
def stream(tmp_path: Path) -> Path:
    out = tmp_path / "sim"
    assert main(["simulate", "--events", "3000", "--seed", "3", "--drift-at", "1500",
                 "--out", str(out)]) == 0
    return out


def _backtest(stream: Path, out: Path, url: str | None = None) -> int:
    into = ["--into-database"] if url else []
    return main([*(["--database-url", url] if url else []), "backtest",
                 "--config", str(stream / "model.json"),
                 "--reference", str(stream / "reference.jsonl"),
                 "--predictions", str(stream / "predictions.jsonl"),
                 "--feedback", str(stream / "feedback.jsonl"), "--out", str(out), *into])


def _lines(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_into_database_writes_what_the_in_memory_backtest_computes(
        stream: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'bt.db'}"
    assert _backtest(stream, tmp_path / "none", url) == 2
    assert "run `driftline db upgrade` first" in capsys.readouterr().err

    assert main(["--database-url", url, "db", "upgrade"]) == 0
    assert _backtest(stream, tmp_path / "memory") == 0
    assert _backtest(stream, tmp_path / "db", url) == 0
    for name in ("metrics.jsonl", "alerts.jsonl", "triggers.jsonl", "dead_letters.jsonl"):
        memory, stored = _lines(tmp_path / "memory" / name), _lines(tmp_path / "db" / name)
        def key(row: dict[str, object]) -> bytes:
            return orjson.dumps(row, option=orjson.OPT_SORT_KEYS)

        assert sorted(map(key, stored)) == sorted(map(key, memory)), name
    assert any(r["status"] == "alert" for r in _lines(tmp_path / "db" / "metrics.jsonl"))

    engine = make_engine(url)
    with engine.connect() as conn:
        assert [r.model_id for r in conn.execute(select(MODELS))] == ["ctr-ranker"]
        assert conn.execute(select(REFERENCES.c.version)).scalars().all() == [1]
        stored = conn.execute(text("SELECT count(*) FROM metric_records")).scalar()
    engine.dispose()
    assert stored == len(_lines(tmp_path / "memory" / "metrics.jsonl"))


@pytest.fixture
def reporting_password(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    password = "it's 100% : secret"
    monkeypatch.setenv("DRIFTLINE_REPORTING_PASSWORD", password)
    monkeypatch.setenv("DRIFTLINE_REPORTING_STATEMENT_TIMEOUT_MS", "1500")
    get_settings.cache_clear()
    yield password
    get_settings.cache_clear()


@pytest.mark.postgres
def test_db_upgrade_gives_the_reporting_role_its_login_and_timeout(
        pg_url: str, reporting_password: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database-url", pg_url, "db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert f"{ROLE}: statement_timeout 1500 ms" in out
    assert f"{ROLE}: login enabled, password set" in out
    assert reporting_password not in out
    reader = create_engine(make_url(pg_url).set(username=ROLE, password=reporting_password))
    with reader.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "1500ms"
        assert conn.execute(text("SELECT count(*) FROM reporting.metric_records")).scalar() == 0
    reader.dispose()
