"""Standard Webhooks signatures (https://www.standardwebhooks.com), RELIABILITY promise 7.

A message carries three headers: ``webhook-id`` (stable across retries, the receiver's
idempotency key), ``webhook-timestamp`` (unix seconds of this attempt) and ``webhook-signature``,
a space-separated list of ``v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``, one per
secret. Secrets read ``whsec_`` + base64 of 24 to 64 random bytes.

Rotation with overlap: sign with ``[new, old]`` while receivers move to the new secret; a receiver
holding either one verifies. Then drop the old one.

The specification's own test vector:

>>> headers = sign(["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], "msg_p5jXN8AQM9LWM0D4loKWxJek",
...                1614265330, b'{"test": 2432232314}')
>>> headers["webhook-signature"]
'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
>>> verify(["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], headers, b'{"test": 2432232314}',
...        now=1614265330 + 300)
>>> verify(["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], headers, b'{"test": 2432232315}',
...        now=1614265330)
Traceback (most recent call last):
...
monitor.delivery.errors.SignatureError: no matching signature
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets as _random
from collections.abc import Mapping, Sequence

from monitor.delivery.errors import SecretFormatError, SignatureError

__all__ = [
    "HEADER_ID",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "SecretFormatError",
    "SignatureError",
    "new_secret",
    "sign",
    "verify",
]

HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's marker, not a secret)
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64
NEW_KEY_BYTES = 32
# A header with more entries than this is refused before any HMAC is computed.
MAX_SIGNATURES = 16
# Visible ASCII without "." (the field separator of the signed content) or spaces.
_ID = re.compile(r"^[!-~]{1,256}$")
_DIGITS = re.compile(r"^[0-9]{1,12}$")


def new_secret() -> str:
    """A fresh secret: ``whsec_`` + base64 of 32 random bytes.

    >>> s = new_secret()
    >>> s.startswith("whsec_"), len(s)
    (True, 50)
    """
    return SECRET_PREFIX + base64.b64encode(_random.token_bytes(NEW_KEY_BYTES)).decode("ascii")


def decode_secret(secret: str) -> bytes:
    """The key bytes of a ``whsec_`` secret; SecretFormatError says what is wrong, never echoing it.

    >>> len(decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
    24
    >>> decode_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    Traceback (most recent call last):
    ...
    monitor.delivery.errors.SecretFormatError: secret must start with 'whsec_'
    """
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise SecretFormatError(f"secret must start with {SECRET_PREFIX!r}")
    text = secret[len(SECRET_PREFIX):]
    text += "=" * (-len(text) % 4)  # unpadded base64 is common; the padding carries no bits
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SecretFormatError("secret is not valid base64 after 'whsec_'") from None
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise SecretFormatError(
            f"secret key is {len(key)} bytes; Standard Webhooks needs "
            f"{MIN_KEY_BYTES} to {MAX_KEY_BYTES}")
    return key


def _keys(secrets: Sequence[str]) -> list[bytes]:
    if isinstance(secrets, str):  # a lone string would be iterated character by character
        raise SecretFormatError("pass a sequence of secrets, not a single string")
    if not secrets:
        raise SecretFormatError("at least one secret is required")
    keys: list[bytes] = []
    for secret in secrets:
        key = decode_secret(secret)
        if key not in keys:
            keys.append(key)
    return keys


def _check_id(msg_id: str) -> None:
    if not _ID.match(msg_id) or "." in msg_id:
        raise ValueError(
            "message id must be 1-256 visible ASCII characters without '.' or spaces")


def _mac(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    content = f"{msg_id}.{timestamp}.".encode("ascii") + body
    return hmac.new(key, content, hashlib.sha256).digest()


def sign(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers, one ``v1`` signature per distinct secret, in order.

    ``body`` must be the exact bytes sent. ``timestamp`` is the time of this attempt (a retry
    signs again with a new one); ``msg_id`` stays the same across retries.
    """
    keys = _keys(secrets)
    _check_id(msg_id)
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError("timestamp must be non-negative integer unix seconds")
    signatures = " ".join(
        "v1," + base64.b64encode(_mac(key, msg_id, str(timestamp), body)).decode("ascii")
        for key in keys)
    return {HEADER_ID: msg_id, HEADER_TIMESTAMP: str(timestamp), HEADER_SIGNATURE: signatures}


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:  # plain dicts are case-sensitive; HTTP header names are not
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    if value is None or not value.strip():
        raise SignatureError(f"missing header {name}")
    return value.strip()


def _candidates(header: str) -> list[bytes]:
    """The decoded ``v1`` signatures of a header; other versions and malformed entries skipped."""
    entries = header.split()
    if len(entries) > MAX_SIGNATURES:
        raise SignatureError(f"too many signatures ({len(entries)} > {MAX_SIGNATURES})")
    found: list[bytes] = []
    for entry in entries:
        version, _, value = entry.partition(",")
        if version != "v1" or not value:
            continue
        try:
            found.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def verify(
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: int,
    tolerance_s: int = 300,
) -> None:
    """Return if one ``v1`` signature matches one of ``secrets``; else raise SignatureError.

    Checks, in order: the three headers are present, the id is well formed, the timestamp is an
    integer within ``tolerance_s`` of ``now`` (both directions), then compares every signature
    against every secret with :func:`hmac.compare_digest`. Detecting a replayed ``webhook-id``
    within the tolerance is the caller's job (store the ids seen for ``2 * tolerance_s``).
    """
    keys = _keys(secrets)
    msg_id = _header(headers, HEADER_ID)
    raw_timestamp = _header(headers, HEADER_TIMESTAMP)
    signature_header = _header(headers, HEADER_SIGNATURE)
    try:
        _check_id(msg_id)
    except ValueError:
        raise SignatureError(f"malformed header {HEADER_ID}") from None
    if not _DIGITS.match(raw_timestamp):
        raise SignatureError(f"malformed header {HEADER_TIMESTAMP}: not integer unix seconds")
    timestamp = int(raw_timestamp)
    if timestamp < now - tolerance_s:
        raise SignatureError(
            f"timestamp too old: {now - timestamp} s before now (tolerance {tolerance_s} s)")
    if timestamp > now + tolerance_s:
        raise SignatureError(
            f"timestamp too new: {timestamp - now} s after now (tolerance {tolerance_s} s)")
    candidates = _candidates(signature_header)
    if not candidates:
        raise SignatureError("no v1 signature in header webhook-signature")
    matched = False
    for key in keys:
        expected = _mac(key, msg_id, raw_timestamp, body)  # the header as sent is what was signed
        for candidate in candidates:
            # No early exit: the work done does not depend on which entry matches.
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureError("no matching signature")
