"""API keys with scopes (RELIABILITY promise 10).

A key reads ``dl_<key_id>_<secret>``. Only the SHA-256 of the whole key is stored, next to its
``key_id`` (the lookup handle) and its scopes; the plaintext is shown once, at creation.

Scopes: ``read``, ``write``, ``trigger``, ``admin``. ``admin`` implies every scope; ``write``
and ``trigger`` each imply ``read``.

>>> sorted(effective_scopes(["write"]))
['read', 'write']
>>> sorted(effective_scopes(["admin"]))
['admin', 'read', 'trigger', 'write']
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from monitor.db.schema import (
    API_KEYS as KEYS,
)
from monitor.timeutil import now_ms

PREFIX = "dl"
SCOPES = ("read", "write", "trigger", "admin")
_IMPLIES: dict[str, frozenset[str]] = {
    "read": frozenset({"read"}),
    "write": frozenset({"write", "read"}),
    "trigger": frozenset({"trigger", "read"}),
    "admin": frozenset(SCOPES),
}
_NAME_MAX = 128
# Compared against when the key id is unknown, so that both paths do the same work.
_DUMMY_DIGEST = hashlib.sha256(b"driftline-unknown-key").hexdigest()


@dataclass(frozen=True)
class ApiKeyInfo:
    key_id: str
    name: str
    scopes: tuple[str, ...]
    created_at_ms: int
    revoked_at_ms: int | None


def normalize_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """Validated, deduplicated scopes in canonical order; ValueError names an unknown one."""
    given = [s.strip() for s in scopes]
    for scope in given:
        if scope not in _IMPLIES:
            raise ValueError(f"unknown scope {scope!r} (expected one of {', '.join(SCOPES)})")
    if not given:
        raise ValueError(f"at least one scope is required ({', '.join(SCOPES)})")
    return tuple(s for s in SCOPES if s in given)


def effective_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """Every scope that ``scopes`` grant, implications included."""
    out: set[str] = set()
    for scope in scopes:
        out |= _IMPLIES.get(scope, frozenset())
    return frozenset(out)


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create_key(conn: Connection, scopes: list[str], name: str = "") -> str:
    """Store a new key and return its plaintext (the only time it exists)."""
    canonical = normalize_scopes(scopes)
    key_id = secrets.token_hex(8)
    plaintext = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    conn.execute(insert(KEYS).values(key_id=key_id, name=name[:_NAME_MAX],
                                     key_sha256=_digest(plaintext), scopes=",".join(canonical),
                                     created_at_ms=now_ms(), revoked_at_ms=None))
    return plaintext


def _key_id(plaintext: str) -> str | None:
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1] if len(parts[1]) <= 32 else None


def verify_key(conn: Connection, plaintext: str) -> set[str] | None:
    """The effective scopes of a valid, unrevoked key; None for anything else."""
    key_id = _key_id(plaintext)
    row = None
    if key_id is not None:
        row = conn.execute(select(KEYS.c.key_sha256, KEYS.c.scopes, KEYS.c.revoked_at_ms)
                           .where(KEYS.c.key_id == key_id)).first()
    stored = row[0] if row is not None else _DUMMY_DIGEST
    matches = hmac.compare_digest(_digest(plaintext).encode(), stored.encode())
    if row is None or not matches or row[2] is not None:
        return None
    return set(effective_scopes(s for s in row[1].split(",") if s))


def revoke_key(conn: Connection, key_id: str) -> bool:
    """Revoke a key; False if it does not exist or was already revoked."""
    result = conn.execute(update(KEYS).where(KEYS.c.key_id == key_id,
                                             KEYS.c.revoked_at_ms.is_(None))
                          .values(revoked_at_ms=now_ms()))
    return result.rowcount > 0


def list_keys(conn: Connection) -> list[ApiKeyInfo]:
    """Every key (never its secret or hash), oldest first."""
    rows = conn.execute(select(KEYS.c.key_id, KEYS.c.name, KEYS.c.scopes, KEYS.c.created_at_ms,
                               KEYS.c.revoked_at_ms)
                        .order_by(KEYS.c.created_at_ms, KEYS.c.key_id))
    return [ApiKeyInfo(r.key_id, r.name, tuple(s for s in r.scopes.split(",") if s),
                       int(r.created_at_ms), r.revoked_at_ms) for r in rows]
