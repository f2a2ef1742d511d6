"""``driftline dashboards push`` and ``export``: the committed dashboards into a running Grafana.

``push`` talks to Grafana's HTTP API through ``grafana-client`` and is idempotent: it reads each
object first (folder, datasource, dashboards) and writes only what is missing or different, so
a second push with nothing changed sends GET requests only. ``export`` writes the same dashboards
and the provisioning files to a directory, for Grafanas provisioned from files instead.

>>> is_valid_uid("driftline-kpis"), is_valid_uid("../etc"), is_valid_uid("x" * 41)
(True, False, False)
>>> _host_port("db.internal", 5433), _host_port("::1", None)
('db.internal:5433', '[::1]:5432')
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TextIO, cast
from urllib.parse import urlsplit

from dashboards.catalog import (
    DATASOURCE_UID,
    FOLDER_TITLE,
    FOLDER_UID,
    JSON_DIR,
    PROVISIONING_DIR,
    datasource_spec,
)

if TYPE_CHECKING:
    from grafana_client.api import GrafanaApi

    from monitor.settings import Settings

Outcome = Literal["created", "updated", "unchanged"]

#: The commit message Grafana keeps in each dashboard version this command saves.
PUSH_MESSAGE = "driftline dashboards push"
#: The datasource fields a push manages and compares (``secureJsonData`` is never returned).
DATASOURCE_FIELDS = ("name", "type", "access", "url", "user", "database", "basicAuth",
                     "jsonData")
#: Dashboard keys Grafana assigns on save, left out when comparing the stored model with ours.
GRAFANA_ASSIGNED = ("id", "version")
#: Grafana's rule for uids (``util.IsValidShortUID`` plus its 40-character limit); it also keeps
#: ``<uid>.json`` a plain file name.
_UID = re.compile(r"[A-Za-z0-9_-]{1,40}")
_HINTS = {
    401: "check the API token (DRIFTLINE_GRAFANA_TOKEN, --token or --token-file)",
    403: "the token's service account lacks the permission (folders and dashboards need "
         "Editor, datasources Admin)",
    409: "another object already uses this name or uid",
    412: "the object changed in Grafana meanwhile, or a dashboard with this title already "
         "exists in the folder",
}


class DashboardsError(Exception):
    """A user-facing failure of ``driftline dashboards``; the message says what to do."""


class GrafanaPushError(DashboardsError):
    """A push step failed: the message names the step, the request and the HTTP status."""


class ExportError(DashboardsError):
    """An export would overwrite a changed file, or cannot write its directory."""


def is_valid_uid(uid: object) -> bool:
    """Whether ``uid`` is a uid Grafana accepts (letters, digits, ``-``, ``_``; at most 40)."""
    return isinstance(uid, str) and _UID.fullmatch(uid) is not None


@dataclass(frozen=True)
class PushResult:
    """What a push did to each object: ``created``, ``updated`` or ``unchanged``."""

    folder_uid: str
    folder: Outcome
    #: ``None`` when the push left the datasource alone (``--no-datasource``).
    datasource: Outcome | None
    #: ``(uid, outcome)`` for each dashboard, in the order pushed.
    dashboards: tuple[tuple[str, Outcome], ...]

    def _uids(self, outcome: Outcome) -> list[str]:
        return [uid for uid, o in self.dashboards if o == outcome]

    @property
    def created(self) -> list[str]:
        """Uids of the dashboards the push created."""
        return self._uids("created")

    @property
    def updated(self) -> list[str]:
        """Uids of the dashboards the push overwrote."""
        return self._uids("updated")

    @property
    def unchanged(self) -> list[str]:
        """Uids of the dashboards already identical in Grafana (no request written)."""
        return self._uids("unchanged")

    @property
    def writes(self) -> int:
        """How many objects the push created or updated (0: Grafana was already up to date)."""
        outcomes = [self.folder, self.datasource, *(o for _, o in self.dashboards)]
        return sum(1 for o in outcomes if o in ("created", "updated"))

    def summary(self) -> str:
        """One line, e.g. ``folder unchanged, datasource updated, dashboards: 1 created, ...``."""
        ds = "not managed" if self.datasource is None else self.datasource
        return (f"folder {self.folder}, datasource {ds}, dashboards: "
                f"{len(self.created)} created, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged")


# grafana-client's element methods are unannotated; these protocols type the few used here.
class _FolderApi(Protocol):
    def get_folder(self, uid: str) -> Any: ...
    def create_folder(self, title: str, uid: str | None = None) -> Any: ...
    def update_folder(self, uid: str, title: str | None = None, version: int | None = None,
                      overwrite: bool = False) -> Any: ...


class _DatasourceApi(Protocol):
    def get_datasource_by_uid(self, datasource_uid: str) -> Any: ...
    def create_datasource(self, datasource: dict[str, Any]) -> Any: ...
    def update_datasource_by_uid(self, datasource_uid: str,
                                 datasource: dict[str, Any]) -> Any: ...


class _DashboardApi(Protocol):
    def get_dashboard(self, dashboard_uid: str) -> Any: ...
    def update_dashboard(self, dashboard: dict[str, Any]) -> Any: ...


def connect(url: str, token: str, timeout: float = 10) -> GrafanaApi:
    """A client for the Grafana at ``url`` (``http(s)://host[:port][/prefix]``) that sends
    ``Authorization: Bearer <token>`` (a service account token) on every request.

    Nothing is requested yet; the first request of :func:`push` tells whether Grafana answers.
    """
    from grafana_client.api import GrafanaApi

    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError as exc:
        raise GrafanaPushError(f"invalid Grafana URL {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise GrafanaPushError(f"invalid Grafana URL {url!r}: expected http(s)://host[:port]"
                               "[/path], e.g. http://localhost:3000")
    if parts.username is not None or parts.password is not None:
        raise GrafanaPushError("the Grafana URL must not hold credentials: pass a service "
                               "account token with DRIFTLINE_GRAFANA_TOKEN, --token or "
                               "--token-file")
    if ":" in parts.hostname:
        raise GrafanaPushError(f"invalid Grafana URL {url!r}: grafana-client cannot address an "
                               "IPv6 literal; use a host name")
    if parts.fragment:
        raise GrafanaPushError(f"invalid Grafana URL {url!r}: remove the #fragment")
    if not token or any(c.isspace() or not c.isprintable() for c in token):
        raise GrafanaPushError("no usable Grafana API token: set DRIFTLINE_GRAFANA_TOKEN or pass "
                               "--token/--token-file (one line, no spaces)")
    if timeout <= 0:
        raise GrafanaPushError(f"the timeout must be positive, got {timeout}")
    # grafana-client appends "api" to the path: a sub-path prefix needs its trailing slash.
    path = parts.path.rstrip("/")
    normalized = parts._replace(path=f"{path}/" if path else "").geturl()
    return cast("GrafanaApi", GrafanaApi.from_url(normalized, credential=token, timeout=timeout))


def _host_port(host: str, port: int | None) -> str:
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port or 5432}"


def datasource_from_settings(settings: Settings, datasource_url: str | None = None,
                             database: str | None = None) -> dict[str, Any]:
    """The datasource model a push creates: Grafana logs in to PostgreSQL as the SELECT-only role
    ``driftline_reporting`` with ``DRIFTLINE_REPORTING_PASSWORD``.

    ``host:port`` is ``datasource_url``, else ``DRIFTLINE_GRAFANA_DATASOURCE_URL``, else the
    host and port of ``DRIFTLINE_DATABASE_URL``; the database name is ``database``, else the one
    of the database URL. A database URL that is not PostgreSQL is refused unless both are given.
    ``sslmode`` follows the database URL's ``?sslmode=`` (default ``disable``).
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = datasource_url or settings.grafana_datasource_url or None
    if url is not None and ("/" in url or "@" in url or not url.strip()):
        raise GrafanaPushError(f"invalid datasource URL {url!r}: expected host:port as Grafana "
                               "reaches PostgreSQL, e.g. postgres:5432 (no scheme, no path)")
    sslmode = "disable"
    try:
        db_url = make_url(settings.database_url)
    except ArgumentError as exc:
        raise GrafanaPushError(f"cannot read DRIFTLINE_DATABASE_URL: {exc}") from None
    if db_url.get_backend_name() == "postgresql":
        if url is None:
            if not db_url.host:
                raise GrafanaPushError("DRIFTLINE_DATABASE_URL has no host (a Unix socket?): "
                                       "pass --datasource-url host:port as Grafana reaches "
                                       "PostgreSQL")
            url = _host_port(db_url.host, db_url.port)
        database = database or db_url.database
        query_sslmode = db_url.query.get("sslmode")
        if isinstance(query_sslmode, str) and query_sslmode:
            sslmode = query_sslmode
    elif url is None or not database:
        raise GrafanaPushError(
            f"DRIFTLINE_DATABASE_URL is {db_url.get_backend_name()}, not PostgreSQL: Grafana's "
            "datasource needs the PostgreSQL database Driftline writes to; pass both "
            "--datasource-url and --datasource-database, or --no-datasource")
    if not database:
        raise GrafanaPushError("DRIFTLINE_DATABASE_URL names no database: pass "
                               "--datasource-database")
    if not settings.reporting_password:
        raise GrafanaPushError("DRIFTLINE_REPORTING_PASSWORD is empty: set it to the password of "
                               "the driftline_reporting role the datasource logs in as, or pass "
                               "--no-datasource to leave the datasource alone")
    return datasource_spec(url, database, settings.reporting_password, sslmode=sslmode)


class _Pusher:
    """One push: every request goes through :meth:`request`, which turns failures into
    :class:`GrafanaPushError` naming the step."""

    def __init__(self, api: GrafanaApi, progress: TextIO | None) -> None:
        self.api = api
        self.base = str(api.client.url).removesuffix("/api")
        self.progress = progress

    def say(self, kind: str, uid: str, title: str, outcome: Outcome) -> None:
        if self.progress is not None:
            print(f"{kind} {uid} ({title}): {outcome}", file=self.progress, flush=True)

    def request(self, step: str, method: str, path: str, call: Callable[[], Any],
                missing_ok: bool = False) -> dict[str, Any] | None:
        """``call()``'s JSON object; ``None`` for a 404 when ``missing_ok``."""
        import niquests.exceptions
        from grafana_client.client import GrafanaException, GrafanaTimeoutError

        where = f"{step}: {method} {path}"
        try:
            answer = call()
        except GrafanaTimeoutError:
            timeout = self.api.client.timeout
            shown = f"{timeout:g}" if isinstance(timeout, int | float) else str(timeout)
            raise GrafanaPushError(f"{where}: no answer from Grafana at {self.base} within "
                                   f"{shown}s") from None
        except GrafanaException as exc:
            status = int(exc.status_code or 0)
            if status == 404 and missing_ok:
                return None
            if status == 0:
                raise GrafanaPushError(f"{where} failed: {exc.message}") from None
            response = exc.response
            detail = (response["message"] if isinstance(response, dict) and "message" in response
                      else str(exc.message))
            hint = _HINTS.get(status)
            if status == 404:
                hint = f"is {self.base} the Grafana URL, with its sub-path if it has one?"
            raise GrafanaPushError(f"{where} answered HTTP {status}: {detail}"
                                   + (f"; {hint}" if hint else "")) from None
        except niquests.exceptions.JSONDecodeError:
            raise GrafanaPushError(f"{where}: the answer is not JSON; is {self.base} a "
                                   "Grafana?") from None
        except niquests.exceptions.RequestException as exc:
            raise GrafanaPushError(f"{where}: cannot reach Grafana at {self.base}: "
                                   f"{type(exc).__name__}: {exc}") from None
        if not isinstance(answer, dict):
            raise GrafanaPushError(f"{where}: the answer is not a JSON object; is {self.base} a "
                                   "Grafana?")
        return cast("dict[str, Any]", answer)

    def folder(self, uid: str, title: str) -> Outcome:
        folders = cast("_FolderApi", self.api.folder)
        path = f"/api/folders/{uid}"
        step = f"folder {uid!r}"
        stored = self.request(step, "GET", path, lambda: folders.get_folder(uid),
                              missing_ok=True)
        outcome: Outcome
        if stored is None:
            self.request(step, "POST", "/api/folders",
                         lambda: folders.create_folder(title, uid=uid))
            outcome = "created"
        elif stored.get("title") != title:
            self.request(step, "PUT", path,
                         lambda: folders.update_folder(uid, title=title, overwrite=True))
            outcome = "updated"
        else:
            outcome = "unchanged"
        self.say("folder", uid, title, outcome)
        return outcome

    def datasource(self, spec: dict[str, Any], update_password: bool) -> Outcome:
        sources = cast("_DatasourceApi", self.api.datasource)
        uid = str(spec.get("uid") or DATASOURCE_UID)
        spec = {**spec, "uid": uid}
        path = f"/api/datasources/uid/{uid}"
        step = f"datasource {uid!r}"
        stored = self.request(step, "GET", path, lambda: sources.get_datasource_by_uid(uid),
                              missing_ok=True)
        password = spec.get("secureJsonData", {}).get("password")
        outcome: Outcome
        if stored is None:
            self.request(step, "POST", "/api/datasources",
                         lambda: sources.create_datasource(spec))
            outcome = "created"
        else:
            differs = any(stored.get(f) != spec.get(f) for f in DATASOURCE_FIELDS if f in spec)
            # Grafana never returns the password, only whether one is set.
            password_unset = bool(password) and not (stored.get("secureJsonFields") or {}).get(
                "password")
            if differs or password_unset or (update_password and password):
                if stored.get("readOnly"):
                    raise GrafanaPushError(
                        f"{step}: differs from ours but is provisioned from files (read-only) "
                        "in Grafana; change its provisioning file, or pass --no-datasource")
                self.request(step, "PUT", path,
                             lambda: sources.update_datasource_by_uid(uid, spec))
                outcome = "updated"
            else:
                outcome = "unchanged"
        self.say("datasource", uid, str(spec.get("name", "")), outcome)
        return outcome

    def dashboard(self, model: dict[str, Any], folder_uid: str) -> Outcome:
        boards = cast("_DashboardApi", self.api.dashboard)
        uid = str(model["uid"])
        step = f"dashboard {uid!r}"
        stored = self.request(step, "GET", f"/api/dashboards/uid/{uid}",
                              lambda: boards.get_dashboard(uid), missing_ok=True)
        outcome: Outcome = "created" if stored is None else "updated"
        if stored is not None:
            meta = stored.get("meta") or {}
            if (_comparable(stored.get("dashboard") or {}) == _comparable(model)
                    and meta.get("folderUid") == folder_uid):
                outcome = "unchanged"
        if outcome != "unchanged" and stored is not None and (stored.get("meta") or {}).get(
                "provisioned"):
            raise GrafanaPushError(f"{step}: differs from ours but is provisioned from files in "
                                   "Grafana, which refuses API saves; update the files with "
                                   "`driftline dashboards export`, or remove the provider")
        if outcome != "unchanged":
            body = {"dashboard": {**model, "id": None}, "folderUid": folder_uid,
                    "overwrite": True, "message": PUSH_MESSAGE}
            self.request(step, "POST", "/api/dashboards/db",
                         lambda: boards.update_dashboard(body))
        self.say("dashboard", uid, str(model.get("title", "")), outcome)
        return outcome


def _comparable(model: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in model.items() if k not in GRAFANA_ASSIGNED}


def _check_dashboards(dashboards: Sequence[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for model in dashboards:
        uid = model.get("uid")
        if not is_valid_uid(uid):
            raise DashboardsError(f"dashboard {model.get('title', '?')!r} has an invalid uid "
                                  f"{uid!r}: letters, digits, '-' and '_', at most 40")
        if uid in seen:
            raise DashboardsError(f"two dashboards share the uid {uid!r}")
        seen.add(str(uid))


def push(api: GrafanaApi, dashboards: Sequence[dict[str, Any]],
         datasource: dict[str, Any] | None, folder_uid: str = FOLDER_UID,
         folder_title: str = FOLDER_TITLE, progress: TextIO | None = None,
         update_password: bool = False) -> PushResult:
    """Make Grafana hold ``dashboards`` in folder ``folder_uid``, and ``datasource`` (a
    :func:`datasource_from_settings` model; ``None`` leaves datasources alone).

    Requests, in this order (paths under ``/api``):

    - folder: ``GET /folders/{uid}``; 404: ``POST /folders`` (uid and title); another title:
      ``PUT /folders/{uid}`` (title, overwrite);
    - datasource: ``GET /datasources/uid/{uid}``; 404: ``POST /datasources``; a managed field
      (:data:`DATASOURCE_FIELDS`) differs, or no password is set there: ``PUT
      /datasources/uid/{uid}`` with the whole model, password included. Grafana never returns
      the password, so a changed password alone is sent only with ``update_password``;
    - each dashboard: ``GET /dashboards/uid/{uid}``; 404, or the stored model (less ``id`` and
      ``version``) or its folder differs: ``POST /dashboards/db`` (overwrite).

    Nothing is written for an object already as wanted; a datasource or dashboard provisioned
    from files (read-only in Grafana) that would need a write is refused with a clear error
    before the request. One line per object goes to
    ``progress``. Raises :class:`GrafanaPushError` at the first failing request (objects before
    it stay pushed; pushing again resumes).
    """
    if not is_valid_uid(folder_uid):
        raise DashboardsError(f"invalid folder uid {folder_uid!r}: letters, digits, '-' and "
                              "'_', at most 40")
    _check_dashboards(dashboards)
    pusher = _Pusher(api, progress)
    folder = pusher.folder(folder_uid, folder_title)
    ds = None if datasource is None else pusher.datasource(datasource, update_password)
    results = tuple((str(m["uid"]), pusher.dashboard(m, folder_uid)) for m in dashboards)
    return PushResult(folder_uid, folder, ds, results)


def close(api: GrafanaApi) -> None:
    """Close the client's connection pool."""
    api.client.s.close()


def dashboard_bytes(model: dict[str, Any]) -> bytes:
    """A dashboard model as written to ``<uid>.json`` (2-space indent, sorted keys)."""
    return (json.dumps(model, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _committed(json_dir: Path) -> list[tuple[str, bytes]]:
    found: list[tuple[str, bytes]] = []
    for path in sorted(json_dir.glob("*.json")):
        data = path.read_bytes()
        found.append((str(json.loads(data)["uid"]), data))
    return found


def _action(path: Path, data: bytes) -> str:
    if path.is_dir():
        raise ExportError(f"{path} is a directory")
    if not path.exists():
        return "wrote"
    return "unchanged" if path.read_bytes() == data else "overwrote"


def export(directory: Path, dashboards: Sequence[dict[str, Any]] | None = None,
           force: bool = False, progress: TextIO | None = None,
           json_dir: Path | None = None, provisioning_dir: Path | None = None) -> list[Path]:
    """Write each dashboard to ``directory/<uid>.json`` and the provisioning files to
    ``directory/provisioning/...``; return the paths written.

    ``dashboards=None`` exports the committed set byte for byte (the files of ``json_dir``,
    default :data:`~dashboards.catalog.JSON_DIR`; provisioning files from ``provisioning_dir``,
    default :data:`~dashboards.catalog.PROVISIONING_DIR`);
    given models are written as :func:`dashboard_bytes`. Files already identical are left
    alone; a file that differs is overwritten only with ``force``, otherwise
    :class:`ExportError` is raised before anything is written.
    """
    json_dir = JSON_DIR if json_dir is None else json_dir
    provisioning_dir = PROVISIONING_DIR if provisioning_dir is None else provisioning_dir
    if dashboards is None:
        files = _committed(json_dir)
        _check_dashboards([{"uid": uid} for uid, _ in files])
    else:
        _check_dashboards(dashboards)
        files = [(str(m["uid"]), dashboard_bytes(m)) for m in dashboards]
    plan: list[tuple[Path, bytes]] = [(directory / f"{uid}.json", data) for uid, data in files]
    if provisioning_dir.is_dir():
        plan += [(directory / "provisioning" / p.relative_to(provisioning_dir), p.read_bytes())
                 for p in sorted(provisioning_dir.rglob("*")) if p.is_file()]
    if directory.exists() and not directory.is_dir():
        raise ExportError(f"{directory} exists and is not a directory")
    pending = [(path, data, _action(path, data)) for path, data in plan]
    conflicts = [path for path, _, action in pending if action == "overwrote"]
    if conflicts and not force:
        raise ExportError("these files differ from the dashboards and were left alone (nothing "
                          "was written); pass --force to overwrite them: "
                          + ", ".join(str(p) for p in conflicts))
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for path, data, action in pending:
        if action != "unchanged":
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
            written.append(path)
        if progress is not None:
            print(f"{action} {path}", file=progress)
    return written
