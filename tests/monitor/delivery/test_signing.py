"""Standard Webhooks signing, checked against the specification's vector and against an
independent implementation of the specification written here (no helper of the module under
test is used to compute or check a signature)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import httpx
import pytest

from monitor.delivery.signing import (
    SecretFormatError,
    SignatureError,
    decode_secret,
    new_secret,
    sign,
    verify,
)

# The test vector of the specification's reference libraries
# (standard-webhooks/standard-webhooks, libraries/*/tests: test_sign_function).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

OLD = "whsec_" + base64.b64encode(bytes(range(32))).decode()
NEW = "whsec_" + base64.b64encode(bytes(range(100, 132))).decode()
OTHER = "whsec_" + base64.b64encode(b"\xff" * 32).decode()
BODY = b'{"notification_id":"n-1","status":"firing"}'
TS = 1_795_000_000


def exact(text: str) -> str:
    """A ``pytest.raises`` pattern that matches ``text`` and nothing else."""
    return f"^{re.escape(text)}$"


# --- an independent implementation of the specification ------------------------------------------

def ref_key(secret: str) -> bytes:
    assert secret.startswith("whsec_")
    return base64.b64decode(secret.split("_", 1)[1])


def ref_signature(secret: str, msg_id: str, ts: str, body: bytes) -> str:
    signed = msg_id.encode() + b"." + ts.encode() + b"." + body
    digest = hmac.new(ref_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def ref_verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    expected = ref_signature(secret, headers["webhook-id"], headers["webhook-timestamp"], body)
    return any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split(" "))


# --- the specification's vector ------------------------------------------------------------------

def test_sign_reproduces_the_specification_vector() -> None:
    assert sign([VECTOR_SECRET], VECTOR_ID, VECTOR_TS, VECTOR_BODY) == {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": "1614265330",
        "webhook-signature": VECTOR_SIGNATURE,
    }


def test_reference_implementation_reproduces_the_vector_too() -> None:
    assert ref_signature(VECTOR_SECRET, VECTOR_ID, "1614265330", VECTOR_BODY) == VECTOR_SIGNATURE


def test_verify_accepts_the_vector_and_refuses_the_specifications_bad_signature() -> None:
    headers = {"webhook-id": VECTOR_ID, "webhook-timestamp": "1614265330",
               "webhook-signature": VECTOR_SIGNATURE}
    verify([VECTOR_SECRET], headers, VECTOR_BODY, now=VECTOR_TS)
    # The reference suite's invalid signature: the last character changed.
    headers["webhook-signature"] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="
    with pytest.raises(SignatureError, match=exact("no matching signature")):
        verify([VECTOR_SECRET], headers, VECTOR_BODY, now=VECTOR_TS)


def test_verify_finds_the_valid_entry_among_others_as_in_the_reference_suite() -> None:
    entries = ["v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
               "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
               VECTOR_SIGNATURE,
               "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="]
    headers = {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TS),
               "webhook-signature": " ".join(entries)}
    verify([VECTOR_SECRET], headers, VECTOR_BODY, now=VECTOR_TS)


# --- agreement with the independent implementation -----------------------------------------------

@pytest.mark.parametrize(("msg_id", "ts", "body"), [
    ("msg_1", 0, b""),
    ("n-0f8e2c", TS, BODY),
    ("01J9Z3K8QW", 4_102_444_800, "ünïcødé ✓".encode()),
    ("x" * 256, 1, bytes(range(256))),
])
def test_signatures_match_the_independent_implementation(msg_id: str, ts: int, body: bytes) -> None:
    headers = sign([OLD], msg_id, ts, body)
    assert headers == {"webhook-id": msg_id, "webhook-timestamp": str(ts),
                       "webhook-signature": ref_signature(OLD, msg_id, str(ts), body)}
    assert ref_verify(OLD, headers, body)
    verify([OLD], headers, body, now=ts)


def test_verify_accepts_what_the_independent_implementation_signs() -> None:
    headers = {"webhook-id": "cb-42", "webhook-timestamp": str(TS),
               "webhook-signature": ref_signature(NEW, "cb-42", str(TS), BODY)}
    verify([NEW], headers, BODY, now=TS)
    with pytest.raises(SignatureError, match=exact("no matching signature")):
        verify([OLD], headers, BODY, now=TS)


# --- rotation with overlap -----------------------------------------------------------------------

def test_rotation_signs_with_every_secret_in_order() -> None:
    headers = sign([NEW, OLD], "n-1", TS, BODY)
    assert headers["webhook-signature"] == (
        ref_signature(NEW, "n-1", str(TS), BODY) + " " + ref_signature(OLD, "n-1", str(TS), BODY))
    assert ref_verify(OLD, headers, BODY)
    assert ref_verify(NEW, headers, BODY)


def test_receivers_holding_either_secret_verify_during_the_overlap() -> None:
    headers = sign([NEW, OLD], "n-1", TS, BODY)
    verify([OLD], headers, BODY, now=TS)
    verify([NEW], headers, BODY, now=TS)
    verify([NEW, OLD], headers, BODY, now=TS)
    with pytest.raises(SignatureError, match=exact("no matching signature")):
        verify([OTHER], headers, BODY, now=TS)


def test_a_receiver_that_rotated_first_still_accepts_the_old_signature() -> None:
    headers = sign([OLD], "n-1", TS, BODY)
    verify([NEW, OLD], headers, BODY, now=TS)
    with pytest.raises(SignatureError, match=exact("no matching signature")):
        verify([NEW], headers, BODY, now=TS)


def test_the_same_secret_twice_signs_once() -> None:
    assert sign([OLD, OLD], "n-1", TS, BODY) == sign([OLD], "n-1", TS, BODY)


# --- what verification refuses -------------------------------------------------------------------

@pytest.mark.parametrize(("now", "message"), [
    (TS + 301, "timestamp too old: 301 s before now (tolerance 300 s)"),
    (TS - 301, "timestamp too new: 301 s after now (tolerance 300 s)"),
    (TS + 86_400, "timestamp too old: 86400 s before now (tolerance 300 s)"),
])
def test_timestamps_outside_the_tolerance_are_refused(now: int, message: str) -> None:
    headers = sign([OLD], "n-1", TS, BODY)
    with pytest.raises(SignatureError) as info:
        verify([OLD], headers, BODY, now=now)
    assert info.value.reason == message


@pytest.mark.parametrize("now", [TS - 300, TS - 1, TS, TS + 1, TS + 300])
def test_timestamps_within_the_tolerance_are_accepted(now: int) -> None:
    verify([OLD], sign([OLD], "n-1", TS, BODY), BODY, now=now)


def test_the_tolerance_is_a_parameter() -> None:
    headers = sign([OLD], "n-1", TS, BODY)
    verify([OLD], headers, BODY, now=TS + 30, tolerance_s=30)
    too_old = "timestamp too old: 31 s before now (tolerance 30 s)"
    with pytest.raises(SignatureError, match=exact(too_old)):
        verify([OLD], headers, BODY, now=TS + 31, tolerance_s=30)


@pytest.mark.parametrize(("field", "value"), [
    ("body", b'{"notification_id":"n-1","status":"resolved"}'),
    ("body", BODY + b" "),
    ("webhook-id", "n-2"),
    ("webhook-timestamp", str(TS + 1)),
])
def test_any_tampering_is_refused(field: str, value: object) -> None:
    headers = sign([OLD], "n-1", TS, BODY)
    body = BODY
    if field == "body":
        assert isinstance(value, bytes)
        body = value
    else:
        assert isinstance(value, str)
        headers[field] = value
    with pytest.raises(SignatureError, match=exact("no matching signature")):
        verify([OLD], headers, body, now=TS)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_named(missing: str) -> None:
    headers = sign([OLD], "n-1", TS, BODY)
    del headers[missing]
    with pytest.raises(SignatureError, match=exact(f"missing header {missing}")):
        verify([OLD], headers, BODY, now=TS)
    headers[missing] = "  "
    with pytest.raises(SignatureError, match=exact(f"missing header {missing}")):
        verify([OLD], headers, BODY, now=TS)


def test_header_names_are_case_insensitive_in_dicts_and_httpx_headers() -> None:
    signed = sign([OLD], "n-1", TS, BODY)
    mixed = {"Webhook-Id": signed["webhook-id"], "WEBHOOK-TIMESTAMP": signed["webhook-timestamp"],
             "Webhook-Signature": signed["webhook-signature"]}
    verify([OLD], mixed, BODY, now=TS)
    verify([OLD], httpx.Headers(mixed), BODY, now=TS)


@pytest.mark.parametrize(("header", "value", "message"), [
    ("webhook-timestamp", "hello", "malformed header webhook-timestamp: not integer unix seconds"),
    ("webhook-timestamp", "1795000000.5",
     "malformed header webhook-timestamp: not integer unix seconds"),
    ("webhook-timestamp", "-1", "malformed header webhook-timestamp: not integer unix seconds"),
    ("webhook-id", "a.b", "malformed header webhook-id"),
    ("webhook-signature", "v2,abc v1a,xyz", "no v1 signature in header webhook-signature"),
    ("webhook-signature", "v1,not-base64!", "no v1 signature in header webhook-signature"),
    ("webhook-signature", "garbage", "no v1 signature in header webhook-signature"),
    ("webhook-signature", " ".join(["v1,AAAA"] * 17), "too many signatures (17 > 16)"),
])
def test_malformed_headers_are_refused_with_a_reason(header: str, value: str, message: str) -> None:
    headers = sign([OLD], "n-1", TS, BODY)
    headers[header] = value
    with pytest.raises(SignatureError) as info:
        verify([OLD], headers, BODY, now=TS)
    assert info.value.reason == message


def test_verify_is_stateless_so_replay_detection_is_the_callers_job() -> None:
    headers = sign([OLD], "n-1", TS, BODY)
    verify([OLD], headers, BODY, now=TS)
    verify([OLD], headers, BODY, now=TS + 10)  # the same id again: the caller dedupes on it


def test_every_candidate_is_compared_in_constant_time_without_early_exit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    headers = sign([NEW, OLD, OTHER], "n-1", TS, BODY)
    verify([OLD, NEW], headers, BODY, now=TS)
    assert len(calls) == 2 * 3  # two secrets against three signatures, all of them
    assert all(len(a) == len(b) == 32 for a, b in calls)


# --- secrets -------------------------------------------------------------------------------------

def test_new_secret_is_whsec_and_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_")
    assert len(ref_key(first)) == 32
    assert first != second
    verify([first], sign([first], "n-1", TS, BODY), BODY, now=TS)


def test_unpadded_base64_is_the_same_key() -> None:
    key = bytes(range(25))  # 25 bytes: base64 ends in "=="
    padded = "whsec_" + base64.b64encode(key).decode()
    assert padded.endswith("==")
    assert decode_secret(padded.rstrip("=")) == key
    assert sign([padded.rstrip("=")], "n-1", TS, BODY) == sign([padded], "n-1", TS, BODY)


@pytest.mark.parametrize(("secret", "message"), [
    ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "secret must start with 'whsec_'"),
    ("whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "secret must start with 'whsec_'"),
    ("whsec_!!notbase64!!", "secret is not valid base64 after 'whsec_'"),
    ("whsec_" + base64.b64encode(b"k" * 16).decode(),
     "secret key is 16 bytes; Standard Webhooks needs 24 to 64"),
    ("whsec_" + base64.b64encode(b"k" * 65).decode(),
     "secret key is 65 bytes; Standard Webhooks needs 24 to 64"),
    ("whsec_", "secret key is 0 bytes; Standard Webhooks needs 24 to 64"),
])
def test_malformed_secrets_are_named_without_echoing_them(secret: str, message: str) -> None:
    for call in (lambda: sign([secret], "n-1", TS, BODY),
                 lambda: verify([secret], sign([OLD], "n-1", TS, BODY), BODY, now=TS)):
        with pytest.raises(SecretFormatError) as info:
            call()
        assert str(info.value) == message
        material = secret.removeprefix("whsec_")
        assert not material or material not in str(info.value)


def test_secrets_must_be_a_non_empty_sequence() -> None:
    with pytest.raises(SecretFormatError, match=exact("at least one secret is required")):
        sign([], "n-1", TS, BODY)
    lone = "pass a sequence of secrets, not a single string"
    with pytest.raises(SecretFormatError, match=exact(lone)):
        sign(OLD, "n-1", TS, BODY)
    with pytest.raises(SecretFormatError, match=exact("at least one secret is required")):
        verify([], sign([OLD], "n-1", TS, BODY), BODY, now=TS)


@pytest.mark.parametrize("msg_id", ["", "a.b", "has space", "x" * 257, "tab\there", "é"])
def test_sign_refuses_ids_that_could_blur_the_signed_content(msg_id: str) -> None:
    with pytest.raises(ValueError, match="message id must be"):
        sign([OLD], msg_id, TS, BODY)


@pytest.mark.parametrize("ts", [-1, True])
def test_sign_refuses_timestamps_that_are_not_unix_seconds(ts: int) -> None:
    with pytest.raises(ValueError, match="timestamp must be non-negative integer unix seconds"):
        sign([OLD], "n-1", ts, BODY)
