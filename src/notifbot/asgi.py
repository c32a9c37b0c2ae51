"""The ASGI vocabulary every lean endpoint shares: the message types, a bounded body read and a JSON reply."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyTooLarge(Exception):
    """The request body passed the configured limit while it was being read."""


class ClientGone(Exception):
    """The client disconnected before sending its whole body."""


def is_json(content_type: str) -> bool:
    """`application/json` or any `application/*+json`, parameters ignored."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def read_limited(receive: Receive, limit: int, declared: str | None) -> bytes:
    """The body, refused as soon as it passes `limit` bytes (never buffers more than limit + one chunk)."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def respond(
    send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Sends a complete JSON response."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})


def error_body(message: str, details: list[dict[str, str]] | None = None) -> bytes:
    """The error shape of every endpoint (docs/reference.md §HTTP endpoints)."""
    payload: dict[str, Any] = {"error": message}
    if details is not None:
        payload["details"] = details
    return json.dumps(payload).encode()
