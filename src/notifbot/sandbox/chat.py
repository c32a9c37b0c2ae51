"""The sandbox's chat state as values: channels, messages (edited in place, threads, ephemeral answers) and a feed.

One event loop owns a Chat (the sandbox's): every change is applied and published synchronously, so no lock is
needed and subscribers see changes in the order they happened.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import OrderedDict, deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from notifbot.errors import NotifbotError

BOT_USER = "U0SANDBOXBOT"
HISTORY = (
    300  # top-level messages kept per channel and source (the page's Slack and Teams lists keep as many)
)
RING = 1_000  # changes kept for a reconnecting subscriber (Last-Event-ID)
QUEUE = 1_000  # changes a slow subscriber may fall behind before it gets a reset
NOTICES = 50  # notices kept for a freshly loaded page

Source = Literal["slack", "teams"]
ChangeKind = Literal["upsert", "ephemeral", "notice", "reset"]


class ChatError(NotifbotError):
    """A chat operation names something the chat does not hold; `code` is Slack's error code for it."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


@dataclass(frozen=True)
class Message:
    """One message as the channel shows it now: Slack text/blocks or a Teams card, `edits` counts chat.updates."""

    channel: str
    ts: str
    text: str
    blocks: list[Any] | None = None
    metadata: dict[str, Any] | None = None
    user: str = BOT_USER
    thread_ts: str | None = None
    source: Source = "slack"
    card: dict[str, Any] | None = None
    edits: int = 0
    posted: float = 0.0


@dataclass(frozen=True)
class Ephemeral:
    """An answer only `user` sees (a slash command's reply, a denied button), under the message it answers."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[Any] | None = None
    reply_to: str | None = None


@dataclass(frozen=True)
class Notice:
    """Something the page shows in red next to a channel (a post Slack refused, a timed-out interaction)."""

    channel: str
    text: str


@dataclass(frozen=True)
class Change:
    """One entry of the feed; `seq` increases by one per change (the SSE `id`)."""

    seq: int
    kind: ChangeKind
    item: Message | Ephemeral | Notice | None


@dataclass
class Channel:
    """One channel's messages, oldest first; only the last `limit` top-level messages of each source (Slack,
    Teams; with their threads) stay, as the page keeps each list."""

    name: str
    limit: int = HISTORY
    _messages: OrderedDict[str, Message] = field(default_factory=OrderedDict)
    _top: dict[Source, deque[str]] = field(default_factory=lambda: {"slack": deque(), "teams": deque()})
    _replies: dict[str, list[str]] = field(default_factory=dict)
    ephemerals: deque[Ephemeral] = field(default_factory=lambda: deque(maxlen=HISTORY))

    def add(self, message: Message) -> None:
        """Appends `message`; drops the oldest top-level message and its thread past the limit."""
        self._messages[message.ts] = message
        if message.thread_ts is not None:
            self._replies.setdefault(message.thread_ts, []).append(message.ts)
            return
        top = self._top[message.source]
        top.append(message.ts)
        while len(top) > self.limit:
            old = top.popleft()
            self._messages.pop(old, None)
            for reply in self._replies.pop(old, []):
                self._messages.pop(reply, None)

    def put(self, message: Message) -> None:
        """Replaces a held message in place (same ts, same position)."""
        self._messages[message.ts] = message

    def get(self, ts: str) -> Message | None:
        return self._messages.get(ts)

    def top_level(self) -> list[Message]:
        """The channel as people see it: thread replies left out, oldest first."""
        merged = heapq.merge(*self._top.values(), key=Decimal)  # each source's ts already increase
        return [self._messages[ts] for ts in merged]

    def thread(self, ts: str) -> list[Message]:
        """The replies in the thread of message `ts`, oldest first."""
        return [self._messages[r] for r in self._replies.get(ts, [])]


class Subscription:
    """One subscriber's bounded queue of changes; overflow empties it and leaves a single reset."""

    def __init__(self, size: int) -> None:
        self._queue: asyncio.Queue[Change] = asyncio.Queue(maxsize=size)

    def offer(self, change: Change) -> None:
        try:
            self._queue.put_nowait(change)
        except asyncio.QueueFull:
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(Change(change.seq, "reset", None))

    async def next_batch(self) -> list[Change]:
        """Waits for a change, then returns it with every other one already queued (one write per batch)."""
        batch = [await self._queue.get()]
        while not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch


