"""The committed dashboard JSON is what the code generates, and it has the shape Grafana and
the provisioning files expect."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from dashboards import generate
from dashboards.catalog import (
    DATASOURCE_TYPE,
    DATASOURCE_UID,
    FOLDER_UID,
    JSON_DIR,
    PROVISIONING_DIR,
    dashboard_json,
)

UIDS = ["driftline-features", "driftline-kpis", "driftline-operations", "driftline-overview",
        "driftline-performance", "driftline-slices"]


def test_regenerating_changes_nothing() -> None:
    assert generate.stale() == []


def test_a_hand_edit_or_a_stray_file_is_reported_stale(tmp_path: Path) -> None:
    generate.write(tmp_path)
    assert generate.stale(tmp_path) == []
    edited = tmp_path / "driftline-kpis.json"
    edited.write_text(edited.read_text().replace("KPI", "Kpi"))
    (tmp_path / "old.json").write_text("{}")
    (tmp_path / "driftline-slices.json").unlink()
    assert generate.stale(tmp_path) == ["driftline-kpis.json", "driftline-slices.json",
                                        "old.json"]
    assert generate.main(["--check"]) == 0


def test_uids_are_stable_and_every_panel_reads_the_driftline_datasource() -> None:
    models = dashboard_json()
    assert [m["uid"] for m in models] == UIDS
    assert sorted(p.stem for p in JSON_DIR.glob("*.json")) == UIDS
    for m in models:
        ids = [p["id"] for p in m["panels"]]
        assert ids == list(range(1, len(ids) + 1)), m["uid"]
        for p in m["panels"]:
            assert p["datasource"] == {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}
            assert p["description"], (m["uid"], p["title"])
            assert p["gridPos"]["x"] + p["gridPos"]["w"] <= 24
            for t in p["targets"]:
                assert t["format"] in ("time_series", "table")
                # only the reporting views, never the tables behind them
                tables = re.findall(r"\b(?:FROM|JOIN)\s+([\w.]+)", t["rawSql"])
                assert tables, t["rawSql"]
                assert all(x.startswith("reporting.") for x in tables), t["rawSql"]


def test_template_variables_and_annotations() -> None:
    by_uid = {m["uid"]: m for m in dashboard_json()}
    names = {uid: [v["name"] for v in m["templating"]["list"]] for uid, m in by_uid.items()}
    assert names == {"driftline-overview": ["model"], "driftline-features": ["model", "feature"],
                     "driftline-performance": ["model"], "driftline-slices": ["model", "slice"],
                     "driftline-kpis": ["model", "kpi", "slice"],
                     "driftline-operations": ["model"]}
    overview = [a["name"] for a in by_uid["driftline-overview"]["annotations"]["list"]]
    assert overview[1:] == ["Alerts", "Retraining triggers"]
    kinds = {p["type"] for m in by_uid.values() for p in m["panels"]}
    assert {"heatmap", "table", "timeseries", "state-timeline", "stat"} <= kinds


def test_provisioning_points_at_the_generated_dashboards_and_the_reporting_role() -> None:
    ds = yaml.safe_load((PROVISIONING_DIR / "datasources" / "driftline.yaml").read_text())
    (source,) = ds["datasources"]
    assert (source["uid"], source["type"], source["user"]) == (
        DATASOURCE_UID, DATASOURCE_TYPE, "driftline_reporting")
    assert source["secureJsonData"]["password"] == "${DRIFTLINE_REPORTING_PASSWORD}"
    prov = yaml.safe_load((PROVISIONING_DIR / "dashboards" / "driftline.yaml").read_text())
    (provider,) = prov["providers"]
    assert (provider["folderUid"], provider["type"]) == (FOLDER_UID, "file")
    assert json.loads((JSON_DIR / "driftline-overview.json").read_text())["uid"] == UIDS[3]
