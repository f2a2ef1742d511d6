"""Delivery policy: what each answer means, Retry-After, full-jitter backoff, giving up."""

from __future__ import annotations

import calendar
import math
import random

import pytest

from monitor.delivery.retry import (
    Decision,
    RetryPolicy,
    classify,
    decide,
    delay_for,
    give_up_after,
    next_delay,
    parse_retry_after,
)

# random.Random(42).random(), the first draw of the generator the tests seed
FIRST_DRAW_42 = 0.6394267984578837


@pytest.mark.parametrize(("status", "outcome"), [
    (200, "delivered"), (201, "delivered"), (202, "delivered"), (204, "delivered"),
    (299, "delivered"),
    (300, "permanent"), (301, "permanent"), (302, "permanent"), (303, "permanent"),
    (304, "permanent"), (307, "permanent"), (308, "permanent"),
    (400, "permanent"), (401, "permanent"), (403, "permanent"), (404, "permanent"),
    (405, "permanent"), (409, "permanent"), (410, "permanent"), (413, "permanent"),
    (422, "permanent"), (499, "permanent"),
    (408, "retry"), (429, "retry"),
    (500, "retry"), (501, "retry"), (502, "retry"), (503, "retry"), (504, "retry"),
    (599, "retry"),
    (None, "retry"),
    (100, "retry"), (199, "retry"), (600, "retry"),
])
def test_classify(status: int | None, outcome: str) -> None:
    assert classify(status) == outcome


NOW = float(calendar.timegm((2015, 10, 21, 7, 28, 0)))  # 1445412480


@pytest.mark.parametrize(("value", "seconds"), [
    ("120", 120.0),
    (" 7 ", 7.0),
    ("0", 0.0),
    ("-5", 0.0),
    ("86400000", 86_400_000.0),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ("Wed, 21 Oct 2015 07:30:00 GMT", 120.0),
    ("Wednesday, 21-Oct-15 07:29:00 GMT", 60.0),  # RFC 850
    ("Wed Oct 21 07:28:30 2015", 30.0),  # asctime, read as UTC
    ("Wed, 21 Oct 2015 09:29:00 +0200", 60.0),  # not HTTP-date, but readable: the zone counts
    ("Tue, 20 Oct 2015 07:28:00 GMT", 0.0),  # in the past
])
def test_parse_retry_after(value: str, seconds: float) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


