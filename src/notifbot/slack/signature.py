"""Verifies Slack request signatures (v0 HMAC-SHA256 over timestamp and raw body, ±5 minutes)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping

from slack_sdk.signature import Clock, SignatureVerifier

# Unix seconds in ASCII digits: str.isdigit() also passes "²" and "--1" (after lstrip), which int() then raises on
_TIMESTAMP = re.compile(r"[0-9]{1,15}")


class _InjectedClock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


def verifier(signing_secret: str, now: Callable[[], float] = time.time) -> SignatureVerifier:
    """slack_sdk's verifier with an injectable clock (tests replay Slack's documented example)."""
    return SignatureVerifier(signing_secret, clock=_InjectedClock(now))


def is_valid(v: SignatureVerifier, body: bytes, headers: Mapping[str, str]) -> bool:
    """True for a correctly signed, fresh request."""
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp or not signature or not _TIMESTAMP.fullmatch(timestamp) or not signature.isascii():
        return False  # hmac.compare_digest raises on non-ASCII text
    return v.is_valid(body, timestamp, signature)
