"""US Central time, where Marketo's day runs: its daily API quota resets at 00:00 America/Chicago."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CENTRAL = ZoneInfo("America/Chicago")


def central_date(now: datetime) -> date:
    """The calendar day in US Central of an aware datetime."""
    return now.astimezone(CENTRAL).date()


def next_central_midnight(now: datetime) -> datetime:
    """The next 00:00 America/Chicago after `now` (aware), DST-correct."""
    return datetime.combine(central_date(now) + timedelta(days=1), time(0, 0), tzinfo=CENTRAL)


def last_central_midnight(now: datetime) -> datetime:
    """The last 00:00 America/Chicago at or before `now` (when Marketo's daily API quota last reset)."""
    return datetime.combine(central_date(now), time(0, 0), tzinfo=CENTRAL)