@pytest.mark.parametrize("value", [
    None, "", "   ", "soon", "1.5", "12abc", "0x10", "inf", "nan", "1e3",
    "Wed, 32 Oct 2015 07:28:00 GMT", "Wed, 21 Foo 2015 07:28:00 GMT",
])
def test_parse_retry_after_garbage_is_none(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


@pytest.mark.parametrize(("attempt", "expected"), [
    (1, FIRST_DRAW_42),
    (2, 2 * FIRST_DRAW_42),
    (5, 10.23082877532614),
    (12, 2048 * FIRST_DRAW_42),
    (13, 2301.9364744483814),  # 4096 would exceed the cap: 3600 * draw
    (10_000, 2301.9364744483814),  # no overflow far past the cap
])
def test_next_delay_is_the_draw_times_the_capped_ceiling(attempt: int, expected: float) -> None:
    assert next_delay(attempt, rng=random.Random(42)) == expected


def test_next_delay_base_and_cap() -> None:
    assert next_delay(3, base=0.5, rng=random.Random(42)) == 2.0 * FIRST_DRAW_42
    assert next_delay(3, base=0.5, cap=1.0, rng=random.Random(42)) == FIRST_DRAW_42


def test_a_seeded_schedule_is_reproducible() -> None:
    rng = random.Random(2024)
    assert [next_delay(k, rng=rng) for k in range(1, 8)] == [
        0.47009071843107064, 1.4565285828464152, 1.21500543356543, 7.098386152000121,
        6.561417431499612, 22.931660594612566, 16.974152819242704]


@pytest.mark.parametrize("attempt", [1, 2, 4, 8, 12, 13, 40])
def test_full_jitter_spans_zero_to_the_ceiling(attempt: int) -> None:
    rng = random.Random(attempt)
    ceiling = min(3600.0, 2.0 ** (attempt - 1))
    draws = [next_delay(attempt, rng=rng) for _ in range(2000)]
    assert all(0.0 <= d <= ceiling for d in draws)
    assert min(draws) < 0.01 * ceiling
    assert max(draws) > 0.99 * ceiling
    assert abs(sum(draws) / len(draws) - ceiling / 2) < 0.05 * ceiling


@pytest.mark.parametrize(("attempt", "base", "cap", "message"), [
    (0, 1.0, 3600.0, "attempt counts failed attempts and starts at 1"),
    (-3, 1.0, 3600.0, "attempt counts failed attempts and starts at 1"),
    (1, 0.0, 3600.0, "base and cap must be positive seconds"),
    (1, 1.0, -1.0, "base and cap must be positive seconds"),
    (1, math.nan, 3600.0, "base and cap must be positive seconds"),
    (1, 1.0, math.nan, "base and cap must be positive seconds"),
])
def test_next_delay_refuses_nonsense(attempt: int, base: float, cap: float, message: str) -> None:
    with pytest.raises(ValueError) as info:
        next_delay(attempt, base=base, cap=cap, rng=random.Random(0))
    assert str(info.value) == message


@pytest.mark.parametrize(("retry_after", "expected"), [
    (None, 4 * FIRST_DRAW_42),  # attempt 3: the jitter alone, 2.5577
    (1.0, 4 * FIRST_DRAW_42),  # Retry-After shorter than the jitter: the jitter
    (30.0, 30.0),  # longer: honoured
    (0.0, 4 * FIRST_DRAW_42),
    (math.nan, 4 * FIRST_DRAW_42),
    (7200.0, 3600.0),  # beyond the cap: capped
    (math.inf, 3600.0),
])
def test_delay_for(retry_after: float | None, expected: float) -> None:
    assert delay_for(3, retry_after, rng=random.Random(42)) == expected


def test_delay_for_with_a_small_cap() -> None:
    assert delay_for(1, 120.0, cap=60.0, rng=random.Random(42)) == 60.0


@pytest.mark.parametrize(("attempts", "age_s", "expected"), [
    (1, 0.0, None),
    (24, 86_399.9, None),
    (25, 0.0, "gave up after 25 attempts"),
    (30, 0.0, "gave up after 30 attempts"),
    (3, 86_400.0, "gave up after 86400 s (limit 86400 s)"),
    (25, 90_000.0, "gave up after 25 attempts"),
])
def test_give_up_after(attempts: int, age_s: float, expected: str | None) -> None:
    assert give_up_after(attempts, age_s) == expected


def test_give_up_after_limits_are_parameters() -> None:
    assert give_up_after(3, 10.0, max_attempts=3) == "gave up after 3 attempts"
    assert give_up_after(2, 10.0, max_attempts=3, max_age_s=10.0) == (
        "gave up after 10 s (limit 10 s)")
    assert give_up_after(2, 9.0, max_attempts=3, max_age_s=10.0) is None


def seeded() -> random.Random:
    return random.Random(42)


@pytest.mark.parametrize(("status", "retry_after", "attempts", "age", "expected"), [
    (200, None, 1, 0.0, Decision("delivered", None, "HTTP 200")),
    (204, "30", 25, 1e9, Decision("delivered", None, "HTTP 204")),
    (404, None, 1, 0.0, Decision("permanent", None, "HTTP 404")),
    (410, "30", 1, 0.0, Decision("permanent", None, "HTTP 410")),
    (301, None, 1, 0.0, Decision("permanent", None, "HTTP 301: redirects are not followed")),
    (308, None, 1, 0.0, Decision("permanent", None, "HTTP 308: redirects are not followed")),
    (503, None, 1, 0.0, Decision("retry", FIRST_DRAW_42, "HTTP 503")),
    (None, None, 2, 0.0, Decision("retry", 2 * FIRST_DRAW_42, "network error")),
    (429, "120", 1, 0.0, Decision("retry", 120.0, "HTTP 429")),
    (429, "Wed, 21 Oct 2015 07:38:00 GMT", 1, 0.0, Decision("retry", 600.0, "HTTP 429")),
    (429, "garbage", 1, 0.0, Decision("retry", FIRST_DRAW_42, "HTTP 429")),
    (408, None, 25, 0.0, Decision("give_up", None, "HTTP 408; gave up after 25 attempts")),
    (502, None, 3, 86_400.0,
     Decision("give_up", None, "HTTP 502; gave up after 86400 s (limit 86400 s)")),
])
def test_decide(status: int | None, retry_after: str | None, attempts: int, age: float,
                expected: Decision) -> None:
    assert decide(status, retry_after, attempts=attempts, first_attempt_at=NOW - age, now=NOW,
                  rng=seeded()) == expected


def test_decide_uses_the_policy() -> None:
    policy = RetryPolicy(base_s=10.0, cap_s=15.0, max_attempts=4, max_age_s=60.0)
    assert decide(503, None, attempts=2, first_attempt_at=NOW, now=NOW, rng=seeded(),
                  policy=policy) == Decision("retry", 15.0 * FIRST_DRAW_42, "HTTP 503")
    assert decide(503, "3600", attempts=2, first_attempt_at=NOW, now=NOW, rng=seeded(),
                  policy=policy) == Decision("retry", 15.0, "HTTP 503")
    assert decide(503, None, attempts=4, first_attempt_at=NOW, now=NOW, rng=seeded(),
                  policy=policy) == Decision("give_up", None, "HTTP 503; gave up after 4 attempts")


def test_a_receiver_down_for_minutes_is_retried_until_it_answers() -> None:
    """The relay's loop, as the scenario 'receiver down for minutes' needs it."""
    rng = random.Random(7)
    clock, attempts, waits = 0.0, 0, []
    while True:
        attempts += 1
        status = 503 if clock < 300.0 else 200  # down for five minutes
        step = decide(status, None, attempts=attempts, first_attempt_at=0.0, now=clock, rng=rng)
        if step.outcome != "retry":
            break
        assert step.delay_s is not None
        waits.append(step.delay_s)
        clock += step.delay_s
    assert step == Decision("delivered", None, "HTTP 200")
    assert attempts == len(waits) + 1
    assert clock >= 300.0
    assert all(0.0 <= w <= min(3600.0, 2.0 ** i) for i, w in enumerate(waits))
    assert attempts == 11
    assert round(clock, 6) == 324.3741
    assert [round(w, 3) for w in waits] == [
        0.324, 0.302, 2.604, 0.579, 8.574, 11.702, 3.712, 64.952, 9.599, 222.027]
