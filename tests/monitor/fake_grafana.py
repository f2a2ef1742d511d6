"""A small in-memory Grafana HTTP API on 127.0.0.1 for ``dashboards push`` tests.

It serves the folder, datasource and dashboard endpoints the push uses, the way Grafana answers
them (404 ``{"message": ...}`` for missing objects, ``secureJsonData`` never returned, ``id`` and
``version`` added to stored dashboards), checks ``Authorization: Bearer <token>`` and records
every request.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGrafana:
    """The state of one fake Grafana; ``url`` is set once it serves."""

    token: str = "glsa_test_token"
    url: str = ""
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The password Grafana stores (encrypted in a real Grafana) per datasource uid.
    passwords: dict[str, str] = field(default_factory=dict)
    #: uid -> {"dashboard": model with id and version, "folderUid": ...}
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: uids of dashboards provisioned from files (``meta.provisioned``; saves are refused).
    provisioned: set[str] = field(default_factory=set)
    requests: list[Request] = field(default_factory=list)
    #: Seconds each answer waits (to test timeouts).
    delay: float = 0.0
    #: ``(method, path) -> (status, body)`` answered instead of the endpoint.
    fail: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    _next_id: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self) -> list[tuple[str, str]]:
        """``(method, path)`` of every request so far."""
        return [(r.method, r.path) for r in self.requests]

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.method != "GET"]

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def handle(self, method: str, path: str, headers: dict[str, str],
               body: Any) -> tuple[int, Any]:
        with self._lock:
            self.requests.append(Request(method, path, headers, copy.deepcopy(body)))
            if headers.get("authorization") != f"Bearer {self.token}":
                return 401, {"message": "Unauthorized"}
            if (method, path) in self.fail:
                return self.fail[(method, path)]
            return self.route(method, path.removeprefix("/api").split("/")[1:], body)

    def route(self, method: str, parts: list[str], body: Any) -> tuple[int, Any]:
        routes: dict[tuple[str, str], Callable[..., tuple[int, Any]]] = {
            ("GET", "health"): lambda: (200, {"database": "ok", "version": "11.3.0"}),
            ("GET", "folders"): lambda: (200, list(self.folders.values())),
            ("POST", "folders"): lambda: self.create_folder(body),
            ("GET", "folders/*"): lambda uid: self.get(self.folders, uid, "folder not found"),
            ("PUT", "folders/*"): lambda uid: self.update_folder(uid, body),
            ("GET", "datasources"): lambda: (200, list(self.datasources.values())),
            ("POST", "datasources"): lambda: self.create_datasource(body),
            ("GET", "datasources/uid/*"): lambda uid: self.get(self.datasources, uid,
                                                              "Data source not found"),
            ("PUT", "datasources/uid/*"): lambda uid: self.update_datasource(uid, body),
            ("GET", "dashboards/uid/*"): self.get_dashboard,
            ("POST", "dashboards/db"): lambda: self.save_dashboard(body),
        }
        for (verb, pattern), handler in routes.items():
            shape = pattern.split("/")
            if verb == method and len(shape) == len(parts) and all(
                    s in ("*", p) for s, p in zip(shape, parts, strict=True)):
                return handler(*(p for s, p in zip(shape, parts, strict=True) if s == "*"))
        return 404, {"message": "Not found"}

    @staticmethod
    def get(objects: dict[str, dict[str, Any]], uid: str, missing: str) -> tuple[int, Any]:
        if uid not in objects:
            return 404, {"message": missing}
        return 200, objects[uid]

    def create_folder(self, body: dict[str, Any]) -> tuple[int, Any]:
        uid = body.get("uid")
        if not uid or not body.get("title"):
            return 400, {"message": "folder title and uid needed"}
        if uid in self.folders:
            return 409, {"message": "a folder with the same uid already exists"}
        self.folders[uid] = {"id": self.new_id(), "uid": uid, "title": body["title"],
                             "version": 1, "url": f"/dashboards/f/{uid}/"}
        return 200, self.folders[uid]

    def update_folder(self, uid: str, body: dict[str, Any]) -> tuple[int, Any]:
        folder = self.folders.get(uid)
        if folder is None:
            return 404, {"message": "folder not found"}
        if not body.get("overwrite") and body.get("version") != folder["version"]:
            return 412, {"message": "the folder has been changed by someone else"}
        folder["title"] = body.get("title", folder["title"])
        folder["version"] += 1
        return 200, folder

    def _stored_datasource(self, body: dict[str, Any], ds_id: int,
                           version: int) -> dict[str, Any]:
        uid = body["uid"]
        secure = body.get("secureJsonData") or {}
        if "password" in secure:
            self.passwords[uid] = secure["password"]
        stored = {k: v for k, v in body.items() if k != "secureJsonData"}
        stored.update(id=ds_id, orgId=1, version=version,
                      secureJsonFields={"password": True} if uid in self.passwords else {})
        return stored

    def create_datasource(self, body: dict[str, Any]) -> tuple[int, Any]:
        if any(d["name"] == body.get("name") for d in self.datasources.values()):
            return 409, {"message": "data source with the same name already exists"}
        if body.get("uid") in self.datasources:
            return 409, {"message": "data source with the same uid already exists"}
        stored = self._stored_datasource(body, self.new_id(), 1)
        self.datasources[stored["uid"]] = stored
        return 200, {"datasource": stored, "id": stored["id"], "message": "Datasource added"}

    def update_datasource(self, uid: str, body: dict[str, Any]) -> tuple[int, Any]:
        old = self.datasources.get(uid)
        if old is None:
            return 404, {"message": "Data source not found"}
        if old.get("readOnly"):
            return 403, {"message": "Cannot update read-only data source"}
        stored = self._stored_datasource({**body, "uid": uid}, old["id"], old["version"] + 1)
        self.datasources[uid] = stored
        return 200, {"datasource": stored, "id": stored["id"], "message": "Datasource updated"}

    def get_dashboard(self, uid: str) -> tuple[int, Any]:
        entry = self.dashboards.get(uid)
        if entry is None:
            return 404, {"message": "Dashboard not found"}
        folder = self.folders.get(entry["folderUid"], {})
        return 200, {"dashboard": entry["dashboard"],
                     "meta": {"folderUid": entry["folderUid"], "folderTitle": folder.get("title"),
                              "version": entry["dashboard"]["version"],
                              "provisioned": uid in self.provisioned}}

    def save_dashboard(self, body: dict[str, Any]) -> tuple[int, Any]:
        model = dict(body.get("dashboard") or {})
        uid = model.get("uid")
        folder_uid = body.get("folderUid", "")
        if not uid or not model.get("title"):
            return 400, {"message": "Dashboard title cannot be empty"}
        if folder_uid and folder_uid not in self.folders:
            return 400, {"message": "folder not found"}
        if uid in self.provisioned:
            return 400, {"message": "Cannot save provisioned dashboard"}
        old = self.dashboards.get(uid)
        if old is not None and not body.get("overwrite"):
            return 412, {"status": "version-mismatch", "message": "changed by someone else"}
        model["id"] = old["dashboard"]["id"] if old else self.new_id()
        model["version"] = old["dashboard"]["version"] + 1 if old else 1
        self.dashboards[uid] = {"dashboard": model, "folderUid": folder_uid}
        return 200, {"id": model["id"], "uid": uid, "status": "success",
                     "version": model["version"], "url": f"/d/{uid}/x"}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, answer = self.server.grafana.handle(self.command, urlsplit(self.path).path,
                                                    headers, body)
        data = json.dumps(answer).encode()
        time.sleep(self.server.grafana.delay)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    grafana: FakeGrafana


@contextmanager
def serve(grafana: FakeGrafana | None = None) -> Iterator[FakeGrafana]:
    """Serve ``grafana`` (a fresh one by default) on 127.0.0.1 until the block ends."""
    grafana = grafana or FakeGrafana()
    server = _Server(("127.0.0.1", 0), _Handler)
    server.grafana = grafana
    grafana.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield grafana
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
