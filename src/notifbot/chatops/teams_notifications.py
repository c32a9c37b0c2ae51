"""POST /teams/notifications: Graph's validation handshake and change notifications, answered in milliseconds.

A notification is only queued (one SQLite commit) when its `clientState` matches the secret of its subscription;
reading the message and answering it happens later, in the inbox worker, so Graph always gets its 202 in time.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from notifbot.sources.storable import has_surrogate

log = logging.getLogger("notifbot.teams")

MAX_TOKEN = 1_024
MAX_RESOURCE = 500
NOSNIFF = {
    "X-Content-Type-Options": "nosniff"
}  # the echo is attacker-chosen text: never let it be sniffed as HTML
Verdict = Literal["malformed", "unauthenticated", "ignored"]


class NotificationEndpoint:
    """The HTTP side of Teams commands; `client_state(sub_id)` gives the expected secret, `enqueue` commits."""

    def __init__(
        self,
        client_state: Callable[[str], str | None],
        enqueue: Callable[[list[tuple[str, str]]], Awaitable[int]],
        refresh: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._client_state = client_state
        self._enqueue = enqueue
        self._refresh = refresh  # reloads the known subscriptions: another replica may have just created one

    def _unknown(self, item: Any) -> bool:
        """True when the item names a subscription this replica does not know (yet)."""
        sub = item.get("subscriptionId") if isinstance(item, dict) else None
        return isinstance(sub, str) and self._client_state(sub) is None

    def _check(self, item: Any) -> tuple[str, str] | Verdict:
        """(resource, subscription id) to queue, or why not."""
        if not isinstance(item, dict):
            return "malformed"
        sub, state, resource = item.get("subscriptionId"), item.get("clientState"), item.get("resource")
        if not (isinstance(sub, str) and isinstance(state, str) and isinstance(resource, str)):
            return "malformed"
        expected = self._client_state(sub)
        given = state.encode("utf-8", "surrogatepass")  # a lone surrogate simply does not match
        if expected is None or not hmac.compare_digest(given, expected.encode()):
            return "unauthenticated"
        if len(resource) > MAX_RESOURCE or has_surrogate(resource):
            return "malformed"
        if item.get("changeType") != "created":
            return "ignored"
        return resource, sub

    async def __call__(self, request: Request) -> Response:
        token = request.query_params.get("validationToken")
        if token is not None:  # Graph checks the endpoint before creating a subscription: echo within 10 s
            if len(token) > MAX_TOKEN:
                return PlainTextResponse("validationToken too long", status_code=400, headers=NOSNIFF)
            return PlainTextResponse(token, status_code=200, headers=NOSNIFF)
        body = await request.body()  # bounded while it is read by the ASGI layer (web.py)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return JSONResponse({"error": "expected a JSON change notification"}, status_code=400)
        items = data.get("value") if isinstance(data, dict) else None
        if not isinstance(items, list):
            return JSONResponse({"error": 'expected {"value": [...]}'}, status_code=400)
        if self._refresh is not None and any(self._unknown(item) for item in items):
            await self._refresh()
        checked = [self._check(item) for item in items]
        valid = [c for c in checked if isinstance(c, tuple)]
        if valid:
            try:
                await self._enqueue(valid)
            except Exception:
                log.exception("could not queue teams notifications")
                return JSONResponse(
                    {"error": "could not store the notification; retry later"}, status_code=503
                )
        elif "unauthenticated" in checked:
            log.warning(
                "teams notification rejected: unknown subscription or wrong clientState",
                extra={"items": len(items)},
            )
            return JSONResponse({"error": "unknown subscription or wrong clientState"}, status_code=401)
        elif "malformed" in checked:
            return JSONResponse(
                {
                    "error": "malformed change notification: expected subscriptionId, clientState and resource "
                    f"as strings (resource up to {MAX_RESOURCE} characters)"
                },
                status_code=400,
            )
        return Response(status_code=202)
