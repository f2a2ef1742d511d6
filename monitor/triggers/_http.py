"""One request to a user-configured endpoint, and what its answer means for the outbox.

The rules are promise 6's: 2xx is done, 409 means an earlier attempt already did it, 408, 429,
5xx and network errors are worth retrying (``Retry-After`` is passed on), other 4xx and every
3xx are permanent. Redirects are never followed: the target was checked, its redirect was not.
Bodies are read up to :data:`MAX_BODY_BYTES`, whatever the server sends.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx

MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "Driftline-Trigger/1"

Outcome = Literal["dispatched", "already_exists", "retry", "permanent"]
UrlCheck = Callable[[str], None]


def allow_any_url(url: str) -> None:
    """The default ``check_url``: accept everything (the integrator plugs its SSRF check in)."""


@dataclass(frozen=True)
class DispatchResult:
    """What one delivery attempt achieved; ``retry_after`` is the raw ``Retry-After`` header."""

    outcome: Outcome
    status_code: int | None
    external_id: str | None
    detail: str
    retry_after: str | None = None


@dataclass(frozen=True)
class Reply:
    status_code: int
    headers: httpx.Headers
    body: bytes
    truncated: bool

    def json_object(self) -> dict[str, Any] | None:
        """The body as a JSON object, or None when it is not one (or was cut short)."""
        if self.truncated:
            return None
        try:
            data = json.loads(self.body)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def snippet(self, limit: int = 200) -> str:
        text = " ".join(self.body[: limit * 4].decode("utf-8", "replace").split())
        return text[:limit]


def send(client: httpx.Client, method: str, url: str, *, check_url: UrlCheck,
         timeout: httpx.Timeout | float, headers: dict[str, str] | None = None,
         body: bytes | None = None) -> Reply | DispatchResult:
    """Check ``url``, send, and read at most :data:`MAX_BODY_BYTES` of the answer.

    ``check_url`` refuses by raising; its exception propagates and nothing is sent. A failure
    to get any answer comes back as a :class:`DispatchResult`, an answer (whatever its status)
    as a :class:`Reply`.
    """
    check_url(url)
    sent = {"user-agent": USER_AGENT, "accept": "application/json", **(headers or {})}
    if body is not None:
        sent["content-type"] = "application/json"
    try:
        with client.stream(method, url, headers=sent, content=body, timeout=timeout,
                           follow_redirects=False) as response:
            data = bytearray()
            truncated = False
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_BODY_BYTES:
                    truncated = True
                    break
            return Reply(response.status_code, response.headers,
                         bytes(data[:MAX_BODY_BYTES]), truncated)
    except httpx.TimeoutException as exc:
        return DispatchResult("retry", None, None, f"timed out ({type(exc).__name__})")
    except (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL) as exc:
        return DispatchResult("permanent", None, None, f"cannot send: {exc}")
    except httpx.RequestError as exc:  # connection refused or reset, DNS, a broken answer
        return DispatchResult("retry", None, None, f"network error ({type(exc).__name__}): {exc}")


def classify(reply: Reply, *, conflict_exists: bool = True) -> DispatchResult:
    """Map an answer to an outcome (``conflict_exists=False``: a 409 is just a client error).

    Codes outside 100-599 and a 1xx as a final answer are a misbehaving server: retried.

    >>> def reply(code, headers=None):
    ...     return Reply(code, httpx.Headers(headers or {}), b"", False)
    >>> codes = (200, 202, 409, 408, 429, 503, 100, 600, 400, 410)
    >>> [classify(reply(code)).outcome for code in codes]
    ['dispatched', 'dispatched', 'already_exists', 'retry', 'retry', 'retry', 'retry', 'retry',
     'permanent', 'permanent']
    >>> classify(reply(429, {"Retry-After": "120"})).retry_after
    '120'
    >>> classify(reply(302, {"Location": "http://169.254.169.254/"})).detail
    'HTTP 302: redirect to http://169.254.169.254/ not followed'
    """
    code = reply.status_code
    if 200 <= code < 300:
        return DispatchResult("dispatched", code, None, f"HTTP {code}")
    if code == 409 and conflict_exists:
        return DispatchResult("already_exists", code, None, f"HTTP {code}: already exists")
    if code in {408, 429} or not 300 <= code < 500:
        return DispatchResult("retry", code, None, _detail(reply),
                              reply.headers.get("retry-after"))
    if 300 <= code < 400:
        location = reply.headers.get("location", "")[:200]
        return DispatchResult("permanent", code, None,
                              f"HTTP {code}: redirect to {location or '?'} not followed")
    return DispatchResult("permanent", code, None, _detail(reply))


def _detail(reply: Reply) -> str:
    snippet = reply.snippet()
    return f"HTTP {reply.status_code}: {snippet}" if snippet else f"HTTP {reply.status_code}"
