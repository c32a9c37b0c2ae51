"""Digest periods: which [start, end) period an instant falls in, ends at a local time of day, DST-correct.

A period ends at `at` local time and they repeat every `every`: whole hours dividing a day (ends at `at`, `at` +
every, … each local day) or whole days (ends at `at` on local dates a multiple of `every` days after ANCHOR, a
Monday, so a 7d digest always lands on Monday). Ends are wall-clock times in the zone, so a 24h digest at 08:00
stays at 08:00 across DST changes (that period is 23 or 25 hours long). An end on a skipped wall time (spring
forward) is read in the offset before the jump, so it falls one hour later by the clock (02:30 Stockholm on the last
Sunday of March fires at 03:30 CEST); an end on a repeated wall time (fall back) falls at its first occurrence. Ends
that coincide are one end, so periods always tile.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from notifbot.durations import format_duration

DAY = timedelta(days=1)
ANCHOR = date(2024, 1, 1)  # a Monday: multi-day periods end on local dates a multiple of `every` after it


@dataclass(frozen=True)
class DigestPolicy:
    """When a route's digests are posted: every `every`, ending at `at` local time in `timezone`."""

    every: timedelta
    at: time
    timezone: str

    @property
    def describe(self) -> str:
        """e.g. `every 24h at 08:00 Europe/Stockholm`."""
        return f"every {format_duration(self.every)} at {self.at:%H:%M} {self.timezone}"


@dataclass(frozen=True)
class DigestRef:
    """The digest an event joins at one destination: its stored identity, readable label and schedule."""

    key_id: str
    label: str
    policy: DigestPolicy


@dataclass(frozen=True)
class Period:
    """One digest period, [start, end) in UTC."""

    start: datetime
    end: datetime


def _check(every: timedelta) -> None:
    if every < timedelta(hours=1) or every > 7 * DAY or every.total_seconds() % 3600:
        raise ValueError("every must be whole hours from 1h to 7d")
    if (every < DAY and DAY % every) or (every > DAY and every % DAY):
        raise ValueError("every must be whole hours dividing a day or whole days")


def _ends_on(day: date, policy: DigestPolicy, zone: ZoneInfo) -> list[datetime]:
    """The period ends on one local date, in UTC (fold=0: a skipped time counts in the offset before the jump)."""
    every = policy.every
    if every >= DAY:
        if (day.toordinal() - ANCHOR.toordinal()) % (every // DAY):
            return []
        walls = [datetime.combine(day, policy.at)]
    else:
        first = datetime.combine(day, policy.at)
        walls = [first + k * every for k in range(DAY // every)]
    return [w.replace(tzinfo=zone).astimezone(UTC) for w in walls]


def period_of(policy: DigestPolicy, now: datetime) -> Period:
    """The period `now` (aware) falls in: the latest end at or before it, to the first end after it."""
    _check(policy.every)
    zone = ZoneInfo(policy.timezone)
    today = now.astimezone(zone).date()
    span = max(1, policy.every // DAY) + 1
    ends = sorted(
        {e for d in range(-span, span + 1) for e in _ends_on(today + timedelta(days=d), policy, zone)}
    )
    now = now.astimezone(UTC)
    start = max(e for e in ends if e <= now)
    end = min(e for e in ends if e > now)
    return Period(start, end)


def period_at(policy: DigestPolicy, ts: float) -> Period:
    """`period_of` for epoch seconds."""
    return period_of(policy, datetime.fromtimestamp(ts, UTC))


def digest_id(destination: str, label: str, policy: DigestPolicy) -> str:
    """The stored identity of a route's digest at one destination: its match and schedule (not the period)."""
    text = json.dumps([destination, label, policy.describe])
    return hashlib.sha256(text.encode()).hexdigest()[:32]
