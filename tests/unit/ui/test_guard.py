"""The console's browser checks as pure functions, and the middleware that applies them to every answer."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from notifbot.ui.guard import (
    CSP,
    BrowserGuard,
    clear_text_off_loopback,
    cross_site,
    loopback_host,
    origin_of,
    own_origin,
)

OWN = "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1:8080/ui/login", OWN),
        ("HTTP://LocalHost:8080", "http://localhost:8080"),
        ("https://console.example.com:443/x?y#z", "https://console.example.com"),
        ("http://console.example.com:80", "http://console.example.com"),
        ("https://[::1]:9000/", "https://[::1]:9000"),
        ("null", None),
        ("", None),
        (None, None),
        ("javascript:alert(1)", None),
        ("file:///etc/passwd", None),
        ("http://user:pw@127.0.0.1:8080/", None),
        ("http://127.0.0.1:99999/", None),
        ("//127.0.0.1:8080/", None),
    ],
)
def test_origin_of(url: str | None, origin: str | None) -> None:
    assert origin_of(url) == origin


@pytest.mark.parametrize(
    ("scheme", "host", "origin"),
    [
        ("http", "127.0.0.1:8080", OWN),
        ("https", "console.example.com", "https://console.example.com"),
        ("https", "console.example.com:443", "https://console.example.com"),
        ("http", "[::1]:8080", "http://[::1]:8080"),
        ("http", None, None),
        ("http", "a/b", None),
        ("http", "evil.example@127.0.0.1", None),
    ],
)
def test_own_origin(scheme: str, host: str | None, origin: str | None) -> None:
    assert own_origin(scheme, host) == origin


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ({"origin": OWN}, False),
        ({"origin": OWN + "/"}, False),
        ({"origin": OWN, "sec-fetch-site": "same-origin"}, False),
        ({"referer": OWN + "/ui/outbox"}, False),
        ({"origin": OWN, "referer": "http://evil.example/"}, False),  # Origin decides when present
        ({"origin": "http://evil.example"}, True),
        ({"origin": "http://127.0.0.1:8081"}, True),
        ({"origin": "https://127.0.0.1:8080"}, True),
        ({"origin": "http://localhost:8080"}, True),
        ({"origin": "null"}, True),
        ({"origin": "http://evil.example", "referer": OWN + "/"}, True),
        ({"referer": "http://evil.example/ui/outbox"}, True),
        ({}, True),
        ({"origin": OWN, "sec-fetch-site": "cross-site"}, True),
        ({"origin": OWN, "sec-fetch-site": "same-site"}, True),
        ({"origin": OWN, "sec-fetch-site": "none"}, True),
    ],
)
def test_cross_site(headers: dict[str, str], refused: bool) -> None:
    assert (cross_site(headers, OWN) is not None) is refused


def test_cross_site_without_a_usable_host_refuses() -> None:
    assert cross_site({"origin": OWN}, None) is not None


@given(st.dictionaries(st.sampled_from(["origin", "referer", "sec-fetch-site"]), st.text(max_size=60)))
def test_only_the_own_origin_passes(headers: dict[str, str]) -> None:
    if cross_site(headers, OWN) is None:
        assert headers.get("sec-fetch-site", "same-origin").strip().lower() == "same-origin"
        assert origin_of(headers.get("origin", headers.get("referer"))) == OWN


@pytest.mark.parametrize(
    ("scheme", "client", "refused"),
    [
        ("http", "127.0.0.1", False),
        ("http", "::1", False),
        ("https", "203.0.113.9", False),
        ("http", "203.0.113.9", True),
        ("http", None, True),
        ("ws", "10.0.0.1", True),
    ],
)
def test_clear_text_off_loopback(scheme: str, client: str | None, refused: bool) -> None:
    assert clear_text_off_loopback(scheme, client) is refused


@pytest.mark.parametrize(
    ("header", "accepted"),
    [("127.0.0.1:1", True), ("localhost", True), ("[::1]:8080", True), ("[::1", False), ("::1", False)],
)
def test_loopback_host(header: str, accepted: bool) -> None:
    assert loopback_host(header) is accepted


async def _page(request: Request) -> Response:
    return PlainTextResponse("ok", headers={"Cache-Control": "max-age=600"})


def _client(loopback_only: bool, host: str) -> httpx.AsyncClient:
    app = BrowserGuard(Starlette(routes=[Route("/", _page)]), loopback_only=loopback_only)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}")


async def test_the_headers_are_added_and_replace_the_apps() -> None:
    async with _client(True, "127.0.0.1:8080") as c:
        r = await c.get("/")
        missing = await c.get("/missing")
    for answer in (r, missing):
        assert answer.headers["content-security-policy"] == CSP
        assert answer.headers.get_list("cache-control") == ["no-store"]
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
    assert r.text == "ok" and missing.status_code == 404


async def test_a_foreign_host_is_misdirected_only_on_a_loopback_bind() -> None:
    async with _client(True, "evil.example:8080") as c:
        r = await c.get("/")
    assert r.status_code == 421 and r.headers["content-security-policy"] == CSP
    async with _client(False, "console.example.com") as c:
        assert (await c.get("/")).status_code == 200
