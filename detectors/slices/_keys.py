"""Slice keys: ``"country=KR"`` and ``"country=KR&device=ios"``, dimensions in sorted order.

``%``, ``&`` and ``=`` inside a dimension or a value are percent-escaped, so every key parses back
to the items it was made from.

>>> slice_key([("device", "ios"), ("country", "KR")])
'country=KR&device=ios'
>>> parse_key(slice_key([("plan", "a&b=c")]))
(('plan', 'a&b=c'),)
"""

from __future__ import annotations

from collections.abc import Iterable

from detectors._base import DetectorError

_ESCAPES = (("%", "%25"), ("&", "%26"), ("=", "%3D"))


def escape(text: str) -> str:
    """``text`` with ``%``, ``&`` and ``=`` percent-escaped (``%`` first)."""
    for raw, coded in _ESCAPES:
        text = text.replace(raw, coded)
    return text


def unescape(text: str) -> str:
    """The inverse of :func:`escape` (``%25`` last)."""
    for raw, coded in reversed(_ESCAPES):
        text = text.replace(coded, raw)
    return text


def slice_key(items: Iterable[tuple[str, str]]) -> str:
    """The key of the slice where every ``dim == value`` of ``items`` holds."""
    pairs = sorted(items)
    if not pairs or len({dim for dim, _ in pairs}) != len(pairs):
        raise DetectorError(f"a slice needs distinct dimensions, got {pairs!r}")
    return "&".join(f"{escape(dim)}={escape(value)}" for dim, value in pairs)


def parse_key(key: str) -> tuple[tuple[str, str], ...]:
    """``((dim, value), ...)`` of a key made by :func:`slice_key`."""
    items = []
    for part in key.split("&"):
        dim, sep, value = part.partition("=")
        if not sep or not dim:
            raise DetectorError(f"not a slice key: {key!r}")
        items.append((unescape(dim), unescape(value)))
    return tuple(items)
