"""Durations, timestamps and tumbling windows, all in integer epoch milliseconds.

>>> parse_duration("15m"), parse_duration("1d")
(900000, 86400000)
>>> window_start(parse_timestamp("2026-11-21T10:00:00.123Z"), parse_duration("1h"))
1795255200000
>>> format_ms(1795255200000)
'2026-11-21T10:00:00Z'
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d|w)\s*$")


class TimestampError(ValueError):
    """A timestamp is neither RFC 3339 with a zone nor integer epoch milliseconds."""


def parse_duration(text: str | int) -> int:
    """Parse ``15m``, ``1h``, ``7d`` (or plain milliseconds) into milliseconds."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise ValueError("duration must not be negative")
        return text
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"invalid duration {text!r}: use a number and a unit (ms, s, m, h, d, w)")
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_timestamp(value: object) -> int:
    """Event time as epoch milliseconds: RFC 3339 with a zone, or integer epoch milliseconds."""
    if isinstance(value, bool):
        raise TimestampError("timestamp must be a string or an integer, not a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise TimestampError("numeric timestamp must be integer epoch milliseconds")
        return int(value)
    if not isinstance(value, str):
        raise TimestampError("timestamp must be an RFC 3339 string or integer epoch milliseconds")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise TimestampError(f"unparseable timestamp {value[:40]!r}") from exc
    if parsed.tzinfo is None:
        raise TimestampError("timestamp has no time zone (append Z or an offset)")
    delta = parsed - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def window_start(ts_ms: int, size_ms: int) -> int:
    """Start of the epoch-aligned tumbling window of ``size_ms`` that holds ``ts_ms``."""
    return ts_ms - ts_ms % size_ms


def format_ms(ms: int) -> str:
    """RFC 3339 in UTC, with milliseconds only when they are not zero."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    if ms % 1000:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def now_ms() -> int:
    return int(datetime.now(tz=UTC).timestamp() * 1000)
