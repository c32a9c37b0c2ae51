"""Slack request signatures: Slack's documented example, the ±5-minute window and malformed headers."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from notifbot.slack.signature import is_valid, verifier

# Slack's documented example (docs.slack.dev "Verifying requests from Slack")
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
    b"channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
    b"response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
    b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
TS = 1531420618
SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def headers(ts: str = str(TS), signature: str = SIGNATURE) -> dict[str, str]:
    return {"x-slack-request-timestamp": ts, "x-slack-signature": signature}


def signed(ts: str, body: bytes = BODY, secret: str = SECRET) -> dict[str, str]:
    """Headers signed over `ts` exactly as given (whatever it looks like)."""
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return headers(ts, f"v0={digest}")


def test_slacks_documented_example_verifies() -> None:
    assert is_valid(verifier(SECRET, lambda: TS), BODY, headers())


@pytest.mark.parametrize(
    ("offset", "ok"), [(0, True), (300, True), (-300, True), (301, False), (-301, False)]
)
def test_the_window_is_five_minutes_either_way(offset: int, ok: bool) -> None:
    assert is_valid(verifier(SECRET, lambda: TS + offset), BODY, headers()) is ok


def test_the_default_clock_is_the_real_one() -> None:
    assert not is_valid(verifier(SECRET), BODY, headers())  # the 2018 example is stale today
    now = str(int(time.time()))
    assert is_valid(verifier(SECRET), BODY, signed(now))


def test_a_changed_body_secret_or_signature_is_refused() -> None:
    v = verifier(SECRET, lambda: TS)
    assert not is_valid(v, BODY + b"&x=1", headers())
    assert not is_valid(verifier(SECRET[:-1] + "6", lambda: TS), BODY, headers())
    assert not is_valid(v, BODY, headers(signature=SIGNATURE[:-1] + "4"))
    assert not is_valid(v, BODY, headers(signature=SIGNATURE.removeprefix("v0=")))


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"x-slack-signature": SIGNATURE},
        {"x-slack-request-timestamp": str(TS)},
        headers(ts=""),
        headers(signature=""),
        headers(ts="1531420618.0"),
        headers(ts="0x5b47a0ca"),
        headers(ts="X1531420618"),
    ],
)
def test_missing_or_malformed_headers_are_refused(bad: dict[str, str]) -> None:
    assert not is_valid(verifier(SECRET, lambda: TS), BODY, bad)


@pytest.mark.parametrize(
    "ts",
    [
        " 1531420618",  # correctly signed over the odd text: still refused, the header must be digits only
        "1531420618 ",
        "+1531420618",
        "-1531420618",
        "--1531420618",
        "1531420618\n",
        "１５３１４２０６１８",  # fullwidth digits: str.isdigit() says yes, Slack never sends them
        "²",  # superscript two: isdigit() but not a number int() can read
        "1" * 5000,  # longer than int() converts
    ],
)
def test_odd_timestamps_are_refused_never_raised(ts: str) -> None:
    """An unauthenticated request with an odd timestamp is a 401, never an exception (500)."""
    assert not is_valid(verifier(SECRET, lambda: TS), BODY, signed(ts))


@pytest.mark.parametrize(
    "signature",
    [
        SIGNATURE[:-1] + "é",  # hmac.compare_digest raises TypeError on non-ASCII text
        "v0=" + "\u0663" * 64,  # Arabic-Indic digits
        SIGNATURE + "\u200b",  # a zero-width space after a correct signature
    ],
)
def test_non_ascii_signatures_are_refused_never_raised(signature: str) -> None:
    """An unauthenticated request with a non-ASCII signature is a 401, never an exception (500)."""
    v = verifier(SECRET, lambda: TS)
    assert not is_valid(v, BODY, headers(signature=signature))
    assert is_valid(v, BODY, headers())  # the same verifier still accepts the genuine signature
