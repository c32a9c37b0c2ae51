"""NOTIFY between replicas: a committed change reaches every listener within a second, a lost connection resyncs."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notifbot.store.db import connect, transaction
from notifbot.store.notify import Listener, channel_of, message, notify, outbox_topic, parse


def test_topics_and_messages_round_trip() -> None:
    assert parse(message("mutes")) == ("mutes", "")
    assert parse(message("groups:7", "acked")) == ("groups:7", "acked")
    assert parse("not json") is None
    assert parse('{"payload": "x"}') is None
    assert channel_of(outbox_topic("teams", "https://example.com/hook:1")) == (
        "teams",
        "https://example.com/hook:1",
    )
    assert channel_of("mutes") is None
    assert channel_of("outbox:slack") is None


def test_notify_does_nothing_on_sqlite(tmp_path: Path) -> None:
    conn = connect(tmp_path / "notifbot.db")
    with transaction(conn):
        notify(conn, "mutes")  # no pg_notify on SQLite: it must not even try
    conn.close()


class _Seen:
    """What a listener's callbacks and resync saw, with a way to wait for it."""

    def __init__(self) -> None:
        self.topics: list[tuple[str, str]] = []
        self.resyncs = 0
        self.changed = asyncio.Event()

    async def resync(self) -> None:
        self.resyncs += 1
        self.changed.set()

    def seen(self, topic: str, payload: str) -> None:
        self.topics.append((topic, payload))
        self.changed.set()

    async def until(self, check: object, timeout: float) -> float:
        """Waits until `check()` holds; returns how long it took."""
        assert callable(check)
        started = time.monotonic()
        while not check():
            self.changed.clear()
            remaining = timeout - (time.monotonic() - started)
            if remaining <= 0:
                raise AssertionError(f"not within {timeout} s: {self.topics}, {self.resyncs} resyncs")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)
        return time.monotonic() - started


@pytest.fixture
def pg(pg_store_url: str) -> Iterator[Any]:
    from notifbot.store import pg

    conn = pg.connect(pg_store_url)
    yield conn
    conn.close()


async def test_a_committed_notify_reaches_the_listener_within_a_second(pg_store_url: str, pg: Any) -> None:
    seen = _Seen()
    listener = Listener(pg_store_url, seen.resync)
    listener.on("mutes", seen.seen)
    listener.on("outbox", seen.seen)
    async with listener:
        await asyncio.wait_for(listener.connected.wait(), 5)
        assert seen.resyncs == 1
        with pytest.raises(RuntimeError), transaction(pg):
            notify(pg, outbox_topic("slack", "CROLLED"))
            raise RuntimeError("rolled back: announced to nobody")
        with transaction(pg):
            notify(pg, "mutes", "by a")
            notify(pg, "groups:3")  # nobody registered for groups: ignored
            notify(pg, outbox_topic("slack", "C1"))
        took = await seen.until(lambda: len(seen.topics) == 2, 1.0)
        assert took < 1.0
        assert seen.topics == [("mutes", "by a"), ("outbox:slack:C1", "")]


async def test_publish_reaches_another_listener(pg_store_url: str) -> None:
    a, b = _Seen(), _Seen()
    sender, receiver = Listener(pg_store_url, a.resync), Listener(pg_store_url, b.resync)
    receiver.on("outbox", b.seen)
    async with sender, receiver:
        await asyncio.wait_for(receiver.connected.wait(), 5)
        sender.publish_channels([("slack", "C1"), ("slack", "C2")])
        sender.publish("outbox:slack:C1")  # queued twice before sending: sent once
        await b.until(lambda: len(b.topics) >= 2, 1.0)
        await asyncio.sleep(0.1)
        assert b.topics == [("outbox:slack:C1", ""), ("outbox:slack:C2", "")]


async def test_the_listener_reconnects_and_resyncs_after_losing_its_backend(
    pg_store_url: str, pg: Any
) -> None:
    seen = _Seen()
    listener = Listener(pg_store_url, seen.resync, backoff=(0.05, 0.5))
    listener.on("mutes", seen.seen)
    async with listener:
        await asyncio.wait_for(listener.connected.wait(), 5)
        first = listener.backend_pid
        pg.execute("SELECT pg_terminate_backend(?)", (first,))
        await seen.until(lambda: seen.resyncs == 2 and listener.connected.is_set(), 5.0)
        assert listener.backend_pid not in (None, first)
        notify(pg, "mutes")
        await seen.until(lambda: seen.topics == [("mutes", "")], 1.0)


async def test_a_group_change_announces_the_group_and_its_rows_channel(pg_store_url: str, pg: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from notifbot.groups import GroupPolicy, GroupRef
    from notifbot.sources.events import parse_event
    from notifbot.store.events import Target, insert_notifications
    from notifbot.store.notify import notify_group

    policy = GroupPolicy(("kind",), timedelta(0), timedelta(minutes=5), timedelta(hours=4))
    n = parse_event({"kind": "audit", "id": "grouped"}, now=datetime.now(UTC))
    insert_notifications(pg, [(n, [Target("ops", "slack", "C9", GroupRef("g-audit", "kind=audit", policy))])])
    (group_id,) = pg.execute("SELECT group_id FROM outbox WHERE group_id IS NOT NULL").fetchone()
    seen = _Seen()
    listener = Listener(pg_store_url, seen.resync)
    listener.on("groups", seen.seen)
    listener.on("outbox", seen.seen)
    async with listener:
        await asyncio.wait_for(listener.connected.wait(), 5)
        notify_group(pg, group_id)
        await seen.until(lambda: len(seen.topics) == 2, 1.0)
    assert seen.topics == [(f"groups:{group_id}", ""), ("outbox:slack:C9", "")]
