"""The committed dashboards and the names they share with the provisioning files.

>>> sorted(d["uid"] for d in dashboard_json())[:2]
['driftline-features', 'driftline-kpis']
>>> datasource_spec("db:5432", "driftline", "pw")["uid"]
'driftline-pg'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from monitor.db.reporting import ROLE, SCHEMA

#: Where the generated dashboards live, one ``<uid>.json`` each.
JSON_DIR = Path(__file__).resolve().parent / "json"
#: Grafana provisioning files (datasource and dashboard provider).
PROVISIONING_DIR = Path(__file__).resolve().parent / "provisioning"

FOLDER_UID = "driftline"
FOLDER_TITLE = "Driftline"
DATASOURCE_UID = "driftline-pg"
DATASOURCE_NAME = "Driftline PostgreSQL"
DATASOURCE_TYPE = "grafana-postgresql-datasource"
#: The SELECT-only role the datasource logs in as (created by migration 0004).
REPORTING_ROLE = ROLE
#: The schema holding the reporting views, the only objects that role can read.
REPORTING_SCHEMA = SCHEMA


def dashboard_json(directory: Path = JSON_DIR) -> list[dict[str, Any]]:
    """Every committed dashboard model, sorted by uid."""
    models = [json.loads(p.read_text(encoding="utf-8")) for p in directory.glob("*.json")]
    return sorted(models, key=lambda m: str(m["uid"]))


def datasource_spec(url: str, database: str, password: str,
                    user: str = REPORTING_ROLE, sslmode: str = "disable") -> dict[str, Any]:
    """The Grafana datasource model for the reporting role (Grafana's ``POST /api/datasources``
    body); ``url`` is ``host:port`` as Grafana's PostgreSQL datasource expects."""
    return {
        "uid": DATASOURCE_UID,
        "name": DATASOURCE_NAME,
        "type": DATASOURCE_TYPE,
        "access": "proxy",
        "url": url,
        "user": user,
        "database": database,
        "basicAuth": False,
        "isDefault": False,
        "jsonData": {"database": database, "sslmode": sslmode, "postgresVersion": 1500,
                     "timescaledb": False, "maxOpenConns": 10, "maxIdleConns": 2,
                     "connMaxLifetime": 14400},
        "secureJsonData": {"password": password},
        "readOnly": False,
    }
