"""`GET, POST /hooks/adobe-io`: challenge, validation URL, signatures, recipient check, commit, then 200.

Lean raw ASGI like `sources/http.py`: Adobe gives a delivery 10 s (connect included) and retries 429/5xx, so every
answer here is quick, a key-server outage answers 503 (retried) and a forged request 401 (not retried).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from notifbot.asgi import BodyTooLarge, ClientGone, Receive, Scope, Send, error_body, read_limited, respond
from notifbot.errors import InputError, SignatureError, UpstreamError
from notifbot.metrics import Metrics
from notifbot.model import Notification
from notifbot.sources.adobe_io.mapping import Envelope, is_validation, to_notification, unwrap
from notifbot.sources.adobe_io.signature import KeyCache, verify_delivery
from notifbot.sources.adobe_io.throttle import LogThrottle, loggable
from notifbot.sources.http import accepted_body
from notifbot.sources.storable import lenient_json
from notifbot.store.events import Accepted

log = logging.getLogger("notifbot.adobe_io")

ADOBE_MAX_BATCH_BYTES = 2 * 1024 * 1024 + 64 * 1024  # Adobe: batches up to 2 MB
MAX_EVENTS = 1_000
MAX_CHALLENGE = 1_000
CONFIRM_PREFIX = "https://csm.adobe.io/"
MAX_CONFIRMING = 2  # validation URLs being opened at once (anyone can post one)
MAX_LOGGED_URL = 300
_WANTED = {
    b"content-length",
    b"accept",
    b"x-adobe-event-id",
    b"x-adobe-digital-signature-1",
    b"x-adobe-digital-signature-2",
    b"x-adobe-public-key1-path",
    b"x-adobe-public-key2-path",
    b"x-adobe-retry-count",
}

Accept = Callable[[Sequence[Notification]], Awaitable[list[Accepted]]]
Confirm = Callable[[str], Coroutine[Any, Any, None]]


def _headers(scope: Scope) -> dict[str, str]:
    return {n.decode(): v.decode("latin-1") for n, v in scope["headers"] if n in _WANTED}


class AdobeIOEndpoint:
    """The ASGI callable behind `/hooks/adobe-io` (404 until an Adobe client id is configured)."""

    def __init__(
        self,
        accept: Accept,
        metrics: Metrics,
        *,
        client_id: str | None,
        keys: KeyCache | None,
        max_body_bytes: int = ADOBE_MAX_BATCH_BYTES,
        confirm: Confirm | None = None,
    ) -> None:
        self._accept = accept
        self._rejected = metrics.rejected
        self._client_id = client_id
        self._keys = keys  # None: signatures are not checked (adobe_io.verify_signatures: false)
        self._max = max(max_body_bytes, ADOBE_MAX_BATCH_BYTES)
        self._confirm = confirm
        self._tasks: set[asyncio.Task[None]] = set()
        self._validations = LogThrottle(log)
        self._refusals = LogThrottle(log)
        self._deferrals = LogThrottle(log)

    async def _refuse(self, send: Send, status: int, message: str) -> None:
        self._rejected.labels(str(status)).inc()
        await respond(send, status, error_body(message))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._client_id is None:
            await respond(
                send,
                404,
                error_body("Adobe I/O Events is not configured: set ADOBE_CLIENT_ID (or adobe_io.client_id)"),
            )
            return
        if scope["method"] == "GET":
            await self._challenge(scope, send)
            return
        if scope["method"] != "POST":
            await respond(send, 405, error_body("use GET (challenge) or POST"), [(b"allow", b"GET, POST")])
            return
        headers = _headers(scope)
        try:
            body = await read_limited(receive, self._max, headers.get("content-length"))
        except BodyTooLarge:
            await self._refuse(send, 413, f"body larger than {self._max} bytes")
            return
        except ClientGone:
            return
        await self._post(body, headers, send)

    async def _challenge(self, scope: Scope, send: Send) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        values = query.get("challenge")
        if not values or not values[0] or len(values[0]) > MAX_CHALLENGE:
            await respond(
                send, 400, error_body("expected ?challenge=<value> (Adobe I/O Events verification)")
            )
            return
        challenge = values[0]
        accept = dict(h for h in scope["headers"] if h[0] == b"accept").get(b"accept", b"").decode("latin-1")
        log.info("adobe i/o challenge answered")
        if "application/json" in accept:
            await respond(send, 200, json.dumps({"challenge": challenge}).encode())
            return
        body = challenge.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-content-type-options", b"nosniff"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _post(self, body: bytes, headers: dict[str, str], send: Send) -> None:
        try:  # lenient: a lone surrogate escape in one event must not lose the batch (it becomes U+FFFD)
            data: Any = lenient_json(body, text_limit=self._max)
        except ValueError as exc:
            await self._refuse(send, 400, f"body is not valid JSON: {exc}")
            return
        if is_validation(data):
            await self._validation(str(data["validationUrl"]), send)
            return
        if self._keys is not None:
            try:
                await verify_delivery(body, headers, self._keys)
            except SignatureError as exc:
                self._refusals.log(logging.WARNING, "adobe i/o delivery refused: %s", exc)
                await self._refuse(send, 401, f"unauthorised: {exc}")
                return
            except UpstreamError as exc:
                self._deferrals.log(logging.ERROR, "adobe i/o delivery deferred (Adobe retries it): %s", exc)
                await self._refuse(send, 503, f"{exc}; retry later")
                return
        items = data if isinstance(data, list) else [data]
        if not items or len(items) > MAX_EVENTS or not all(isinstance(i, dict) for i in items):
            await self._refuse(
                send, 400, f"expected an event object or an array of 1 to {MAX_EVENTS} of them"
            )
            return
        single_id = headers.get("x-adobe-event-id") if len(items) == 1 else None
        envelopes = [unwrap(item, single_id) for item in items]
        stranger = next((e for e in envelopes if e.recipient != self._client_id), None)
        if stranger is not None:
            await self._wrong_recipient(stranger, send)
            return
        await self._store(envelopes, send)

    async def _wrong_recipient(self, envelope: Envelope, send: Send) -> None:
        log.error(
            "adobe i/o delivery refused: event %s is addressed to client id %r, not this bot's; "
            "check adobe_io.client_id / ADOBE_CLIENT_ID",
            envelope.event_id,
            envelope.recipient,
        )
        await self._refuse(
            send, 401, "unauthorised: an event's recipient client id is not this bot's client id"
        )

    async def _store(self, envelopes: list[Envelope], send: Send) -> None:
        now = datetime.now(UTC)
        notifications = [to_notification(e, now=now) for e in envelopes]
        try:
            results = await self._accept(notifications)
        except InputError as exc:
            # not expected (the mapping keeps anything as `other`); a retry would fail the same way
            log.error("adobe i/o events could not be stored as delivered: %s", exc)
            await self._refuse(send, 400, f"{exc}: {[d.as_dict() for d in exc.details]}")
            return
        except Exception:
            log.exception("could not store adobe i/o events")
            await self._refuse(send, 503, "could not store the events; nothing was accepted, retry later")
            return
        await respond(send, 200, accepted_body(results))

    async def _validation(self, url: str, send: Send) -> None:
        # Unauthenticated: anyone can post one, so the line is rate-limited and the URL shortened and escaped.
        confirm = (
            self._confirm is not None and url.startswith(CONFIRM_PREFIX) and len(self._tasks) < MAX_CONFIRMING
        )
        self._validations.log(
            logging.WARNING,
            "adobe i/o webhook validation requested: open this URL within 5 minutes to confirm the registration"
            + (" (confirming it automatically)" if confirm else ""),
            extra={"validation_url": loggable(url, MAX_LOGGED_URL)},
        )
        if confirm and self._confirm is not None:
            task = asyncio.create_task(self._confirm(url))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        await respond(send, 200, b'{"validation":"received"}')
