"""``driftline dashboards push`` against a real HTTP server speaking Grafana's API, and
``driftline dashboards export``: the exact requests, idempotency, errors, files."""

from __future__ import annotations

import copy
import io
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboards import catalog
from dashboards.catalog import (
    DATASOURCE_UID,
    FOLDER_TITLE,
    FOLDER_UID,
    dashboard_json,
    datasource_spec,
)
from monitor import grafana_push
from monitor.cli import main
from monitor.grafana_push import (
    PUSH_MESSAGE,
    DashboardsError,
    ExportError,
    GrafanaPushError,
    connect,
    dashboard_bytes,
    datasource_from_settings,
    export,
    push,
)
from monitor.settings import Settings, get_settings
from tests.monitor.fake_grafana import FakeGrafana, Request, serve

TOKEN = "glsa_test_token"
DS = datasource_spec("db:5432", "driftline", "s3cret")
FOLDER_GET = ("GET", f"/api/folders/{FOLDER_UID}")
DS_GET = ("GET", f"/api/datasources/uid/{DATASOURCE_UID}")


def sample_models() -> list[dict[str, Any]]:
    panel = {"id": 1, "type": "timeseries", "title": "PSI",
             "datasource": {"type": "grafana-postgresql-datasource", "uid": DATASOURCE_UID},
             "targets": [{"refId": "A", "rawSql": "SELECT 1", "format": "time_series"}]}
    return [
        {"uid": "driftline-drift", "title": "Driftline drift", "schemaVersion": 39,
         "tags": ["driftline"], "panels": [panel], "time": {"from": "now-7d", "to": "now"}},
        {"uid": "driftline-kpis", "title": "Driftline KPIs", "schemaVersion": 39,
         "tags": ["driftline"], "panels": [{**panel, "title": "CTR"}]},
    ]


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    with serve(FakeGrafana(token=TOKEN)) as g:
        yield g


