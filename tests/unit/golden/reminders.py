"""A group's reminder as delivery builds it: a stored group, posted, then reminded, through group_flush.prepare."""

from __future__ import annotations

import asyncio
import io
import tempfile
from datetime import timedelta
from functools import cache
from pathlib import Path

from notifbot.delivery.group_flush import prepare
from notifbot.destinations.console import ConsoleDelivery
from notifbot.groups import GroupPolicy, GroupRef, Reminder, ThreadItems
from notifbot.model import Severity
from notifbot.routing import group_id
from notifbot.sources.events import parse_event
from notifbot.store.events import Target, insert_notifications
from notifbot.store.groups import record_flush
from notifbot.store.outbox import OutboxRow, claim_next
from notifbot.store.runner import Database
from tests.unit.render.helpers import T

POLICY = GroupPolicy(("kind",), timedelta(0), timedelta(minutes=5), timedelta(hours=4))


class Recording(ConsoleDelivery):
    """The console destination, keeping each thread reply it printed (to render it for Slack and Teams too)."""

    def __init__(self) -> None:
        self.out = io.StringIO()
        super().__init__({"log": "text"}, self.out)
        self.replies: list[ThreadItems] = []

    async def reply_group(self, row: OutboxRow, message_id: str, reply: ThreadItems) -> None:
        self.replies.append(reply)
        await super().reply_group(row, message_id, reply)


async def _flush(db: Database, sender: Recording, now: float) -> None:
    """One claim of the group's row at `now`, as the worker makes it: the due attempt, sent and recorded."""
    row = db.call_sync(claim_next, "console", "stdout", "golden", now, 60)
    assert row is not None and row.group_id is not None
    _, attempt = await prepare(db, row, sender, now)
    assert attempt is not None
    db.call_sync(record_flush, row.id, row.group_id, attempt.done(await attempt.send()), True, now)


@cache
def reminded(count: int, mention: str | None) -> tuple[str, ThreadItems]:
    """What the console printed for a critical group of `count` events posted and reminded once, and the reminder."""
    remind = Reminder(timedelta(minutes=30), 3, Severity.CRITICAL, mention)
    ref = GroupRef(group_id("log", "golden"), "kind=campaign_failure", POLICY, remind=remind)
    sender = Recording()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "n.db")
        try:
            for i in range(count):
                fields = {"campaign_name": f"Campaign {i}"}
                event = {"kind": "campaign_failure", "id": f"g-{i}", "severity": "critical", "fields": fields}
                n = parse_event(event, now=T)
                db.call_sync(
                    insert_notifications,
                    [(n, [Target("log", "console", "stdout", ref)])],
                    now=T.timestamp() + 60 * i,
                )
            start = T.timestamp() + 300
            asyncio.run(_flush(db, sender, start))
            asyncio.run(_flush(db, sender, start + 31 * 60))
        finally:
            db.close()
    [reminder] = sender.replies
    assert reminder.reminder is not None
    return sender.out.getvalue(), reminder
