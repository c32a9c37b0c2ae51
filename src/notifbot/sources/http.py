"""`POST /hooks/events` as a lean ASGI endpoint: auth, content type, bounded body, parse, commit, 202.

The hottest path in the bot, so it speaks ASGI directly instead of going through Starlette's routing and
middleware stack; everything else (health, metrics, Slack) is a Starlette app (see web.py).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Sequence

from notifbot.asgi import (
    BodyTooLarge,
    ClientGone,
    Receive,
    Scope,
    Send,
    error_body,
    is_json,
    read_limited,
    respond,
)
from notifbot.errors import InputError
from notifbot.metrics import Metrics
from notifbot.net import is_loopback
from notifbot.pipeline import Pipeline
from notifbot.sources.events import parse_body
from notifbot.store.events import Accepted

log = logging.getLogger("notifbot.web")


_FORWARDING = frozenset({b"forwarded", b"x-forwarded-for", b"x-real-ip"})


def _headers(scope: Scope) -> tuple[str, str | None, str | None, bool]:
    """Content type, declared length, presented token and whether a proxy forwarded the request, in one pass
    over the raw header list."""
    content_type, length, bearer, header_token, forwarded = "", None, None, None, False
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value.decode("latin-1")
        elif name == b"content-length":
            length = value.decode("latin-1")
        elif name == b"authorization":
            auth = value.decode("latin-1")
            if auth[:7].lower() == "bearer ":
                bearer = auth[7:].strip()
        elif name == b"x-notifbot-token":
            header_token = value.decode("latin-1")
        elif name in _FORWARDING:
            forwarded = True
    return content_type, length, bearer if bearer is not None else header_token, forwarded


def accepted_body(results: Sequence[Accepted]) -> bytes:
    """`{"accepted": [{"id", "duplicate"}]}`, written by hand: this is the hot path of every ingest endpoint."""
    accepted = ",".join(
        f'{{"id":{json.dumps(r.key)},"duplicate":{"true" if r.duplicate else "false"}}}' for r in results
    )
    return f'{{"accepted":[{accepted}]}}'.encode()


def _unauthorised_hint(token_set: bool, forwarded: bool) -> str:
    """What a refused sender should do."""
    if token_set:
        return "send the token as `Authorization: Bearer <token>` or `X-Notifbot-Token`"
    if forwarded:
        return (
            "no NOTIFBOT_WEBHOOK_TOKEN is set, so only loopback clients are accepted, never a request a proxy "
            "forwarded (Forwarded / X-Forwarded-For / X-Real-IP): set NOTIFBOT_WEBHOOK_TOKEN on the bot and "
            "its senders"
        )
    return "no NOTIFBOT_WEBHOOK_TOKEN is set, so only loopback clients are accepted"


class IngestEndpoint:
    """The ASGI callable behind `POST /hooks/events`."""

    def __init__(self, pipeline: Pipeline, metrics: Metrics, token: str | None, max_body_bytes: int) -> None:
        self._pipeline = pipeline
        self._rejected = metrics.rejected
        self._token = token.encode() if token else None
        self._max = max_body_bytes

    def _authorised(self, scope: Scope, given: str | None, forwarded: bool) -> bool:
        """The token when one is set; without one, a loopback peer that is not a proxy relaying someone else."""
        if self._token is None:
            client = scope.get("client")
            return not forwarded and is_loopback(client[0] if client else None)
        return given is not None and hmac.compare_digest(given.encode(), self._token)

    async def _refuse(
        self, send: Send, status: int, message: str, details: list[dict[str, str]] | None = None
    ) -> None:
        self._rejected.labels(str(status)).inc()
        await respond(send, status, error_body(message, details))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await respond(send, 405, error_body("use POST"), [(b"allow", b"POST")])
            return
        content_type, length, given, forwarded = _headers(scope)
        if not self._authorised(scope, given, forwarded):
            hint = _unauthorised_hint(self._token is not None, forwarded)
            await self._refuse(send, 401, f"unauthorised: {hint}")
            return
        if not is_json(content_type):
            await self._refuse(send, 415, "send the event as JSON with `Content-Type: application/json`")
            return
        try:
            body = await read_limited(receive, self._max, length)
        except BodyTooLarge:
            await self._refuse(send, 413, f"body larger than server.max_body_bytes ({self._max} bytes)")
            return
        except ClientGone:
            return
        try:
            notifications = parse_body(body)
        except InputError as exc:
            await self._refuse(send, 400, str(exc), [d.as_dict() for d in exc.details])
            return
        try:
            results = await self._pipeline.accept(notifications)
        except InputError as exc:  # this request's own data failed at commit; others committed without it
            await self._refuse(send, 400, str(exc), [d.as_dict() for d in exc.details])
            return
        except Exception:
            log.exception("could not store events")
            await self._refuse(send, 503, "could not store the events; nothing was accepted, retry later")
            return
        await respond(send, 202, accepted_body(results))
