"""Incoming webhooks for the fake Slack: POST JSON to /services/T…/B…/SECRET, answered "ok" or a plain-text error."""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from tests.fakes.slack_wire import TEAM, Message

MAX_ATTACHMENTS = 100


def _answer(body: str, status: int = 200, **headers: str) -> Response:
    # Slack answers webhooks in plain text with an HTML content type: "ok", or the error code and a 4xx status.
    return PlainTextResponse(body, status_code=status, headers=headers, media_type="text/html")


class IncomingWebhookFake:
    """The incoming-webhook half of FakeSlack (which owns the lock, the messages and the per-channel pacing)."""

    _lock: threading.Condition
    _messages: list[Message]
    _posted: list[Message]
    _calls: list[tuple[str, str | None]]
    _last_post: dict[str, float]
    _count_429: int
    _webhooks: dict[str, str]
    min_interval: float
    archived_channels: set[str]
    host: str
    port: int
    _next_ts: Callable[[], str]

    def _too_soon(self, channel: str, now: float) -> int | None:
        """Seconds to wait (counted as a 429) when `channel` had a post less than `min_interval` ago, else None."""
        with self._lock:
            last = self._last_post.get(channel)
            if last is None or now - last >= self.min_interval:
                return None
            self._count_429 += 1
            return max(1, math.ceil(self.min_interval - (now - last)))

    def incoming_webhook(self, channel: str) -> str:
        """A new webhook URL that posts into `channel` (as installing an app with `incoming-webhook` gives)."""
        path = f"{TEAM['team_id']}/B{secrets.token_hex(5).upper()}/{secrets.token_urlsafe(18)}"
        with self._lock:
            self._webhooks[path] = channel
        return f"http://{self.host}:{self.port}/services/{path}"

    async def _webhook(self, request: Request) -> Response:
        p = request.path_params
        path = f"{p['team']}/{p['bot']}/{p['secret']}"
        with self._lock:
            channel = self._webhooks.get(path)
            self._calls.append(("incoming-webhook", channel))
        if channel is None:
            return _answer("no_service", 404)
        try:
            payload: Any = json.loads(await request.body())
        except ValueError:
            return _answer("invalid_payload", 400)
        if not isinstance(payload, dict):
            return _answer("invalid_payload", 400)
        now = time.monotonic()
        wait = self._too_soon(channel, now)
        if wait is not None:
            return _answer("rate_limited", 429, **{"Retry-After": str(wait)})
        if channel in self.archived_channels:
            return _answer("channel_is_archived", 410)
        text, blocks, attachments = payload.get("text"), payload.get("blocks"), payload.get("attachments")
        if isinstance(attachments, list) and len(attachments) > MAX_ATTACHMENTS:
            return _answer("too_many_attachments", 400)
        if not text and not blocks and not attachments:
            return _answer("no_text", 400)
        with self._lock:
            self._last_post[channel] = now
            message = Message(
                channel,
                self._next_ts(),
                str(text or ""),
                blocks if isinstance(blocks, list) else None,
                None,
                time.time(),
                attachments=attachments if isinstance(attachments, list) else None,
            )
            self._messages.append(message)
            self._posted.append(message)
            self._lock.notify_all()
        return _answer("ok")
