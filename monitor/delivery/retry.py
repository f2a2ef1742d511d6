"""When to retry a delivery and how long to wait (RELIABILITY promise 6).

2xx is delivered. 408, 429, 5xx and network errors (no status) are retried with exponential
backoff and full jitter, never sooner than the receiver's ``Retry-After``. 3xx is permanent
(redirects are never followed: the URL is the one that was checked for SSRF), and so is every
other 4xx. Retries stop after ``max_attempts`` or ``max_age_s``, whichever comes first.

>>> classify(503), classify(None), classify(301), classify(404), classify(204)
('retry', 'retry', 'permanent', 'permanent', 'delivered')
>>> parse_retry_after("120", now=0.0)
120.0
>>> import random
>>> round(delay_for(3, 30.0, rng=random.Random(7)), 6)  # Retry-After beats the jitter [0, 4)
30.0
>>> decide(429, "5", attempts=1, first_attempt_at=0.0, now=10.0, rng=random.Random(7))
Decision(outcome='retry', delay_s=5.0, reason='HTTP 429')
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Literal

__all__ = [
    "Decision",
    "Outcome",
    "RetryPolicy",
    "classify",
    "decide",
    "delay_for",
    "give_up_after",
    "next_delay",
    "parse_retry_after",
]

Outcome = Literal["delivered", "retry", "permanent"]
_RETRYABLE_4XX = frozenset({408, 429})
_DELTA_SECONDS = re.compile(r"-?[0-9]+", re.ASCII)
_MAX_EXPONENT = 1000  # 2.0 ** 1024 overflows; the cap is reached long before


def classify(status_code: int | None) -> Outcome:
    """What an HTTP answer means for the message; ``None`` is a network error or a timeout.

    Codes outside 200-599 (1xx as a final answer, 600+) are a misbehaving receiver: retried.
    """
    if status_code is None:
        return "retry"
    if 200 <= status_code <= 299:
        return "delivered"
    if 300 <= status_code <= 499:
        return "retry" if status_code in _RETRYABLE_4XX else "permanent"
    return "retry"


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (RFC 9110 section 10.2.3), or None.

    Delta-seconds or an HTTP-date (IMF-fixdate, RFC 850 or asctime, read as UTC), ``now`` in
    unix seconds. A date in the past or a negative delay gives 0; anything else unreadable, None.

    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0)
    10.0
    >>> parse_retry_after("-3", now=0.0), parse_retry_after("soon", now=0.0)
    (0.0, None)
    """
    if value is None:
        return None
    text = value.strip()
    if _DELTA_SECONDS.fullmatch(text):
        return max(0.0, float(int(text)))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # asctime and "-0000" carry no zone; HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _check(attempt: int, base: float, cap: float) -> None:
    if attempt < 1:
        raise ValueError("attempt counts failed attempts and starts at 1")
    if not (base > 0 and cap > 0):  # also refuses NaN
        raise ValueError("base and cap must be positive seconds")


def next_delay(attempt: int, *, base: float = 1.0, cap: float = 3600.0,
               rng: random.Random) -> float:
    """Full-jitter backoff after the ``attempt``-th failure: uniform in [0, min(cap, base*2^(n-1))].

    >>> [round(next_delay(n, rng=random.Random(1)), 4) for n in (1, 2, 3, 13)]
    [0.1344, 0.2687, 0.5375, 483.7113]
    """
    _check(attempt, base, cap)
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, _MAX_EXPONENT))
    return rng.uniform(0.0, ceiling)


def delay_for(attempt: int, retry_after: float | None, *, base: float = 1.0,
              cap: float = 3600.0, rng: random.Random) -> float:
    """The wait before the next attempt: max(Retry-After, jittered backoff), at most ``cap``.

    The cap also bounds ``Retry-After``, so a receiver cannot park a message for days; it will
    be told again if it is still not ready.
    """
    jittered = next_delay(attempt, base=base, cap=cap, rng=rng)
    floor = 0.0 if retry_after is None or math.isnan(retry_after) else retry_after
    return min(cap, max(floor, jittered))


def give_up_after(attempts: int, age_s: float, *, max_attempts: int = 25,
                  max_age_s: float = 86_400.0) -> str | None:
    """Why to stop retrying after ``attempts`` failures, the first ``age_s`` ago; else None.

    >>> give_up_after(25, 60.0), give_up_after(3, 90_000.0), give_up_after(3, 60.0)
    ('gave up after 25 attempts', 'gave up after 90000 s (limit 86400 s)', None)
    """
    if attempts >= max_attempts:
        return f"gave up after {attempts} attempts"
    if age_s >= max_age_s:
        return f"gave up after {age_s:.0f} s (limit {max_age_s:.0f} s)"
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """The knobs of :func:`decide`; the defaults span about a day."""

    base_s: float = 1.0
    cap_s: float = 3600.0
    max_attempts: int = 25
    max_age_s: float = 86_400.0


@dataclass(frozen=True)
class Decision:
    """What the relay does with a message after an attempt; ``delay_s`` only when retrying."""

    outcome: Literal["delivered", "retry", "permanent", "give_up"]
    delay_s: float | None
    reason: str


def _describe(status_code: int | None) -> str:
    if status_code is None:
        return "network error"
    if 300 <= status_code <= 399:
        return f"HTTP {status_code}: redirects are not followed"
    return f"HTTP {status_code}"


def decide(status_code: int | None, retry_after: str | None, *, attempts: int,
           first_attempt_at: float, now: float, rng: random.Random,
           policy: RetryPolicy = RetryPolicy()) -> Decision:
    """Combine the rules above for the answer to the ``attempts``-th attempt (1 = the first).

    ``retry_after`` is the raw header; ``first_attempt_at`` and ``now`` are unix seconds.
    """
    outcome = classify(status_code)
    reason = _describe(status_code)
    if outcome != "retry":
        return Decision(outcome, None, reason)
    stop = give_up_after(attempts, now - first_attempt_at, max_attempts=policy.max_attempts,
                         max_age_s=policy.max_age_s)
    if stop is not None:
        return Decision("give_up", None, f"{reason}; {stop}")
    delay = delay_for(attempts, parse_retry_after(retry_after, now=now), base=policy.base_s,
                      cap=policy.cap_s, rng=rng)
    return Decision("retry", delay, reason)