@pytest.fixture(params=["sample", "committed"])
def models(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """Small dashboards built here, and the committed ones once they exist."""
    if request.param == "committed":
        committed = dashboard_json()
        if not committed:
            pytest.skip("no committed dashboards under dashboards/json yet")
        return committed
    return sample_models()


def api_for(g: FakeGrafana, token: str = TOKEN) -> Any:
    return connect(g.url, token, timeout=5)


def dashboard_post(model: dict[str, Any], folder_uid: str = FOLDER_UID) -> dict[str, Any]:
    return {"dashboard": {**model, "id": None}, "folderUid": folder_uid, "overwrite": True,
            "message": PUSH_MESSAGE}


def reads(models: list[dict[str, Any]], datasource: bool = True) -> list[tuple[str, str]]:
    """The GETs of a push that finds everything as wanted."""
    return [FOLDER_GET, *([DS_GET] if datasource else []),
            *(("GET", f"/api/dashboards/uid/{m['uid']}") for m in models)]


def bodies(requests: list[Request]) -> list[Any]:
    return [r.body for r in requests if r.method != "GET"]


def test_first_push_creates_folder_datasource_and_each_dashboard(
        grafana: FakeGrafana, models: list[dict[str, Any]]) -> None:
    out = io.StringIO()
    result = push(api_for(grafana), models, DS, progress=out)

    expected: list[tuple[str, str]] = [FOLDER_GET, ("POST", "/api/folders"), DS_GET,
                                       ("POST", "/api/datasources")]
    for m in models:
        expected += [("GET", f"/api/dashboards/uid/{m['uid']}"), ("POST", "/api/dashboards/db")]
    assert grafana.calls() == expected
    assert bodies(grafana.requests) == [{"title": FOLDER_TITLE, "uid": FOLDER_UID}, DS,
                                        *(dashboard_post(m) for m in models)]
    assert {r.headers["authorization"] for r in grafana.requests} == {f"Bearer {TOKEN}"}
    assert all(r.headers["content-type"].startswith("application/json")
               for r in grafana.requests if r.method != "GET")

    assert (result.folder, result.datasource) == ("created", "created")
    assert result.created == [m["uid"] for m in models]
    assert (result.updated, result.unchanged, result.writes) == ([], [], 2 + len(models))
    assert out.getvalue().splitlines() == [
        f"folder {FOLDER_UID} ({FOLDER_TITLE}): created",
        f"datasource {DATASOURCE_UID} (Driftline PostgreSQL): created",
        *(f"dashboard {m['uid']} ({m['title']}): created" for m in models)]
    assert result.summary() == (f"folder created, datasource created, dashboards: "
                                f"{len(models)} created, 0 updated, 0 unchanged")
    # What Grafana now holds.
    assert grafana.folders[FOLDER_UID]["title"] == FOLDER_TITLE
    assert grafana.passwords == {DATASOURCE_UID: "s3cret"}
    assert "secureJsonData" not in grafana.datasources[DATASOURCE_UID]
    assert {uid: d["folderUid"] for uid, d in grafana.dashboards.items()} == {
        m["uid"]: FOLDER_UID for m in models}


def test_second_identical_push_only_reads(grafana: FakeGrafana,
                                          models: list[dict[str, Any]]) -> None:
    push(api_for(grafana), models, DS)
    grafana.requests.clear()
    out = io.StringIO()
    result = push(api_for(grafana), copy.deepcopy(models), DS, progress=out)

    assert grafana.calls() == reads(models)
    assert grafana.writes() == []
    assert (result.folder, result.datasource, result.writes) == ("unchanged", "unchanged", 0)
    assert result.unchanged == [m["uid"] for m in models]
    assert all(line.endswith(": unchanged") for line in out.getvalue().splitlines())
    assert len(out.getvalue().splitlines()) == 2 + len(models)


def test_one_changed_dashboard_is_the_only_write(grafana: FakeGrafana,
                                                 models: list[dict[str, Any]]) -> None:
    push(api_for(grafana), models, DS)
    grafana.requests.clear()
    changed = copy.deepcopy(models)
    changed[-1]["title"] = changed[-1]["title"] + " (v2)"
    changed[-1]["description"] = "one more field"
    uid = changed[-1]["uid"]

    result = push(api_for(grafana), changed, DS)

    assert grafana.calls() == [*reads(models), ("POST", "/api/dashboards/db")]
    assert bodies(grafana.requests) == [dashboard_post(changed[-1])]
    assert result.updated == [uid]
    assert result.unchanged == [m["uid"] for m in models[:-1]]
    assert (result.folder, result.datasource, result.writes) == ("unchanged", "unchanged", 1)
    stored = grafana.dashboards[uid]["dashboard"]
    assert (stored["version"], stored["title"]) == (2, changed[-1]["title"])


def test_dashboard_edited_in_grafana_or_moved_out_of_the_folder_is_overwritten(
        grafana: FakeGrafana) -> None:
    models = sample_models()
    push(api_for(grafana), models, DS)
    grafana.dashboards[models[0]["uid"]]["dashboard"]["panels"] = []  # edited in the UI
    grafana.dashboards[models[1]["uid"]]["folderUid"] = ""  # moved to "General"
    grafana.requests.clear()

    result = push(api_for(grafana), models, DS)

    assert grafana.calls() == [FOLDER_GET, DS_GET,
                               ("GET", f"/api/dashboards/uid/{models[0]['uid']}"),
                               ("POST", "/api/dashboards/db"),
                               ("GET", f"/api/dashboards/uid/{models[1]['uid']}"),
                               ("POST", "/api/dashboards/db")]
    assert bodies(grafana.requests) == [dashboard_post(models[0]), dashboard_post(models[1])]
    assert result.updated == [models[0]["uid"], models[1]["uid"]]
    assert grafana.dashboards[models[1]["uid"]]["folderUid"] == FOLDER_UID
    assert grafana.dashboards[models[0]["uid"]]["dashboard"]["panels"] == models[0]["panels"]


def test_folder_with_another_title_is_renamed(grafana: FakeGrafana) -> None:
    models = sample_models()
    push(api_for(grafana), models, DS)
    grafana.folders[FOLDER_UID]["title"] = "Renamed by someone"
    grafana.requests.clear()

    result = push(api_for(grafana), models, DS)

    assert grafana.calls() == [FOLDER_GET, ("PUT", f"/api/folders/{FOLDER_UID}"),
                               *reads(models)[1:]]
    assert bodies(grafana.requests) == [{"title": FOLDER_TITLE, "overwrite": True}]
    assert (result.folder, result.datasource, result.writes) == ("updated", "unchanged", 1)
    assert grafana.folders[FOLDER_UID]["title"] == FOLDER_TITLE


def test_other_folder_uid(grafana: FakeGrafana) -> None:
    models = sample_models()
    push(api_for(grafana), models, None, folder_uid="ml-team", folder_title="ML team")
    assert grafana.calls()[:2] == [("GET", "/api/folders/ml-team"), ("POST", "/api/folders")]
    assert bodies(grafana.requests) == [{"title": "ML team", "uid": "ml-team"},
                                        *(dashboard_post(m, "ml-team") for m in models)]
    with pytest.raises(DashboardsError, match="invalid folder uid"):
        push(api_for(grafana), models, None, folder_uid="../x")


def test_datasource_updates(grafana: FakeGrafana) -> None:
    models = sample_models()[:1]
    push(api_for(grafana), models, DS)
    dash_get = ("GET", f"/api/dashboards/uid/{models[0]['uid']}")
    put = ("PUT", f"/api/datasources/uid/{DATASOURCE_UID}")

    # A managed field differs: the whole model is PUT, password included.
    grafana.requests.clear()
    moved = datasource_spec("pg.internal:5433", "driftline", "s3cret")
    assert push(api_for(grafana), models, moved).datasource == "updated"
    assert grafana.calls() == [FOLDER_GET, DS_GET, put, dash_get]
    assert bodies(grafana.requests) == [moved]
    assert grafana.datasources[DATASOURCE_UID]["url"] == "pg.internal:5433"

    # Only the password differs: Grafana cannot tell, so nothing is sent...
    grafana.requests.clear()
    new_password = datasource_spec("pg.internal:5433", "driftline", "n3w")
    assert push(api_for(grafana), models, new_password).datasource == "unchanged"
    assert grafana.writes() == []
    assert grafana.passwords[DATASOURCE_UID] == "s3cret"
    # ...unless asked to.
    grafana.requests.clear()
    assert push(api_for(grafana), models, new_password,
                update_password=True).datasource == "updated"
    assert grafana.calls() == [FOLDER_GET, DS_GET, put, dash_get]
    assert grafana.passwords[DATASOURCE_UID] == "n3w"

    # No password stored there (created by hand without one): it is sent.
    grafana.passwords.clear()
    grafana.datasources[DATASOURCE_UID]["secureJsonFields"] = {}
    grafana.requests.clear()
    assert push(api_for(grafana), models, new_password).datasource == "updated"
    assert grafana.calls() == [FOLDER_GET, DS_GET, put, dash_get]
    assert grafana.passwords[DATASOURCE_UID] == "n3w"


def test_no_datasource_sends_no_datasource_request(grafana: FakeGrafana) -> None:
    models = sample_models()
    result = push(api_for(grafana), models, None)
    assert result.datasource is None
    assert not any("/datasources" in path for _, path in grafana.calls())
    assert result.summary().startswith("folder created, datasource not managed, ")


def test_wrong_token_is_a_clear_error_naming_the_step(grafana: FakeGrafana) -> None:
    with pytest.raises(GrafanaPushError) as err:
        push(api_for(grafana, "glsa_wrong"), sample_models(), DS)
    assert str(err.value) == (
        f"folder '{FOLDER_UID}': GET /api/folders/{FOLDER_UID} answered HTTP 401: Unauthorized; "
        "check the API token (DRIFTLINE_GRAFANA_TOKEN, --token or --token-file)")
    assert grafana.calls() == [FOLDER_GET]
    assert grafana.requests[0].headers["authorization"] == "Bearer glsa_wrong"


def test_a_failing_write_names_the_object_request_and_status(grafana: FakeGrafana) -> None:
    models = sample_models()
    grafana.fail[("POST", "/api/dashboards/db")] = (403, {"message": "Access denied"})
    with pytest.raises(GrafanaPushError) as err:
        push(api_for(grafana), models, DS)
    assert str(err.value).startswith(
        f"dashboard '{models[0]['uid']}': POST /api/dashboards/db answered HTTP 403: "
        "Access denied; the token's service account lacks the permission")
    assert grafana.calls()[-2:] == [("GET", f"/api/dashboards/uid/{models[0]['uid']}"),
                                    ("POST", "/api/dashboards/db")]

    grafana.fail = {DS_GET: (500, {"message": "database is locked"})}
    with pytest.raises(GrafanaPushError, match=(
            rf"^datasource '{DATASOURCE_UID}': GET /api/datasources/uid/{DATASOURCE_UID} "
            r"answered HTTP 500: database is locked$")):
        push(api_for(grafana), models, DS)


def test_name_taken_by_another_datasource(grafana: FakeGrafana) -> None:
    grafana.datasources["other"] = {**DS, "uid": "other", "id": 7, "version": 1}
    del grafana.datasources["other"]["secureJsonData"]
    with pytest.raises(GrafanaPushError, match=(
            "datasource 'driftline-pg': POST /api/datasources answered HTTP 409: data source "
            "with the same name already exists; another object already uses this name")):
        push(api_for(grafana), sample_models(), DS)


def test_objects_provisioned_from_files_are_not_overwritten(grafana: FakeGrafana) -> None:
    models = sample_models()
    push(api_for(grafana), models, DS)
    grafana.datasources[DATASOURCE_UID].update(readOnly=True, url="elsewhere:5432")
    grafana.requests.clear()
    with pytest.raises(GrafanaPushError, match=(
            "^datasource 'driftline-pg': differs from ours but is provisioned from files "
            r"\(read-only\) in Grafana; change its provisioning file, or pass --no-datasource$")):
        push(api_for(grafana), models, DS)
    assert grafana.calls() == [FOLDER_GET, DS_GET]

    grafana.requests.clear()
    grafana.provisioned.add(models[0]["uid"])
    assert push(api_for(grafana), models, None).unchanged == [m["uid"] for m in models]
    changed = [{**models[0], "title": "changed"}, models[1]]
    with pytest.raises(GrafanaPushError, match=(
            r"^dashboard 'driftline-drift': differs from ours but is provisioned from files")):
        push(api_for(grafana), changed, None)
    assert grafana.writes() == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_grafana_is_a_clear_error() -> None:
    port = free_port()
    with pytest.raises(GrafanaPushError) as err:
        push(connect(f"http://127.0.0.1:{port}", TOKEN, timeout=3), sample_models(), DS)
    message = str(err.value)
    assert message.startswith(f"folder '{FOLDER_UID}': GET /api/folders/{FOLDER_UID}: cannot "
                              f"reach Grafana at http://127.0.0.1:{port}: ")
    assert TOKEN not in message


def test_slow_grafana_times_out(grafana: FakeGrafana) -> None:
    grafana.delay = 2.0
    with pytest.raises(GrafanaPushError, match=(
            rf"^folder 'driftline': GET /api/folders/driftline: no answer from Grafana at "
            rf"{grafana.url} within 0.5s$")):
        push(connect(grafana.url, TOKEN, timeout=0.5), sample_models(), DS)


@pytest.mark.parametrize(("url", "message"), [
    ("localhost:3000", "invalid Grafana URL"),
    ("ftp://grafana", "invalid Grafana URL"),
    ("http://", "invalid Grafana URL"),
    ("http://grafana:port", "invalid Grafana URL"),
    ("http://admin:admin@grafana:3000", "must not hold credentials"),
    ("http://[::1]:3000", "IPv6"),
])
def test_connect_refuses_bad_urls(url: str, message: str) -> None:
    with pytest.raises(GrafanaPushError, match=message):
        connect(url, TOKEN)


def test_connect_needs_a_token_and_keeps_a_sub_path() -> None:
    for token in ("", "two words", "line\n"):
        with pytest.raises(GrafanaPushError, match="no usable Grafana API token"):
            connect("http://grafana:3000", token)
    assert connect("http://grafana:3000", TOKEN).client.url == "http://grafana:3000/api"
    assert connect("https://h/grafana", TOKEN).client.url == "https://h/grafana/api"
    assert connect("https://h/grafana/", TOKEN).client.url == "https://h/grafana/api"


def test_push_refuses_bad_dashboard_uids_before_any_request(grafana: FakeGrafana) -> None:
    bad = [*sample_models(), {"uid": "../../etc", "title": "x"}]
    with pytest.raises(DashboardsError, match="invalid uid"):
        push(api_for(grafana), bad, DS)
    twice = [*sample_models(), sample_models()[0]]
    with pytest.raises(DashboardsError, match="share the uid 'driftline-drift'"):
        push(api_for(grafana), twice, DS)
    assert grafana.requests == []


# --- datasource from settings ---------------------------------------------------------------


def test_datasource_from_settings_derives_host_and_database() -> None:
    settings = Settings(database_url="postgresql+psycopg://driftline:pw@db.internal:5433/drift"
                                     "?sslmode=require", reporting_password="r3port")
    spec = datasource_from_settings(settings)
    assert spec == datasource_spec("db.internal:5433", "drift", "r3port", sslmode="require")
    assert spec["user"] == "driftline_reporting"
    # The argument, then DRIFTLINE_GRAFANA_DATASOURCE_URL, then the database URL.
    from_setting = settings.replace(grafana_datasource_url="postgres:5432")
    assert datasource_from_settings(from_setting)["url"] == "postgres:5432"
    overridden = datasource_from_settings(from_setting, "pg:6432", "other")
    assert (overridden["url"], overridden["database"]) == ("pg:6432", "other")
    default_port = Settings(database_url="postgresql://u@db/d", reporting_password="r")
    assert datasource_from_settings(default_port)["url"] == "db:5432"


def test_datasource_from_settings_errors() -> None:
    sqlite = Settings(database_url="sqlite:///x.db", reporting_password="r")
    with pytest.raises(GrafanaPushError, match="sqlite, not PostgreSQL"):
        datasource_from_settings(sqlite)
    with pytest.raises(GrafanaPushError, match="not PostgreSQL"):
        datasource_from_settings(sqlite, "db:5432", None)
    assert datasource_from_settings(sqlite, "db:5432", "drift")["database"] == "drift"
    no_password = Settings(database_url="postgresql://u@db/d")
    with pytest.raises(GrafanaPushError, match="DRIFTLINE_REPORTING_PASSWORD is empty"):
        datasource_from_settings(no_password)
    pg = Settings(database_url="postgresql://u@db/d", reporting_password="r")
    with pytest.raises(GrafanaPushError, match="expected host:port"):
        datasource_from_settings(pg, "postgres://db:5432")
    with pytest.raises(GrafanaPushError, match="no host"):
        datasource_from_settings(Settings(database_url="postgresql:///d", reporting_password="r"))


# --- the command line -----------------------------------------------------------------------


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """DRIFTLINE_* variables for ``main``: settings are read once per process, so the cache is
    cleared around each test."""
    for name in Settings.env_names():
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.fixture
def cli_models(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What ``dashboards push`` pushes: the committed dashboards, or the samples while
    dashboards/json is still empty."""
    committed = dashboard_json()
    if committed:
        return committed
    monkeypatch.setattr(catalog, "dashboard_json", sample_models)
    return sample_models()


PG_URL = "postgresql+psycopg://driftline:pw@db:5432/driftline"


def test_cli_push_twice(grafana: FakeGrafana, env: pytest.MonkeyPatch, tmp_path: Path,
                        cli_models: list[dict[str, Any]],
                        capsys: pytest.CaptureFixture[str]) -> None:
    env.setenv("DRIFTLINE_REPORTING_PASSWORD", "r3port")
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    argv = ["--database-url", PG_URL, "dashboards", "push", "--grafana-url", grafana.url,
            "--token-file", str(token_file)]

    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"folder {FOLDER_UID} ({FOLDER_TITLE}): created",
                   f"datasource {DATASOURCE_UID} (Driftline PostgreSQL): created",
                   *(f"dashboard {m['uid']} ({m['title']}): created" for m in cli_models),
                   f"pushed to {grafana.url}: folder created, datasource created, dashboards: "
                   f"{len(cli_models)} created, 0 updated, 0 unchanged"]
    assert [r.method for r in grafana.writes()] == ["POST"] * (2 + len(cli_models))
    assert grafana.writes()[1].body == datasource_spec("db:5432", "driftline", "r3port")
    assert {r.headers["authorization"] for r in grafana.requests} == {f"Bearer {TOKEN}"}

    grafana.requests.clear()
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert grafana.calls() == reads(cli_models)
    assert out[-1] == (f"pushed to {grafana.url}: folder unchanged, datasource unchanged, "
                       f"dashboards: 0 created, 0 updated, {len(cli_models)} unchanged")


def test_cli_push_reads_url_and_token_from_the_environment(
        grafana: FakeGrafana, env: pytest.MonkeyPatch, cli_models: list[dict[str, Any]],
        capsys: pytest.CaptureFixture[str]) -> None:
    env.setenv("DRIFTLINE_GRAFANA_URL", grafana.url)
    env.setenv("DRIFTLINE_GRAFANA_TOKEN", TOKEN)
    assert main(["dashboards", "push", "--no-datasource", "--folder-uid", "ml"]) == 0
    assert grafana.calls() == [("GET", "/api/folders/ml"), ("POST", "/api/folders"),
                               *(c for m in cli_models for c in (
                                   ("GET", f"/api/dashboards/uid/{m['uid']}"),
                                   ("POST", "/api/dashboards/db")))]
    assert {r.headers["authorization"] for r in grafana.requests} == {f"Bearer {TOKEN}"}
    assert "datasource not managed" in capsys.readouterr().out


def test_cli_wrong_token_exits_2_naming_the_step(
        grafana: FakeGrafana, env: pytest.MonkeyPatch, cli_models: list[dict[str, Any]],
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboards", "push", "--grafana-url", grafana.url, "--token", "glsa_wrong",
                 "--no-datasource"]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"driftline: error: folder '{FOLDER_UID}': GET /api/folders/{FOLDER_UID} answered "
        "HTTP 401: Unauthorized; check the API token (DRIFTLINE_GRAFANA_TOKEN, --token or "
        "--token-file)\n")
    assert "glsa_wrong" not in captured.out + captured.err
    assert grafana.calls() == [FOLDER_GET]


def test_cli_unreachable_and_user_errors_exit_2(env: pytest.MonkeyPatch,
                                                cli_models: list[dict[str, Any]],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert main(["dashboards", "push", "--grafana-url", f"http://127.0.0.1:{port}", "--token",
                 TOKEN, "--no-datasource", "--timeout", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"driftline: error: folder '{FOLDER_UID}': GET /api/folders/"
                          f"{FOLDER_UID}: cannot reach Grafana at http://127.0.0.1:{port}: ")
    assert TOKEN not in err

    cases = [
        (["dashboards", "push", "--token", TOKEN], "no Grafana URL"),
        (["dashboards", "push", "--grafana-url", "http://g:3000"], "no Grafana API token"),
        (["dashboards", "push", "--grafana-url", "http://g:3000", "--token", TOKEN],
         "sqlite, not PostgreSQL"),
        (["--database-url", PG_URL, "dashboards", "push", "--grafana-url", "http://g:3000",
          "--token", TOKEN], "DRIFTLINE_REPORTING_PASSWORD is empty"),
        (["dashboards", "push", "--grafana-url", "http://g:3000", "--token", TOKEN,
          "--no-datasource", "--datasource-url", "db:5432"], "--no-datasource leaves"),
        (["dashboards", "push", "--grafana-url", "grafana:3000", "--token", TOKEN,
          "--no-datasource"], "invalid Grafana URL"),
        (["dashboards", "push", "--grafana-url", "http://g:3000", "--token-file",
          "/nonexistent/token"], "cannot read the token file"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        assert message in capsys.readouterr().err, argv


# --- export ---------------------------------------------------------------------------------


@pytest.fixture
def committed_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """``(json_dir, provisioning_dir)`` the CLI exports: the committed ones, or, while
    dashboards/json is still empty, a stand-in set (not in sorted-key form, to show the bytes
    are copied, not re-serialized)."""
    if any(catalog.JSON_DIR.glob("*.json")):
        return catalog.JSON_DIR, catalog.PROVISIONING_DIR
    json_dir, prov = tmp_path / "committed" / "json", tmp_path / "committed" / "provisioning"
    json_dir.mkdir(parents=True)
    for model in sample_models():
        (json_dir / f"{model['uid']}.json").write_text(json.dumps(model, indent=4))
    (prov / "datasources").mkdir(parents=True)
    (prov / "dashboards").mkdir()
    (prov / "datasources" / "driftline.yaml").write_text("apiVersion: 1\ndatasources: []\n")
    (prov / "dashboards" / "driftline.yaml").write_text("apiVersion: 1\nproviders: []\n")
    monkeypatch.setattr(grafana_push, "JSON_DIR", json_dir)
    monkeypatch.setattr(grafana_push, "PROVISIONING_DIR", prov)
    return json_dir, prov


def expected_export(json_dir: Path, prov: Path) -> dict[str, bytes]:
    files = {f"{json.loads(p.read_bytes())['uid']}.json": p.read_bytes()
             for p in json_dir.glob("*.json")}
    files.update({f"provisioning/{p.relative_to(prov)}": p.read_bytes()
                  for p in prov.rglob("*") if p.is_file()})
    return files


def tree(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in directory.rglob("*") if p.is_file()}


def test_cli_export_writes_the_committed_files_and_refuses_to_overwrite_changes(
        committed_files: tuple[Path, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    expected = expected_export(*committed_files)
    assert any(name.startswith("provisioning/") for name in expected)
    out = tmp_path / "out" / "nested"
    assert main(["dashboards", "export", str(out)]) == 0
    assert tree(out) == expected
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"exported to {out}: {len(expected)} file(s) written")

    assert main(["dashboards", "export", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"exported to {out}: 0 file(s) written"

    victim = out / sorted(n for n in expected if n.endswith(".json"))[0]
    victim.write_text("{}\n")
    gone = out / "provisioning" / sorted(n for n in expected if n.startswith("prov"))[0][13:]
    gone.unlink()
    assert main(["dashboards", "export", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--force" in err
    assert str(victim) in err
    assert victim.read_text() == "{}\n"
    assert not gone.exists()  # nothing was written

    assert main(["dashboards", "export", str(out), "--force"]) == 0
    assert tree(out) == expected
    lines = capsys.readouterr().out.splitlines()
    assert f"overwrote {victim}" in lines
    assert f"wrote {gone}" in lines
    assert lines[-1] == f"exported to {out}: 2 file(s) written"


def test_export_of_given_models(tmp_path: Path) -> None:
    models = sample_models()
    prov = tmp_path / "prov"
    (prov / "datasources").mkdir(parents=True)
    (prov / "datasources" / "ds.yaml").write_text("apiVersion: 1\n")
    out = tmp_path / "out"
    written = export(out, models, provisioning_dir=prov)
    assert written == [out / "driftline-drift.json", out / "driftline-kpis.json",
                       out / "provisioning" / "datasources" / "ds.yaml"]
    for model in models:
        data = (out / f"{model['uid']}.json").read_bytes()
        assert data == dashboard_bytes(model)
        assert data == (json.dumps(model, indent=2, sort_keys=True) + "\n").encode()
    assert export(out, models, provisioning_dir=prov) == []
    with pytest.raises(ExportError, match=r"driftline-kpis\.json"):
        export(out, [models[0], {**models[1], "title": "changed"}], provisioning_dir=prov)
    assert export(out, [models[0], {**models[1], "title": "changed"}], force=True,
                  provisioning_dir=prov) == [out / "driftline-kpis.json"]
    with pytest.raises(DashboardsError, match="invalid uid"):
        export(out, [{"uid": "../escape", "title": "x"}], provisioning_dir=prov)
    assert not (tmp_path / "escape.json").exists()
