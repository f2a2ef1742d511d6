"""Query parameters shared by the list routes: page size, time range and opaque cursors.

Bounds come from the settings at request time, so a 422 names the parameter
(``loc: ["query", "limit"]``) exactly as FastAPI's own validation does.
"""

from __future__ import annotations

import base64
import binascii

from monitor.api.errors import invalid
from monitor.settings import Settings
from monitor.timeutil import TimestampError, now_ms, parse_timestamp

DAY_MS = 86_400_000
MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
MAX_CURSOR_PART = 2**63 - 1
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
"""Pattern for free-text query filters: no control characters (PostgreSQL refuses NUL)."""
DEFAULT_PAGE = 100
DEFAULT_RANGE_DAYS = 7


def page_limit(settings: Settings, limit: int | None) -> int:
    """``limit`` within 1..api_max_page_size; default 100 (or the maximum, if smaller)."""
    maximum = settings.api_max_page_size
    if limit is None:
        return min(DEFAULT_PAGE, maximum)
    if limit < 1 or limit > maximum:
        raise invalid("query", "limit", f"limit must be between 1 and {maximum}", limit)
    return limit


def parse_time(name: str, value: str) -> int:
    """RFC 3339 with a zone (a ``+`` decoded to a space is put back) or epoch milliseconds."""
    text = value.strip()
    try:
        ms = int(text) if text.isdigit() else parse_timestamp(text.replace(" ", "+"))
    except TimestampError as exc:
        raise invalid("query", name, f"{exc}; use RFC 3339 with a zone or epoch "
                      "milliseconds", value) from None
    if not 0 <= ms <= MAX_MS:
        raise invalid("query", name, "time must lie between 1970 and 9999", value)
    return ms


def time_range(settings: Settings, start: str | None, end: str | None) -> tuple[int, int]:
    """The ``[from, to)`` range in epoch ms.

    Defaults: ``to`` is now; ``from`` is ``to`` minus 7 days. A range wider than
    ``api_max_range_days`` or an empty one is refused, naming ``from``.
    """
    end_ms = now_ms() if end is None else parse_time("to", end)
    start_ms = end_ms - DEFAULT_RANGE_DAYS * DAY_MS if start is None else parse_time("from", start)
    if start_ms >= end_ms:
        raise invalid("query", "from", "from must be before to", start)
    if end_ms - start_ms > settings.api_max_range_days * DAY_MS:
        raise invalid("query", "from", f"the range from..to must not exceed "
                      f"{settings.api_max_range_days} days", start)
    return start_ms, end_ms


def encode_cursor(*parts: int) -> str:
    raw = ":".join(str(p) for p in parts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None, n_parts: int) -> tuple[int, ...] | None:
    """The integers a cursor carries; 422 naming ``cursor`` when it was not made by us."""
    if value is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        parts = tuple(int(p) for p in raw.split(":"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        parts = ()
    if len(parts) != n_parts or any(abs(p) > MAX_CURSOR_PART for p in parts):
        raise invalid("query", "cursor", "invalid cursor; pass next_cursor unchanged", value)
    return parts
