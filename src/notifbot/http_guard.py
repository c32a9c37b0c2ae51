"""Bounds every HTTP request body at the top of the ASGI app, whatever the endpoint, while it is read.

Every endpoint below (the lean ingest endpoints, Starlette, Bolt) reads its body through `RequestGuard.receive`,
which counts bytes as they arrive and answers 413 the moment a body passes its limit, so nothing buffers more
than the limit plus one chunk, chunked or not. It then raises `RequestAborted` so the endpoint stops; whatever
the endpoint sends afterwards is dropped. (How long a body may take is bounded per connection, in
http_server.py.) Every response also gets `X-Content-Type-Options: nosniff`: nothing notifbot serves is meant to
be rendered as HTML.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import NoReturn

from notifbot.asgi import Message, Receive, Scope, Send
from notifbot.errors import NotifbotError

PLATFORM_MAX_BODY = 1_048_576  # Slack and Microsoft Graph send small bodies; 1 MiB is far above either
NOSNIFF = (b"x-content-type-options", b"nosniff")


class RequestAborted(NotifbotError):
    """The guard answered the request itself (413) or the client left mid-body: the endpoint must stop."""


class RequestGuard:
    """One request's `receive` and `send`, bounded; `refused(status)` counts the guard's own refusals."""

    __slots__ = ("_answered", "_done", "_limit", "_receive", "_refused", "_scope", "_send", "_size")

    def __init__(
        self, scope: Scope, receive: Receive, send: Send, *, limit: int, refused: Callable[[int], None]
    ) -> None:
        self._scope, self._receive, self._send = scope, receive, send
        self._limit, self._refused = limit, refused
        self._size = -1  # -1: the body has not been asked for yet
        self._done = self._answered = False

    async def receive(self) -> Message:
        """The next body chunk, refused with 413 as soon as the body (declared or counted) is too large."""
        if self._done:
            return await self._receive()
        if self._size < 0:
            self._size = 0
            if self._declared() > self._limit:
                await self._refuse()
        message = await self._receive()
        if message["type"] == "http.disconnect":
            raise RequestAborted("the client disconnected before sending its whole body")
        self._size += len(message.get("body", b""))
        if self._size > self._limit:
            await self._refuse()
        self._done = not message.get("more_body", False)
        return message

    async def send(self, message: Message) -> None:
        """Passes the endpoint's response on, with nosniff added; dropped once the guard has answered."""
        if self._answered:
            return
        if message["type"] == "http.response.start":
            headers = message.get("headers", ())
            if NOSNIFF not in headers:  # ASGI header names are lower-case
                message["headers"] = [*headers, NOSNIFF]
        await self._send(message)

    def _declared(self) -> int:
        for name, value in self._scope["headers"]:
            if name == b"content-length":
                return int(value) if value.isdigit() else 0
        return 0

    async def _refuse(self) -> NoReturn:
        """Answers 413 and closes the connection (the rest of the body is never read), then aborts."""
        self._answered = True
        self._refused(413)
        error = f"body larger than {self._limit} bytes; nothing was accepted"
        body = json.dumps({"error": error}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            NOSNIFF,
        ]
        await self._send({"type": "http.response.start", "status": 413, "headers": headers})
        await self._send({"type": "http.response.body", "body": body})
        raise RequestAborted(error)
