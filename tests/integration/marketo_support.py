"""Shared helpers for the Marketo poller tests: a hand-moved clock, a no-op sleeper, an `accept` sink."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifbot.central_time import CENTRAL
from notifbot.model import Notification
from notifbot.store.events import Accepted, insert_notifications
from notifbot.store.runner import Database

MUNCHKIN = "123-ABC-456"
SECRET = "s3cr3t-Value-XYZ"


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.wall = datetime(2024, 3, 5, 10, 0, tzinfo=CENTRAL).astimezone(UTC)

    def __call__(self) -> datetime:
        return self.wall

    def advance(self, minutes: float) -> None:
        self.wall += timedelta(minutes=minutes)


async def _no_sleep(seconds: float) -> None:
    return None


class Sink:
    """`accept` that stores through the real store (dedupe by key) and remembers every batch and outcome."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.batches: list[list[Notification]] = []
        self.results: list[Accepted] = []

    async def __call__(self, notifications: list[Notification]) -> list[Accepted]:
        self.batches.append(list(notifications))
        out = await self.db.call(insert_notifications, [(n, []) for n in notifications])
        self.results.extend(out)
        return out

    @property
    def stored(self) -> list[str]:
        """Keys stored for the first time, in order."""
        return [a.key for a in self.results if not a.duplicate]
