"""``driftline demo`` catches the injected drift over the API and leaves no process behind."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tansu_pids() -> set[int]:
    out = subprocess.run(["pgrep", "-f", "tansu"], capture_output=True, text=True, check=False)
    return {int(p) for p in out.stdout.split()}


@pytest.mark.kafka
def test_demo_finds_the_drift_and_stops_cleanly(tmp_path: Path) -> None:
    before = _tansu_pids()
    proc = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "demo", "--duration", "20", "--seed", "11",
         "--workdir", str(tmp_path / "demo")],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "key: dl_" in out
    assert "(seed 11)" in out
    # Reported while it runs, or in the final summary for windows that closed after the last tick.
    found = [line for line in out.splitlines() if "drift detected in window" in line]
    assert found, out
    flagged = set()
    for line in found:
        flagged |= set(line.split(": ", 1)[1].split(", "))
    assert {"num_00", "num_01", "num_02", "cat_0"} <= flagged, out
    # The calibrated mode allows about one false data-drift alert per 100 windows; the demo
    # closes about a dozen windows, so an occasional other feature may be flagged, not many.
    assert len(flagged - {"num_00", "num_01", "num_02", "cat_0"}) <= 2, out
    # The worker finished the simulated hour (waited for if the machine is slow): the hour's
    # five-minute windows closed (all but the newest, whose end is not yet past), and drift was
    # flagged in the second half's.
    done = next(line for line in out.splitlines() if line.startswith("done: "))
    closed, drifted = (int(w) for w in re.findall(r"(\d+) w", done))
    assert closed >= 11, out
    assert drifted >= 5, out
    assert "stopped: broker, worker, API and simulator are down." in out
    assert _tansu_pids() <= before
