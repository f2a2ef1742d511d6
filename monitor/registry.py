"""Where the processor finds models: a fixed set (backtest) or the database (worker)."""

from __future__ import annotations

import time
from typing import Any

import orjson
from sqlalchemy import Engine, select

from monitor.config import ModelConfig, parse_config
from monitor.db.schema import ModelRow, ReferenceRow
from monitor.processing import ModelRuntime, Registry
from monitor.reference import ReferenceProfile


class StaticRegistry(Registry):
    def __init__(self, runtimes: list[ModelRuntime]) -> None:
        self._models = {rt.config.model_id: rt for rt in runtimes}

    def get(self, model_id: str) -> ModelRuntime | None:
        return self._models.get(model_id)

    def all(self) -> list[ModelRuntime]:
        return list(self._models.values())

    def load_profile(self, model_id: str, version: int) -> ReferenceProfile | None:
        rt = self._models.get(model_id)
        return rt.profile if rt and rt.profile.version == version else None


class DbRegistry(Registry):
    """Models and their active references, reloaded from the database every ``refresh_s``."""

    def __init__(self, engine: Engine, refresh_s: float = 5.0) -> None:
        self.engine = engine
        self.refresh_s = refresh_s
        self._models: dict[str, ModelRuntime] = {}
        self._signature: Any = None
        self._loaded_at = 0.0

    def refresh(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._loaded_at < self.refresh_s:
            return
        with self.engine.connect() as conn:
            models = conn.execute(select(ModelRow.model_id, ModelRow.config,
                                         ModelRow.config_version)).all()
            latest = {mid: (ver, prof) for mid, ver, prof in conn.execute(
                select(ReferenceRow.model_id, ReferenceRow.version, ReferenceRow.profile)
                .order_by(ReferenceRow.model_id, ReferenceRow.version))}
        fresh: dict[str, ModelRuntime] = {}
        for model_id, raw, cfg_version in models:
            ref = latest.get(model_id)
            current = self._models.get(model_id)
            ref_version = ref[0] if ref else 0
            if (current is not None and current.profile.version == ref_version
                    and current.config_version == cfg_version):
                fresh[model_id] = current
                continue
            config: ModelConfig = parse_config(orjson.loads(raw))
            profile = (ReferenceProfile.from_json(orjson.loads(ref[1])) if ref
                       else ReferenceProfile.empty(config))
            fresh[model_id] = ModelRuntime(config, profile, config_version=cfg_version)
        self._models = fresh
        self._loaded_at = time.monotonic()

    def get(self, model_id: str) -> ModelRuntime | None:
        return self._models.get(model_id)

    def all(self) -> list[ModelRuntime]:
        return list(self._models.values())

    def load_profile(self, model_id: str, version: int) -> ReferenceProfile | None:
        with self.engine.connect() as conn:
            raw = conn.execute(select(ReferenceRow.profile).where(
                ReferenceRow.model_id == model_id, ReferenceRow.version == version)).scalar()
        return ReferenceProfile.from_json(orjson.loads(raw)) if raw else None
