"""The uvicorn server `serve` runs: a connection cap, read timeouts, the open-file limit they need, and proxy
headers only when configured.

uvicorn has `limit_concurrency` (a 503 once a request's headers are in) and a keep-alive timeout, but nothing that
closes a connection dribbling its headers or body, and every such connection holds a file descriptor. `protocol_class`
subclasses uvicorn's HTTP protocol so that a connection over `server.max_connections` is answered 503 and closed
as soon as it is accepted, and one that has not finished its request line and headers within
`server.header_timeout_seconds` (counted from the connection, or from the first byte after the last response)
is answered 408 and closed, and so is a request whose body has not all arrived `server.body_timeout_seconds`
after its headers; headers past 64 KiB get 431 (httptools would buffer any amount). Body sizes are bounded by
http_guard.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
from collections.abc import Callable
from typing import Any, Literal

import uvicorn

from notifbot.config import ServerSettings
from notifbot.config.env import Env
from notifbot.errors import ConfigError
from notifbot.logs import OncePer

log = logging.getLogger("notifbot.web")

FD_MARGIN = 64  # database, WAL, logs, outbound HTTP pools (Slack, Graph, Marketo, Adobe)
MAX_HEADER_BYTES = 64 * 1024  # request line + headers; httptools buffers them without a limit of its own
WARN_EVERY_SECONDS = 60.0


def files_needed(max_connections: int) -> int:
    """Open files `serve` needs: each allowed connection, as many again for refused ones closing, and a margin."""
    return 2 * max_connections + FD_MARGIN


def ensure_open_files(max_connections: int) -> None:
    """Raises the soft RLIMIT_NOFILE to what the cap needs when the hard limit allows; ConfigError otherwise."""
    need = files_needed(max_connections)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= need:
        return
    if hard == resource.RLIM_INFINITY or hard >= need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
        log.info("open-file limit raised", extra={"from": soft, "to": need})
        return
    raise ConfigError(
        [
            f"server.max_connections: {max_connections} connections need {need} open files "
            f"(2 × max_connections + {FD_MARGIN}) but this process may open {soft} (hard limit {hard}); "
            f"raise it (systemd LimitNOFILE={need}, `docker run --ulimit nofile={need}:{need}`, "
            "`ulimit -n`) or lower server.max_connections"
        ]
    )


def _response(status: str, message: str) -> bytes:
    body = json.dumps({"error": message}).encode()
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        "connection: close\r\nx-content-type-options: nosniff\r\n"
    )
    return head.encode() + (b"retry-after: 1\r\n" if status.startswith("503") else b"") + b"\r\n" + body


def _base_protocol() -> type[Any]:
    """uvicorn's own choice ("auto"): httptools when installed, else h11."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - uvicorn[standard] brings httptools on Linux and macOS
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return H11Protocol
    return HttpToolsProtocol


def protocol_class(settings: ServerSettings, refused: Callable[[int], None]) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol with the connection cap and read timeouts; `refused(status)` counts refusals."""
    cap, header_timeout, body_timeout = (
        settings.max_connections,
        settings.header_timeout_seconds,
        settings.body_timeout_seconds,
    )
    full = _response(
        "503 Service Unavailable", "too many connections (server.max_connections); retry shortly"
    )
    slow_headers = _response(
        "408 Request Timeout",
        f"request headers not received within {header_timeout:g} s (server.header_timeout_seconds)",
    )
    slow_body = _response(
        "408 Request Timeout",
        f"request body not received within {body_timeout:g} s (server.body_timeout_seconds); "
        "nothing was accepted",
    )
    huge = _response("431 Request Header Fields Too Large", f"request headers over {MAX_HEADER_BYTES} bytes")
    cap_warning = OncePer(WARN_EVERY_SECONDS)

    class Protocol(_base_protocol()):  # type: ignore[misc]
        """One connection, cut off when over the cap or too slow to send a request's headers or body."""

        _timer: asyncio.TimerHandle | None = None
        _phase: Literal["headers", "body"] | None = None  # what the timer is waiting for
        _over_cap = False
        _bytes_waiting = False  # part of a request has arrived since the header timer was armed
        _in_headers = False  # httptools is between a request's first byte and the end of its headers
        _header_bytes = 0

        def connection_made(self, transport: asyncio.Transport) -> None:
            if len(self.connections) >= cap:
                self._over_cap = True
                refused(503)
                if cap_warning.due():
                    log.warning(
                        "connection cap reached: refusing connections", extra={"max_connections": cap}
                    )
                transport.write(full)
                transport.close()
                return
            super().connection_made(transport)
            self._start("headers")

        def data_received(self, data: bytes) -> None:
            self._bytes_waiting = True
            if self._in_headers:
                self._header_bytes += len(data)
                if self._header_bytes > MAX_HEADER_BYTES:
                    refused(431)
                    self.transport.write(huge)
                    self.transport.close()
                    return
            super().data_received(data)
            if self._between_requests():  # a partial request (or the rest of a body answered early)
                if self._timer is None:
                    self._start("headers", waiting=True)
                return
            if not self.cycle.more_body:
                self._stop()  # the whole request is in: no clock while the endpoint works
            elif self._phase != "body":  # headers are in, the body is not: it gets its own clock
                self._stop()
                self._start("body")

        def on_message_begin(self) -> None:  # httptools' callbacks (h11 caps headers itself, at 16 KiB)
            super().on_message_begin()
            self._in_headers, self._header_bytes = True, 0

        def on_headers_complete(self) -> None:
            self._in_headers = False
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._over_cap:
                return
            self._stop()
            super().connection_lost(exc)

        def _between_requests(self) -> bool:
            return self.cycle is None or bool(self.cycle.response_complete)

        def _start(self, phase: Literal["headers", "body"], waiting: bool = False) -> None:
            self._phase, self._bytes_waiting = phase, waiting
            delay = header_timeout if phase == "headers" else body_timeout
            self._timer = self.loop.call_later(delay, self._too_slow)

        def _stop(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
            self._timer, self._phase = None, None

        def _too_slow(self) -> None:
            phase, self._timer, self._phase = self._phase, None, None
            if self.transport.is_closing():
                return
            if phase == "headers":
                if not self._between_requests():
                    return
                if self._bytes_waiting:  # a partial request: say why; an idle connection is simply closed
                    refused(408)
                    self.transport.write(slow_headers)
            elif self.cycle is not None and not self.cycle.response_started:
                refused(408)  # the endpoint waiting for the body then sees a disconnect and stops
                self.transport.write(slow_body)
            self.transport.close()

    return Protocol


def uvicorn_config(
    app: Any, settings: ServerSettings, env: Env, refused: Callable[[int], None]
) -> uvicorn.Config:
    """The uvicorn settings for `serve`: our protocol, and proxy headers only when `server.proxy_headers`."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=protocol_class(settings, refused),
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
        server_header=False,
        # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default; the loopback check of /hooks/events must see
        # the real peer unless a proxy is configured on purpose (which config/checks.py allows only with a token)
        proxy_headers=settings.proxy_headers,
        forwarded_allow_ips=settings.forwarded_allow_ips or env.get("FORWARDED_ALLOW_IPS") or "127.0.0.1,::1",
    )
