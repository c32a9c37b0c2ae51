"""The limits on what unauthenticated /hooks/adobe-io requests can cost: key fetches and log lines."""

from __future__ import annotations

import logging

import pytest

from notifbot.sources.adobe_io.signature import TokenBucket, valid_key_path
from notifbot.sources.adobe_io.throttle import LogThrottle, loggable


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_a_burst_then_one_per_interval() -> None:
    clock = Clock()
    bucket = TokenBucket(4, 15.0, clock)
    assert [bucket.take() for _ in range(6)] == [True] * 4 + [False] * 2
    assert bucket.wait() == pytest.approx(15.0)
    clock.now += 14.9
    assert not bucket.take()
    clock.now += 0.2
    assert bucket.take() and not bucket.take()
    clock.now += 3600
    assert [bucket.take() for _ in range(5)] == [True] * 4 + [False]  # never more than the burst


def test_log_throttle_one_line_per_interval_then_a_count(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    throttle = LogThrottle(logging.getLogger("notifbot.test.throttle"), 60.0, clock)
    with caplog.at_level(logging.DEBUG, logger="notifbot.test.throttle"):
        for _ in range(5):
            throttle.log(logging.WARNING, "refused %s", "x")
        clock.now += 60
        throttle.log(logging.WARNING, "refused %s", "y")
    levels = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert levels == [
        (logging.WARNING, "refused x"),
        *[(logging.DEBUG, "refused x")] * 4,
        (logging.WARNING, "refused y (and 4 more like it since the last one, logged at DEBUG)"),
    ]


def test_loggable_is_one_bounded_line() -> None:
    assert loggable("https://csm.adobe.io/a?b=1") == "https://csm.adobe.io/a?b=1"
    shown = loggable("x\n\r\x1b[31m\u2028\ud800" + "y" * 1000, 20)
    assert shown.startswith("x\\n\\r\\x1b[31m\\u2028\\ud800") and shown.endswith("y... (1010 characters)")
    assert shown.isprintable() and shown.isascii()


@pytest.mark.parametrize(
    "path,ok",
    [
        ("/prod/keys/pub-key-IkpzhSpTw0.pem", True),  # as Adobe sends them today
        ("/prod/keys/pub-key-0c1b2a3d-4e5f-6789-abcd-ef0123456789.pem", True),  # as Adobe documents them
        ("/prod/keys/anything.pem", False),
        ("/a/b.pem", False),
        ("/prod/keys/pub-key-.pem", False),
        ("/prod/keys/pub-key-x.pem/../y.pem", False),
        ("/prod/keys/pub-key-" + "a" * 200 + ".pem", False),
        ("/prod/keys/pub-key-x.pem\n", False),
    ],
)
def test_only_the_documented_key_path_is_fetched(path: str, ok: bool) -> None:
    assert (valid_key_path(path) is not None) is ok
