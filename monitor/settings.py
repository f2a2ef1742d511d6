"""Service settings, read from ``DRIFTLINE_*`` environment variables.

Every setting has an embedded default (SQLite file under ``./.driftline/``, broker on localhost),
so ``driftline worker`` and ``driftline serve`` run with no configuration at all.

>>> s = Settings.from_env({"DRIFTLINE_CONSUMER_GROUP": "g1", "DRIFTLINE_POLL_MAX_RECORDS": "500"})
>>> (s.consumer_group, s.poll_max_records, s.predictions_topic)
('g1', 500, 'driftline.predictions')
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

PREFIX = "DRIFTLINE_"


class SettingsError(ValueError):
    """An environment variable holds a value of the wrong type."""


@dataclass(frozen=True)
class Settings:
    """Process-wide settings. Field ``name`` is read from ``DRIFTLINE_NAME``."""

    database_url: str = "sqlite:///./.driftline/driftline.db"
    kafka_bootstrap_servers: str = "localhost:9092"
    predictions_topic: str = "driftline.predictions"
    feedback_topic: str = "driftline.feedback"
    consumer_group: str = "driftline"
    auto_offset_reset: str = "earliest"
    poll_max_records: int = 5000
    poll_timeout_ms: int = 3000
    max_event_bytes: int = 262_144
    max_clock_skew_s: int = 3600
    max_event_age_s: int = 90 * 86400
    idle_partition_timeout_s: float = 30.0
    relabel_interval_s: float = 60.0
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_max_body_bytes: int = 1_048_576
    api_max_upload_bytes: int = 64 * 1_048_576
    api_max_page_size: int = 1000
    api_max_range_days: int = 366
    log_level: str = "INFO"
    external_url: str = "http://127.0.0.1:8000"
    url_allowlist: str = ""
    secret_overlap_s: int = 86_400
    callback_secrets: str = ""
    relay_interval_s: float = 1.0
    delivery_max_attempts: int = 25
    delivery_max_age_s: int = 86_400
    delivery_alert_after: int = 5
    retraining_kill_switch: bool = False
    reporting_password: str = ""
    reporting_statement_timeout_ms: int = 10_000
    grafana_url: str = ""
    grafana_token: str = ""
    grafana_datasource_url: str = ""

    @property
    def url_allow(self) -> tuple[str, ...]:
        """``url_allowlist`` as CIDRs and host names (comma-separated)."""
        return tuple(x.strip() for x in self.url_allowlist.split(",") if x.strip())

    @property
    def callback_secret_list(self) -> tuple[str, ...]:
        return tuple(x.strip() for x in self.callback_secrets.split(",") if x.strip())

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(PREFIX + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _coerce(f.name, raw, f.type)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @classmethod
    def env_names(cls) -> list[str]:
        """All environment variables Driftline reads."""
        return [PREFIX + f.name.upper() for f in fields(cls)]


def _coerce(name: str, raw: str, type_name: object) -> object:
    kind = str(type_name)
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            lowered = raw.strip().lower()
            if lowered not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                raise ValueError(raw)
            return lowered in ("1", "true", "yes", "on")
    except ValueError as exc:
        raise SettingsError(f"{PREFIX}{name.upper()}: expected {kind}, got {raw!r}") from exc
    return raw


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings.from_env()