class Chat:
    """Every channel of the sandbox, the feed of changes and its subscribers."""

    def __init__(self, history: int = HISTORY, ring: int = RING, queue: int = QUEUE) -> None:
        self.history = history
        self.queue_size = queue
        self._channels: dict[str, Channel] = {}
        self._ring: deque[Change] = deque(maxlen=ring)
        self._seq = 0
        self._last_ts_us = 0
        self._notices: deque[Notice] = deque(maxlen=NOTICES)
        self._subscribers: set[Subscription] = set()

    # -- reading ---------------------------------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """The seq of the latest change (0 before any)."""
        return self._seq

    def channels(self) -> list[str]:
        """Channel names in the order they first got a message."""
        return list(self._channels)

    def channel(self, name: str) -> Channel | None:
        return self._channels.get(name)

    def messages(self, channel: str) -> list[Message]:
        """The top-level messages of `channel`, oldest first (empty for an unknown channel)."""
        held = self._channels.get(channel)
        return held.top_level() if held else []

    def thread(self, channel: str, ts: str) -> list[Message]:
        held = self._channels.get(channel)
        return held.thread(ts) if held else []

    def find(self, channel: str, ts: str) -> Message | None:
        held = self._channels.get(channel)
        return held.get(ts) if held else None

    def ephemerals(self, channel: str, user: str | None = None) -> list[Ephemeral]:
        """The ephemeral answers in `channel` (only `user`'s when given), oldest first."""
        held = self._channels.get(channel)
        return [e for e in (held.ephemerals if held else ()) if user in (None, e.user)]

    def notices(self, channel: str | None = None) -> list[Notice]:
        """The latest notices (only `channel`'s when given), oldest first."""
        return [n for n in self._notices if channel in (None, n.channel)]

    def since(self, seq: int) -> list[Change] | None:
        """The changes after `seq`, or None when some of them have left the ring (the reader must reload)."""
        if seq >= self._seq:
            return []
        if not self._ring or self._ring[0].seq > seq + 1:
            return None
        return [c for c in self._ring if c.seq > seq]

    # -- changing --------------------------------------------------------------------------------------------

    def post(
        self,
        channel: str,
        text: str,
        blocks: list[Any] | None = None,
        *,
        metadata: dict[str, Any] | None = None,
        user: str = BOT_USER,
        thread_ts: str | None = None,
    ) -> Message:
        """A new Slack message (a thread reply with `thread_ts`); ChatError("thread_not_found") for a bad parent."""
        held = self._channel(channel)
        if thread_ts is not None:
            parent = held.get(thread_ts)
            if parent is None or parent.thread_ts is not None:
                raise ChatError("thread_not_found")
        message = Message(
            channel, self.next_ts(), text, blocks, metadata, user, thread_ts, posted=time.time()
        )
        held.add(message)
        self._publish("upsert", message)
        return message

    def card(self, channel: str, card: dict[str, Any], text: str = "") -> Message:
        """A new Teams message: an Adaptive Card posted by a workflow."""
        message = Message(channel, self.next_ts(), text, source="teams", card=card, posted=time.time())
        self._channel(channel).add(message)
        self._publish("upsert", message)
        return message

    def update(
        self, channel: str, ts: str, text: str | None, blocks: list[Any] | None, *, keep_blocks: bool = False
    ) -> Message:
        """Edits message `ts` in place (`keep_blocks`: blocks not sent, so unchanged); ChatError if unknown."""
        held = self._channels.get(channel)
        old = held.get(ts) if held else None
        if held is None or old is None:
            raise ChatError("message_not_found")
        new = replace(
            old,
            text=old.text if text is None else text,
            blocks=old.blocks if keep_blocks else blocks,
            edits=old.edits + 1,
        )
        held.put(new)
        self._publish("upsert", new)
        return new

    def ephemeral(
        self,
        channel: str,
        user: str,
        text: str,
        blocks: list[Any] | None = None,
        *,
        reply_to: str | None = None,
    ) -> Ephemeral:
        """An answer only `user` sees in `channel`."""
        answer = Ephemeral(channel, user, self.next_ts(), text, blocks, reply_to)
        self._channel(channel).ephemerals.append(answer)
        self._publish("ephemeral", answer)
        return answer

    def notice(self, channel: str, text: str) -> Notice:
        """A red notice for the page (not a message: Slack would not have shown anything)."""
        notice = Notice(channel, text)
        self._notices.append(notice)
        self._publish("notice", notice)
        return notice

    def next_ts(self) -> str:
        """A unique, increasing Slack ts (`seconds.micros`)."""
        self._last_ts_us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    # -- the feed --------------------------------------------------------------------------------------------

    async def subscribe(self, after: int | None = None) -> AsyncGenerator[list[Change], None]:
        """Batches of changes as they happen; first those after `after` (or a reset when they are gone)."""
        sub = Subscription(self.queue_size)
        self._subscribers.add(sub)
        try:
            if after is not None:
                missed = self.since(after)
                if missed is None:
                    yield [Change(self._seq, "reset", None)]
                elif missed:
                    yield missed
            while True:
                yield await sub.next_batch()
        finally:
            self._subscribers.discard(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def _channel(self, name: str) -> Channel:
        held = self._channels.get(name)
        if held is None:
            held = self._channels[name] = Channel(name, self.history)
        return held

    def _publish(self, kind: ChangeKind, item: Message | Ephemeral | Notice) -> None:
        self._seq += 1
        change = Change(self._seq, kind, item)
        self._ring.append(change)
        for sub in list(self._subscribers):
            sub.offer(change)
