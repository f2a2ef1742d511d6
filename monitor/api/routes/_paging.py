"""Opaque cursors of newest-first lists keyed by (time in ms, string id): alerts, silences,
triggers. Lists keyed by an integer row id use :mod:`monitor.api.params`' cursors.

>>> decode_keyset(encode_keyset(1_700_000_000_000, "trg_0a1b"))
(1700000000000, 'trg_0a1b')
"""

from __future__ import annotations

import base64
import binascii

import orjson

from monitor.api.errors import invalid
from monitor.api.params import MAX_CURSOR_PART

MAX_ID_LENGTH = 128


def encode_keyset(at_ms: int, item_id: str) -> str:
    raw = orjson.dumps([at_ms, item_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_keyset(value: str | None) -> tuple[int, str] | None:
    """The (time, id) a cursor carries; 422 naming ``cursor`` when it was not made by us."""
    if value is None:
        return None
    try:
        parsed = orjson.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError):
        parsed = None
    if (isinstance(parsed, list) and len(parsed) == 2 and type(parsed[0]) is int
            and isinstance(parsed[1], str) and abs(parsed[0]) <= MAX_CURSOR_PART
            and len(parsed[1]) <= MAX_ID_LENGTH and "\x00" not in parsed[1]):
        return parsed[0], parsed[1]
    raise invalid("query", "cursor", "invalid cursor; pass next_cursor unchanged", value)
