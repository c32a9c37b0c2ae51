"""Loopback only: the sandbox binds to loopback and answers only a loopback Host (no DNS rebinding)."""

from __future__ import annotations

import pytest

from notifbot.errors import ConfigError
from notifbot.sandbox.guard import loopback_host, require_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_loopback_addresses_may_be_bound(host: str) -> None:
    assert require_loopback(host) == host


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "sandbox.example.com"])
def test_other_addresses_are_refused(host: str) -> None:
    with pytest.raises(ConfigError, match="loopback"):
        require_loopback(host)


@pytest.mark.parametrize(
    ("header", "port", "accepted"),
    [
        ("127.0.0.1:8090", 8090, True),
        ("localhost:8090", 8090, True),
        ("[::1]:8090", 8090, True),
        ("LOCALHOST:8090", None, True),
        ("127.0.0.1:8091", 8090, False),
        ("127.0.0.1", 8090, False),
        ("evil.example:8090", 8090, False),
        ("127.0.0.1.evil.example:8090", None, False),
        ("", None, False),
        (None, None, False),
    ],
)
def test_host_header(header: str | None, port: int | None, accepted: bool) -> None:
    assert loopback_host(header, port) is accepted
