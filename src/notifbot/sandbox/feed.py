"""`GET /events`: the chat's changes as Server-Sent Events, each rendered once and shared by every client.

An event is `id: <epoch>-<seq>`, `event: upsert|ephemeral|notice|reset` and one `data:` line of JSON carrying the
fragment's HTML. A reconnecting client's `Last-Event-ID` is replayed from the chat's ring of changes; an id from
another run of the sandbox, or one the ring no longer holds, gets `reset` (the page reloads its snapshot). A slow
client's queue overflowing gets `reset` too, instead of holding the chat back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from markupsafe import Markup

from notifbot.render.html import el
from notifbot.sandbox.chat import RING, Change, Chat, Ephemeral, Message, Notice
from notifbot.sandbox.views import Views

KEEPALIVE = 15.0  # seconds between comment lines on a quiet stream (proxies, dead connections)
RETRY_MS = 2_000  # how soon EventSource reconnects
CACHE = 2 * RING  # rendered events kept (a replay reaches back RING changes)


def notice_html(notice: Notice) -> Markup:
    """A notice as the page shows it."""
    return el("p", {"class": ("sb-notice",)}, notice.text)


class Feed:
    """The SSE stream over one chat; `epoch` tells this run's event ids from a previous run's."""

    def __init__(self, chat: Chat, views: Views, keepalive: float = KEEPALIVE) -> None:
        self.chat = chat
        self.views = views
        self.keepalive = keepalive
        self.epoch = secrets.token_hex(4)
        self._events: OrderedDict[int, str] = OrderedDict()

    def event_id(self, seq: int) -> str:
        return f"{self.epoch}-{seq}"

    def after(self, last_event_id: str | None) -> int | None:
        """The seq a client has seen, from its Last-Event-ID (or `?after=`); None when it must start over."""
        if not last_event_id:
            return None
        epoch, _, seq = last_event_id.strip().partition("-")
        if epoch != self.epoch or not seq.isdigit() or int(seq) > self.chat.seq:
            return None
        return int(seq)

    def data(self, change: Change) -> dict[str, Any]:
        """The JSON of one change: where it goes and its HTML."""
        item = change.item
        if isinstance(item, Message):
            return {
                "channel": item.channel,
                "ts": item.ts,
                "thread_ts": item.thread_ts,
                "source": item.source,
                "edits": item.edits,
                "html": str(self.views.message(item)),
            }
        if isinstance(item, Ephemeral):
            html = str(self.views.ephemeral(item))
            return {"channel": item.channel, "ts": item.ts, "user": item.user, "html": html}
        if isinstance(item, Notice):
            return {"channel": item.channel, "text": item.text, "html": str(notice_html(item))}
        return {}

    def event(self, change: Change) -> str:
        """The text of one event, rendered the first time any client needs it."""
        if change.kind == "reset":  # a reset is per client and carries nothing
            return f"id: {self.event_id(change.seq)}\nevent: reset\ndata: {{}}\n\n"
        text = self._events.get(change.seq)
        if text is None:
            data = json.dumps(self.data(change), separators=(",", ":"), ensure_ascii=False)
            text = f"id: {self.event_id(change.seq)}\nevent: {change.kind}\ndata: {data}\n\n"
            self._events[change.seq] = text
            if len(self._events) > CACHE:
                self._events.popitem(last=False)
        return text

    async def stream(self, last_event_id: str | None) -> AsyncIterator[str]:
        """The event stream of one client: a replay or a reset first, then each batch of changes as one write."""
        after = self.after(last_event_id)
        changes = self.chat.subscribe(after)
        pending: asyncio.Future[list[Change]] | None = None
        try:
            yield f"retry: {RETRY_MS}\n\n"
            if after is None and last_event_id:
                yield self.event(Change(self.chat.seq, "reset", None))
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(anext(changes))
                done, _ = await asyncio.wait({pending}, timeout=self.keepalive)
                if not done:
                    yield ": keep-alive\n\n"
                    continue
                batch, pending = pending.result(), None
                yield "".join(self.event(c) for c in batch)
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await pending
            await changes.aclose()
