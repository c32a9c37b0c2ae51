"""The sandbox's chat state: bounded history, edits in place, threads, ephemeral answers and the change feed."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from notifbot.sandbox.chat import Chat, ChatError


def test_posts_get_unique_increasing_ts_and_keep_their_order() -> None:
    chat = Chat()
    posted = [chat.post("C1", f"m{i}") for i in range(50)]
    assert [Decimal(m.ts) for m in posted] == sorted({Decimal(m.ts) for m in posted})
    assert [m.text for m in chat.messages("C1")] == [f"m{i}" for i in range(50)]
    assert chat.channels() == ["C1"] and chat.messages("C2") == []


def test_history_keeps_the_last_messages_per_channel_with_their_threads() -> None:
    chat = Chat(history=3)
    first = chat.post("C1", "first")
    reply = chat.post("C1", "reply", thread_ts=first.ts)
    other = chat.post("C2", "other channel")
    for i in range(3):
        chat.post("C1", f"later {i}")
    assert [m.text for m in chat.messages("C1")] == ["later 0", "later 1", "later 2"]
    assert chat.find("C1", first.ts) is None and chat.find("C1", reply.ts) is None
    assert chat.thread("C1", first.ts) == []
    assert chat.messages("C2") == [other]


def test_history_keeps_as_many_slack_messages_and_teams_cards_each_as_the_page_lists() -> None:
    chat = Chat(history=2)
    slack = [chat.post("C1", f"slack {i}") for i in range(3)]
    cards = [chat.card("C1", {"type": "AdaptiveCard", "body": []}, f"card {i}") for i in range(3)]
    assert chat.messages("C1") == [*slack[1:], *cards[1:]]  # in ts order, the oldest of each gone
    newest = chat.post("C1", "slack 3")
    assert chat.messages("C1") == [slack[2], *cards[1:], newest]


def test_update_edits_in_place_and_keeps_blocks_when_none_are_sent() -> None:
    chat = Chat()
    blocks = [{"type": "divider"}]
    a = chat.post("C1", "a", blocks)
    b = chat.post("C1", "b")
    chat.update("C1", a.ts, "a (acknowledged)", None, keep_blocks=True)
    edited = chat.update("C1", a.ts, None, [{"type": "header"}])
    assert [m.ts for m in chat.messages("C1")] == [a.ts, b.ts]
    assert (edited.text, edited.blocks, edited.edits) == ("a (acknowledged)", [{"type": "header"}], 2)
    with pytest.raises(ChatError) as missing:
        chat.update("C1", "1.000001", "x", None)
    assert missing.value.code == "message_not_found"


def test_thread_replies_stay_out_of_the_channel_and_need_a_top_level_parent() -> None:
    chat = Chat()
    parent = chat.post("C1", "alert")
    r1 = chat.post("C1", "one", thread_ts=parent.ts)
    r2 = chat.post("C1", "two", thread_ts=parent.ts)
    assert chat.messages("C1") == [parent]
    assert chat.thread("C1", parent.ts) == [r1, r2]
    for bad in ("1.000001", r1.ts):
        with pytest.raises(ChatError, match="thread_not_found"):
            chat.post("C1", "x", thread_ts=bad)


def test_ephemeral_answers_are_per_user_and_not_messages() -> None:
    chat = Chat()
    alert = chat.post("C1", "alert")
    chat.ephemeral("C1", "U1", "only you", reply_to=alert.ts)
    chat.ephemeral("C1", "U2", "only them")
    assert [e.text for e in chat.ephemerals("C1", "U1")] == ["only you"]
    assert [e.user for e in chat.ephemerals("C1")] == ["U1", "U2"]
    assert chat.messages("C1") == [alert]


def test_since_replays_the_ring_and_asks_for_a_reload_past_it() -> None:
    chat = Chat(ring=3)
    for i in range(5):
        chat.post("C1", f"m{i}")
    assert chat.since(5) == []
    assert [c.seq for c in chat.since(2) or []] == [3, 4, 5]
    assert chat.since(1) is None


async def test_subscribers_get_batches_replay_and_a_reset_on_overflow() -> None:
    chat = Chat(queue=2)
    first = chat.post("C1", "before")
    feed = chat.subscribe(after=0)
    [replayed] = await anext(feed)
    assert (replayed.kind, replayed.item) == ("upsert", first)
    assert chat.subscribers == 1
    chat.post("C1", "a")
    chat.notice("C1", "b")
    batch = await asyncio.wait_for(anext(feed), 1)
    assert [c.kind for c in batch] == ["upsert", "notice"]
    for i in range(3):  # more than the queue holds: the slow reader reloads instead of blocking the chat
        chat.post("C1", f"flood {i}")
    assert [c.kind for c in await asyncio.wait_for(anext(feed), 1)] == ["reset"]
    await feed.aclose()
    assert chat.subscribers == 0


async def test_teams_cards_are_messages_of_their_channel() -> None:
    chat = Chat()
    card = {"type": "AdaptiveCard", "version": "1.5", "body": []}
    message = chat.card("C1", card)
    assert (message.source, message.card) == ("teams", card)
    assert chat.messages("C1") == [message]
