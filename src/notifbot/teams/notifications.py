"""POST /teams/notifications: Graph's validation handshake and change notifications, answered in milliseconds.

A notification is only queued (one SQLite commit) when its `clientState` matches the secret of its subscription;
reading the message and answering it happens later, in the inbox worker, so Graph always gets its 202 in time.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

log = logging.getLogger("notifbot.teams")

MAX_BODY = 1_048_576
MAX_TOKEN = 1_024


class NotificationEndpoint:
    """The HTTP side of Teams commands; `client_state(sub_id)` gives the expected secret, `enqueue` commits."""

    def __init__(
        self,
        client_state: Callable[[str], str | None],
        enqueue: Callable[[list[tuple[str, str]]], Awaitable[int]],
    ) -> None:
        self._client_state = client_state
        self._enqueue = enqueue

    def _valid(self, item: Any) -> tuple[str, str] | None:
        if not isinstance(item, dict):
            return None
        sub, state, resource = item.get("subscriptionId"), item.get("clientState"), item.get("resource")
        if not (isinstance(sub, str) and isinstance(state, str) and isinstance(resource, str)):
            return None
        expected = self._client_state(sub)
        if expected is None or not hmac.compare_digest(state.encode(), expected.encode()):
            return None
        if item.get("changeType") != "created" or len(resource) > 500:
            return None
        return resource, sub

    async def __call__(self, request: Request) -> Response:
        token = request.query_params.get("validationToken")
        if token is not None:  # Graph checks the endpoint before creating a subscription: echo within 10 s
            if len(token) > MAX_TOKEN:
                return PlainTextResponse("validationToken too long", status_code=400)
            return PlainTextResponse(token, status_code=200)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            return JSONResponse({"error": "body too large"}, status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "body too large"}, status_code=413)
        try:
            data = json.loads(body)
        except ValueError:
            return JSONResponse({"error": "expected a JSON change notification"}, status_code=400)
        items = data.get("value") if isinstance(data, dict) else None
        if not isinstance(items, list):
            return JSONResponse({"error": 'expected {"value": [...]}'}, status_code=400)
        valid = [v for v in map(self._valid, items) if v is not None]
        if items and not valid:
            log.warning(
                "teams notification rejected: unknown subscription or wrong clientState",
                extra={"items": len(items)},
            )
            return JSONResponse({"error": "unknown subscription or wrong clientState"}, status_code=401)
        if valid:
            await self._enqueue(valid)
        return Response(status_code=202)
