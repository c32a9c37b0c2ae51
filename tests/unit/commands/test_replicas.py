"""`status` lists the replicas sharing the database and which one runs each poller (none of it for a lone process)."""

from __future__ import annotations

import time

from notifbot.store import leases, replicas
from tests.unit.commands.conftest import NOW, Harness


async def _beat(h: Harness, replica_id: str, started_ago: float) -> None:
    await h.db.call(replicas.beat, replica_id, "host-" + replica_id, 100, "9.9.9", time.time() - started_ago)


async def test_a_lone_process_on_sqlite_shows_no_replicas(polled: Harness) -> None:
    await _beat(polled, "solo", 60)
    reply = await polled.ask("status")
    assert [s.title for s in reply.sections] == [None, "Marketo polling"]


async def test_replicas_and_each_pollers_holder_are_listed(polled: Harness) -> None:
    await _beat(polled, "bot-a", 600)
    await _beat(polled, "bot-b", 60)
    await polled.db.call(replicas.beat, "gone", "h", 1, "9.9.9", now=time.time() - 3600)  # killed long ago
    await polled.sql(
        "INSERT INTO poller_state (instance, poller, last_success_at, day, calls_today) VALUES (?,?,?,?,?)",
        ("123-ABC-456", "usage", NOW.timestamp() - 300, "2026-11-30", 4),
        ("123-ABC-456", "campaigns", NOW.timestamp() - 300, "2026-11-30", 0),
    )
    assert await polled.db.call(leases.take_poller, "usage:123-ABC-456", "bot-b", 15)
    assert await polled.db.call(leases.take_poller, "email-ops", "bot-b", 15)
    reply = await polled.ask("status")
    polling, section = reply.sections[1], reply.sections[2]
    details = {i.text: i.detail or "" for i in polling.items}
    assert " · on bot-b · 4 API calls today" in details["123-ABC-456 · usage"]
    assert "on no replica now" in details["123-ABC-456 · campaigns"]
    assert section.title == "Replicas (2)"
    a, b = section.items
    assert (a.text, b.text) == ("bot-a", "bot-b")  # oldest first; the dead one is not listed
    assert a.detail is not None and a.detail.startswith("host-bot-a pid 100 · version 9.9.9 · since ")
    assert a.detail.endswith("last beat 0 s ago · runs no poller")
    assert b.detail is not None and b.detail.endswith("runs email-ops, usage:123-ABC-456")
    assert "bot-b" in await polled.text("status")  # and it renders within Slack's limits
