"""Bounds every HTTP request at the top of the ASGI app: body size and body read time, whatever the endpoint.

Every endpoint below (the lean ingest endpoints, Starlette, Bolt) reads its body through `RequestGuard.receive`,
which counts bytes as they arrive and answers 413 the moment a body passes its limit (so nothing buffers more
than the limit plus one chunk, chunked or not), and 408 when the body has not arrived within the time allowed.
It then raises `RequestAborted` so the endpoint stops; its own answer is dropped. Every response also gets
`X-Content-Type-Options: nosniff`: nothing notifbot serves is meant to be rendered as HTML.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, NoReturn

from notifbot.errors import NotifbotError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PLATFORM_MAX_BODY = 1_048_576  # Slack and Microsoft Graph send small bodies; 1 MiB is far above either
NOSNIFF = (b"x-content-type-options", b"nosniff")


class RequestAborted(NotifbotError):
    """The guard answered the request itself (413, 408) or the client left mid-body: the endpoint must stop."""


class RequestGuard:
    """One request's `receive` and `send`, bounded; `refused(status)` counts the guard's own refusals."""

    __slots__ = (
        "_answered",
        "_deadline",
        "_done",
        "_limit",
        "_receive",
        "_refused",
        "_scope",
        "_send",
        "_size",
        "_started",
        "_timeout",
    )

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        limit: int,
        timeout: float,
        refused: Callable[[int], None],
    ) -> None:
        self._scope, self._receive, self._send = scope, receive, send
        self._limit, self._timeout, self._refused = limit, timeout, refused
        self._deadline = asyncio.get_running_loop().time() + timeout
        self._size = -1  # -1: the body has not been asked for yet
        self._done = self._answered = self._started = False

    async def receive(self) -> Message:
        """The next body chunk, refused (413/408) as soon as the body is too large or too slow."""
        if self._done:
            return await self._receive()
        if self._size < 0:
            self._size = 0
            if self._declared() > self._limit:
                await self._refuse(413, f"body larger than {self._limit} bytes")
        try:
            async with asyncio.timeout_at(self._deadline):
                message = await self._receive()
        except TimeoutError:
            await self._refuse(
                408, f"request body not received within {self._timeout:g} s (server.body_timeout_seconds)"
            )
        if message["type"] == "http.disconnect":
            raise RequestAborted("the client disconnected before sending its whole body")
        self._size += len(message.get("body", b""))
        if self._size > self._limit:
            await self._refuse(413, f"body larger than {self._limit} bytes")
        self._done = not message.get("more_body", False)
        return message

    async def send(self, message: Message) -> None:
        """Passes the endpoint's response on, with nosniff added; dropped once the guard has answered."""
        if self._answered:
            return
        if message["type"] == "http.response.start":
            self._started = True
            headers = list(message.get("headers", ()))
            if not any(name.lower() == NOSNIFF[0] for name, _ in headers):
                headers.append(NOSNIFF)
            message = {**message, "headers": headers}
        await self._send(message)

    def _declared(self) -> int:
        for name, value in self._scope["headers"]:
            if name == b"content-length":
                return int(value) if value.isdigit() else 0
        return 0

    async def _refuse(self, status: int, reason: str) -> NoReturn:
        """Answers `status` and closes the connection (the rest of the body is never read), then aborts."""
        if not self._started:
            self._answered = True
            self._refused(status)
            body = json.dumps({"error": f"{reason}; nothing was accepted"}).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                NOSNIFF,
            ]
            await self._send({"type": "http.response.start", "status": status, "headers": headers})
            await self._send({"type": "http.response.body", "body": body})
        raise RequestAborted(reason)
