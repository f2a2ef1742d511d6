"""The per-series state machine, replayed over a window history.

Each window contributes one verdict: True (the rule's condition holds), False (its clear condition
holds) or None (neither: inside the hysteresis band, or the record could not tell).

- inactive -> pending on True; pending -> firing after ``for_windows`` consecutive True;
  anything but True while pending -> inactive (``for_windows=1`` goes straight to firing).
- firing -> inactive (resolved) after ``clear_windows`` consecutive False; True or None reset the
  clear count (hysteresis: the band never resolves).

"Consecutive" counts the windows that have a record: a window with none (a gap) neither breaks nor
extends a run.

>>> p = replay(Phase(), [(0, True), (10, True), (20, None), (30, False)],
...            for_windows=2, clear_windows=1)
>>> p.state, p.active_at, p.fired_at, p.resolved_at
('inactive', None, 10, 30)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

__all__ = ["Phase", "SeriesStatus", "replay", "step"]

SeriesStatus = Literal["inactive", "pending", "firing"]
_STATES = ("inactive", "pending", "firing")


@dataclass(frozen=True)
class Phase:
    """Where the machine stands after some windows: the state, the current run lengths, and the
    window starts of the current run, of the last firing and of the last resolution."""

    state: SeriesStatus = "inactive"
    run: int = 0
    clear_run: int = 0
    active_at: int | None = None
    fired_at: int | None = None
    resolved_at: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "run": self.run, "clear_run": self.clear_run,
                "active_at": self.active_at, "fired_at": self.fired_at,
                "resolved_at": self.resolved_at}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Phase:
        state = data["state"]
        if state not in _STATES:
            raise ValueError(f"unknown series state {state!r}")
        return cls(state, int(data["run"]), int(data["clear_run"]), _opt_int(data["active_at"]),
                   _opt_int(data["fired_at"]), _opt_int(data["resolved_at"]))


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def step(p: Phase, window_start: int, verdict: bool | None, *, for_windows: int,
         clear_windows: int) -> Phase:
    """The phase after one more window."""
    if p.state == "firing":
        if verdict is not False:
            return replace(p, clear_run=0)
        if p.clear_run + 1 >= clear_windows:
            return Phase("inactive", 0, 0, None, p.fired_at, window_start)
        return replace(p, clear_run=p.clear_run + 1)
    if verdict is not True:
        return Phase("inactive", 0, 0, None, p.fired_at, p.resolved_at)
    pending = p.state == "pending"
    run = p.run + 1 if pending else 1
    active_at = p.active_at if pending else window_start
    if run >= for_windows:
        return Phase("firing", run, 0, active_at, window_start, p.resolved_at)
    return Phase("pending", run, 0, active_at, p.fired_at, p.resolved_at)


def replay(p: Phase, verdicts: Iterable[tuple[int, bool | None]], *, for_windows: int,
           clear_windows: int) -> Phase:
    """Fold ``(window_start, verdict)`` pairs, oldest first, into ``p``."""
    for window_start, verdict in verdicts:
        p = step(p, window_start, verdict, for_windows=for_windows, clear_windows=clear_windows)
    return p
