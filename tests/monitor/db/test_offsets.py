"""The stored offset only moves by compare-and-set: a fenced consumer cannot commit a copy."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from monitor.db.schema import ProcessedEventRow
from monitor.db.sql_store import UNSET_OFFSET, SqlStore
from monitor.processing import ModelRuntime, Processor
from monitor.registry import StaticRegistry
from tests.factories import config, event, message, reference


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_stale_consumer_is_fenced_and_its_batch_rolls_back(
        db: str, request: pytest.FixtureRequest) -> None:
    engine: Engine = request.getfixturevalue("sqlite_engine" if db == "sqlite" else "pg_engine")
    cfg = config()
    processor = Processor(StaticRegistry([ModelRuntime(cfg, reference(cfg))]))
    ts = 1_795_000_000_000
    with engine.begin() as conn:
        store = SqlStore(conn)
        store.ensure_partitions("driftline.predictions", [0])
        assert store.stored_offsets("driftline.predictions") == {0: UNSET_OFFSET}
    # consumer A commits offsets 0..9
    with engine.begin() as conn:
        store = SqlStore(conn)
        assert store.advance_offset("driftline.predictions", 0, UNSET_OFFSET, 10)
        processor.apply_batch(store, [message(event(i, ts + i), i) for i in range(10)])
    # consumer B (paused, its partition moved on) still believes the offset is -1
    def stale_batch() -> None:
        with engine.begin() as conn:
            stale = SqlStore(conn)
            processor.apply_batch(stale, [message(event(i, ts + i), i) for i in range(10, 20)])
            if not stale.advance_offset("driftline.predictions", 0, UNSET_OFFSET, 10):
                raise RuntimeError("fenced")

    with pytest.raises(RuntimeError, match="fenced"):
        stale_batch()
    with engine.connect() as conn:
        store = SqlStore(conn)
        assert store.stored_offsets("driftline.predictions") == {0: 10}
        assert store.load_partition_state("m", ts - ts % 3_600_000, 0) is not None
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ProcessedEventRow)).scalar_one() == 10
