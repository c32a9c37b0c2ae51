"""The bot prunes old rows in the background while events keep arriving over HTTP (storage.retention)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from notifbot.sources.events import parse_event
from notifbot.store.db import connect
from notifbot.store.events import Target, insert_notifications
from tests.integration.conftest import BotFactory, client_for, rows

pytestmark = pytest.mark.backends

OLD_EVENTS = 3000


def fill_old(storage: dict[str, Any]) -> None:
    """A store that ran for months: old events, each delivered to the console."""
    if "url" in storage:
        from notifbot.store import pg

        conn: Any = pg.connect(storage["url"])
    else:
        conn = connect(storage["path"])
    old = datetime.now(UTC) - timedelta(days=200)
    notes = [
        parse_event({"kind": "audit", "id": f"old{i}", "summary": "x" * 200}, now=old)
        for i in range(OLD_EVENTS)
    ]
    insert_notifications(conn, [(n, [Target("console", "console", "stdout")]) for n in notes])
    conn.execute("UPDATE outbox SET status = 'delivered'")
    conn.close()


async def test_old_rows_are_pruned_in_the_background_while_ingest_goes_on(
    bot_factory: BotFactory, storage: dict[str, Any]
) -> None:
    fill_old(storage)
    bot = await bot_factory(storage={"retention": {"every": "1s", "batch": 1000}})
    assert bot.pruner is not None
    latencies: list[float] = []
    sent = 0
    async with client_for(bot) as client:
        deadline = time.monotonic() + 15
        while bot.pruner.runs == 0:
            assert time.monotonic() < deadline, "no retention run finished"
            batch = [{"kind": "audit", "id": f"new{sent + i}"} for i in range(5)]
            started = time.perf_counter()
            r = await client.post("/hooks/events", json=batch)
            latencies.append(time.perf_counter() - started)
            assert r.status_code == 202
            sent += 5
            await asyncio.sleep(0.02)
        metrics = (await client.get("/metrics")).text
    assert rows(bot, "SELECT count(*) FROM events WHERE key LIKE 'old%'") == [(0,)]
    assert rows(bot, "SELECT count(*) FROM events WHERE key LIKE 'new%'") == [(sent,)]
    assert bot.pruner.last == {"outbox": OLD_EVENTS, "events": OLD_EVENTS}
    assert f'notifbot_rows_pruned_total{{table="events"}} {float(OLD_EVENTS)}' in metrics
    assert sent >= 20 and max(latencies) < 0.5  # ingest answered throughout, never behind the whole run


async def test_retention_can_be_turned_off(bot_factory: BotFactory) -> None:
    bot = await bot_factory(storage={"retention": {"enabled": False}})
    assert bot.pruner is None
