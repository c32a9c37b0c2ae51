"""The SSE feed: event format, replay after Last-Event-ID, resets, keep-alives, one rendering per change."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

from notifbot.sandbox.chat import Chat
from notifbot.sandbox.feed import Feed
from notifbot.sandbox.views import Views, templates

EVENT = re.compile(r"id: (\S+)\nevent: (\w+)\ndata: (.*)\n\n")


def _feed(chat: Chat, keepalive: float = 5.0) -> Feed:
    return Feed(chat, Views(templates()), keepalive=keepalive)


def _events(text: str) -> list[tuple[str, str, dict[str, object]]]:
    return [(i, kind, json.loads(data)) for i, kind, data in EVENT.findall(text)]


async def _next(stream: AsyncIterator[str]) -> str:
    return await asyncio.wait_for(anext(stream), timeout=2)


async def test_a_reconnect_replays_what_came_after_its_last_event_id() -> None:
    chat = Chat()
    feed = _feed(chat)
    first = chat.post("C1", "first")
    seen = feed.event_id(chat.seq)
    chat.post("C1", "second")
    chat.update("C1", first.ts, "first, edited", None)
    chat.ephemeral("C1", "U1", "only you")
    chat.notice("C1", "Slack refused a message")
    stream = feed.stream(seen)
    assert await _next(stream) == "retry: 2000\n\n"
    events = _events(await _next(stream))
    assert [kind for _, kind, _ in events] == ["upsert", "upsert", "ephemeral", "notice"]
    assert [i for i, _, _ in events] == [feed.event_id(n) for n in range(2, 6)]
    upsert = events[1][2]
    assert (upsert["ts"], upsert["edits"], upsert["source"]) == (first.ts, 1, "slack")
    assert str(upsert["html"]).startswith("<article") and "first, edited" in str(upsert["html"])
    assert events[2][2]["user"] == "U1" and events[3][2]["text"] == "Slack refused a message"
    chat.post("C1", "live")
    [(_, kind, data)] = _events(await _next(stream))
    assert kind == "upsert" and "live" in str(data["html"])
    await stream.aclose()
    assert chat.subscribers == 0


async def test_an_id_from_another_run_or_beyond_the_ring_gets_a_reset() -> None:
    chat = Chat(ring=3)
    feed = _feed(chat)
    for i in range(6):
        chat.post("C1", f"m{i}")
    for stale in ("otherrun-2", feed.event_id(1), feed.event_id(99), "garbage"):
        stream = feed.stream(stale)
        await _next(stream)
        assert [kind for _, kind, _ in _events(await _next(stream))] == ["reset"], stale
        await stream.aclose()
    assert feed.after(feed.event_id(4)) == 4


async def test_a_quiet_stream_sends_keep_alive_comments() -> None:
    feed = _feed(Chat(), keepalive=0.01)
    stream = feed.stream(None)
    assert await _next(stream) == "retry: 2000\n\n"
    assert await _next(stream) == ": keep-alive\n\n"
    await stream.aclose()


async def test_a_burst_is_one_write_and_each_change_is_rendered_once() -> None:
    chat = Chat()
    feed = _feed(chat)
    a, b = feed.stream(feed.event_id(0)), feed.stream(feed.event_id(0))
    await _next(a), await _next(b)
    for i in range(20):
        chat.post("C1", f"m{i}")
    first, second = await _next(a), await _next(b)
    assert first == second and len(_events(first)) == 20
    [change] = chat.since(19) or []
    assert feed.event(change) is feed.event(change)  # the same text object: rendered once, not per client
    await a.aclose(), await b.aclose()


async def test_a_client_that_falls_behind_gets_a_reset_instead_of_holding_the_chat() -> None:
    chat = Chat(queue=3)
    feed = _feed(chat)
    stream = feed.stream(None)
    await _next(stream)
    pending = asyncio.ensure_future(_next(stream))
    while not chat.subscribers:  # subscribed, waiting
        await asyncio.sleep(0)
    chat.post("C1", "first")
    assert [kind for _, kind, _ in _events(await pending)] == ["upsert"]
    for i in range(10):  # nobody reads meanwhile
        chat.post("C1", f"m{i}")
    assert [kind for _, kind, _ in _events(await _next(stream))] == ["reset"]
    await stream.aclose()
