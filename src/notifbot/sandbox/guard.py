"""Loopback only: the sandbox binds to loopback addresses and answers only requests addressed to one (DNS rebinding)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from notifbot.asgi import error_body, respond
from notifbot.errors import ConfigError
from notifbot.net import is_loopback
from notifbot.ui.guard import loopback_host  # one Host rule for the sandbox and the console


def require_loopback(host: str) -> str:
    """`host` if it is a loopback address or `localhost`; else a ConfigError (the sandbox has no login)."""
    if not is_loopback(host):
        raise ConfigError(
            [
                f"--host: {host!r} is not a loopback address: the sandbox listens on 127.0.0.1, ::1 or localhost only"
            ]
        )
    return host


class LoopbackHostOnly:
    """ASGI middleware answering 421 to any HTTP request whose Host is not loopback (and not `port`, if set)."""

    def __init__(self, app: ASGIApp, port: int | None = None) -> None:
        self.app = app
        self.port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
            if not loopback_host(host, self.port):
                await respond(send, 421, error_body("misdirected request: not a loopback Host"))
                return
        await self.app(scope, receive, send)


def same_origin(origin: str | None, host: str | None, fetch_site: str | None = None) -> bool:
    """True when a POST comes from the sandbox's own page: `Origin` is `http://<Host>` (Host checked already).

    A browser sends Origin with every POST; without it, only `Sec-Fetch-Site: same-origin` vouches for the request.
    """
    if not host:
        return False
    if origin is None:
        return fetch_site == "same-origin"
    return origin.strip().lower() == f"http://{host.strip().lower()}"


def from_page(request: Request) -> bool:
    """True when a POST comes from the sandbox's own page (`same_origin` on its headers)."""
    h = request.headers
    return same_origin(h.get("origin"), h.get("host"), h.get("sec-fetch-site"))
