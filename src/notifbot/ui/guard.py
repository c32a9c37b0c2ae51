"""The browser-facing checks of the console (and the sandbox): loopback Host, same-origin POSTs, security headers.

Pure functions of header values, plus one ASGI middleware that applies the Host check and adds the headers to every
response. The console and the sandbox use the same functions, so their rules cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from notifbot.asgi import error_body, respond
from notifbot.net import is_loopback

_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::([0-9]{1,5}))?")  # a Host header
_DEFAULT_PORTS = {"http": "80", "https": "443"}

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)
_REPLACED = frozenset(name for name, _ in SECURITY_HEADERS)


def loopback_host(header: str | None, port: int | None = None) -> bool:
    """True when a Host header names a loopback host (and `port`, when given): a rebound DNS name fails."""
    if not header:
        return False
    match = _HOST.fullmatch(header.strip().lower())
    if match is None or not is_loopback(match.group(1)):
        return False
    return port is None or match.group(2) == str(port)


def origin_of(url: str | None) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, lower-cased and without a default port; None for anything else."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    shown = "" if port is None or str(port) == _DEFAULT_PORTS[scheme] else f":{port}"
    return f"{scheme}://{host.lower()}{shown}"


def own_origin(scheme: str, host: str | None) -> str | None:
    """The origin a request was addressed to: its scheme (after trusted proxy headers) and its Host header."""
    if not host or not _HOST.fullmatch(host.strip()):
        return None
    return origin_of(f"{scheme}://{host.strip()}/")


def cross_site(headers: Mapping[str, str], own: str | None) -> str | None:
    """None when a POST comes from the console's own origin; otherwise why it is refused.

    `Sec-Fetch-Site`, when sent, must be `same-origin`; `Origin` (or, without one, `Referer`) must be `own`.
    `headers` has lower-case names.
    """
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.strip().lower() != "same-origin":
        return f"Sec-Fetch-Site is {fetch_site.strip()[:40]!r}, not same-origin"
    if own is None:
        return "the Host header is not a host name"
    origin = headers.get("origin")
    if origin is not None:
        return None if origin_of(origin) == own else "the Origin header is not this console's origin"
    referer = headers.get("referer")
    if referer is not None:
        return None if origin_of(referer) == own else "the Referer header is not this console's origin"
    return "neither an Origin nor a Referer header"


def clear_text_off_loopback(scheme: str, client: str | None) -> bool:
    """True when a request came over plain HTTP from another machine: a token sent so would cross in clear."""
    return scheme != "https" and not is_loopback(client)


class BrowserGuard:
    """ASGI middleware: 421 to a Host that is not loopback (when `loopback_only`); security headers on every answer."""

    def __init__(self, app: ASGIApp, *, loopback_only: bool, port: int | None = None) -> None:
        self.app = app
        self.loopback_only = loopback_only
        self.port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _REPLACED]
                message["headers"] = kept + list(SECURITY_HEADERS)
            await send(message)

        if self.loopback_only:
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
            if not loopback_host(host, self.port):
                await respond(guarded, 421, error_body("misdirected request: not a loopback Host"))
                return
        await self.app(scope, receive, guarded)
