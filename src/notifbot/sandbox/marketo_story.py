"""What the sandbox's fake Marketo tells, as pure functions of the clock: today's API burn and three trigger campaigns.

The burn: four API users spend calls at hourly rates that follow a working day (a night ETL, CRM sync around the
clock, web forms in office hours, a BI connector's big sync from late morning to 15:00), scaled so the total
crosses the quota warning (the lowest of `marketo.quota_thresholds`) at 14:30 CT on an ordinary day and then slows
down below the next threshold. Hours count from the last 00:00 CT, Marketo's API day, so the 23- and 25-hour days
of the DST changes are just shorter or longer days (the crossing comes at 15:30 or 13:30 CT). The campaigns: two
busy trigger campaigns and one nobody has qualified for in about 100 days, counted from the CT midnight the story
began (`anchor`); their `computedUrl` links look like Marketo's but lead to no real instance.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from notifbot.central_time import central_date, last_central_midnight

MUNCHKIN = "000-SBX-001"  # a munchkin id has three digits, three letters, three digits (config checks it)
QUOTA = 50_000  # Marketo's usual daily API quota
WARNING_AT = 14.5 * 3600  # seconds after 00:00 CT when the total passes the warning threshold
HEADROOM = 1.5  # percent the day ends below the next threshold (or 100 %)
DAY_HOURS = 25  # the longest US Central day
CRM, ETL, WEB, BI = (
    "crm-sync@example.com",
    "nightly-etl@example.com",
    "web-forms@example.com",
    "bi-connector@example.com",
)
# (from hour, to hour, {API user: relative calls per hour}); hours since 00:00 CT
SHAPE: tuple[tuple[int, int, Mapping[str, float]], ...] = (
    (0, 6, {CRM: 0.2, ETL: 0.3}),
    (6, 8, {CRM: 0.2, WEB: 1.8}),
    (8, 12, {CRM: 0.2, WEB: 3.8, BI: 4.0}),
    (12, 15, {CRM: 0.2, WEB: 3.8, BI: 8.0}),
    (15, 17, {CRM: 0.2, WEB: 1.8}),
    (17, DAY_HOURS, {CRM: 0.2}),
)
USERS = (CRM, ETL, WEB, BI)
# error code → (the user whose calls it follows, one error per that many of its calls)
ERRORS = {"606": (BI, 250), "615": (WEB, 3_000)}

Position = tuple[int, int]  # (epoch second, campaign id) of an activity: the order of the activity log
SEND_EMAIL = 6  # the activity type of every story activity (a flow step naming its campaign)


@dataclass(frozen=True)
class Campaign:
    """A trigger campaign of the story; busy ones qualify someone every `every` seconds since they were created."""

    campaign_id: int
    name: str
    email: str
    created_days: int  # before the anchor
    every: int | None = None  # seconds between activities
    offset: int = 0  # of the activities on the epoch grid
    past_days: tuple[float, ...] = ()  # one-off activities, days before the anchor


CAMPAIGNS = (
    Campaign(
        1101, "Webinar registration confirmation", "Webinar confirmation", 18, every=7_200, offset=1_380
    ),
    Campaign(1102, "Welcome new subscribers", "Welcome email", 12, every=18_000, offset=2_940),
    Campaign(1103, "Trade show follow-up", "Trade show thank-you", 400, past_days=(121.3, 107.6, 99.75)),
)
STALE = CAMPAIGNS[2]


@dataclass(frozen=True)
class Usage:
    """What `stats/usage.json` and `stats/errors.json` answer at one moment: calls per API user since 00:00 CT."""

    day: str  # the US Central date
    users: tuple[tuple[str, int], ...]  # users with calls, most first
    errors: tuple[tuple[str, int], ...]  # error codes with a count

    @property
    def total(self) -> int:
        """All calls today."""
        return sum(n for _, n in self.users)


def _hours_weight(user: str, seconds: float) -> float:
    """`user`'s relative calls from 00:00 CT until `seconds` later (weight × hours)."""
    hours = seconds / 3600
    return sum(rates.get(user, 0.0) * max(0.0, min(hours, end) - start) for start, end, rates in SHAPE)


def _stamp(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class MarketoStory:
    """The sandbox instance's story: `usage(now)` at any moment; campaigns and activities dated from `anchor`."""

    quota: int = QUOTA
    thresholds: tuple[float, ...] = (80.0, 95.0, 100.0)
    anchor: datetime = field(default_factory=lambda: last_central_midnight(datetime.now(UTC)))

    @property
    def warning(self) -> float:
        """The first quota threshold (percent), the one the story crosses mid-afternoon."""
        return min(self.thresholds)

    def _scales(self) -> tuple[float, float]:
        """Calls per weight unit until the warning crossing, and after it (less when the next threshold is close)."""
        before = sum(_hours_weight(u, WARNING_AT) for u in USERS)
        after = sum(_hours_weight(u, DAY_HOURS * 3600) for u in USERS) - before
        ceiling = min([t for t in self.thresholds if t > self.warning] + [100.0]) - HEADROOM
        early = self.warning / 100 * self.quota / before
        late = max(0.0, (ceiling - self.warning) / 100 * self.quota / after)
        return early, min(early, late)

    def usage(self, now: datetime) -> Usage:
        """The calls of each API user since the last 00:00 CT at `now` (aware): monotone within a day."""
        seconds = (now - last_central_midnight(now)).total_seconds()
        early, late = self._scales()
        counts: dict[str, int] = {}
        for user in USERS:
            upto = _hours_weight(user, min(seconds, WARNING_AT))
            beyond = (
                _hours_weight(user, seconds) - _hours_weight(user, WARNING_AT) if seconds > WARNING_AT else 0
            )
            if n := math.floor(early * upto + late * beyond):
                counts[user] = n
        errors = {code: counts.get(user, 0) // per for code, (user, per) in ERRORS.items()}
        return Usage(
            central_date(now).isoformat(),
            tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            tuple((code, n) for code, n in sorted(errors.items()) if n),
        )

    def sample_times(self, now: datetime, every: timedelta = timedelta(minutes=15)) -> list[datetime]:
        """The moments since the last 00:00 CT, every `every`, before `now`: the morning's quota samples."""
        start = last_central_midnight(now).astimezone(UTC)
        count = math.ceil((now - start) / every)
        return [start + k * every for k in range(1, count)]

    # -- trigger campaigns ---------------------------------------------------------------------------------------

    def campaigns(self) -> list[dict[str, Any]]:
        """The smart campaigns as `smartCampaigns.json` lists them: three active trigger campaigns."""
        out = []
        for c in CAMPAIGNS:
            created = _stamp(datetime.fromtimestamp(self._created(c), UTC)) + "+0000"  # Marketo's style
            out.append(
                {
                    "id": c.campaign_id,
                    "name": c.name,
                    "description": "",
                    "type": "trigger",
                    "isSystem": False,
                    "isActive": True,
                    "isRequestable": False,
                    "qualificationRuleType": "once",
                    "status": "Active",
                    "createdAt": created,
                    "updatedAt": created,
                    "workspace": "Default",
                    "folder": {"id": 1000 + c.campaign_id, "type": "Program"},
                    "computedUrl": f"https://app-sbx01.marketo.com/#SC{c.campaign_id}A1",
                }
            )
        return out

    def _created(self, c: Campaign) -> int:
        """When `c` was created (epoch second): 09:00 CT, `created_days` before the anchor."""
        return int((self.anchor - timedelta(days=c.created_days) + timedelta(hours=9)).timestamp())

    def _times(self, c: Campaign, since: int) -> Iterator[tuple[int, int]]:
        """(epoch second, campaign id) of `c`'s activities at or after `since`, in order (busy ones never end)."""
        if c.every is None:
            moments = sorted(int((self.anchor - timedelta(days=d)).timestamp()) for d in c.past_days)
            yield from ((t, c.campaign_id) for t in moments if t >= since)
            return
        lo = max(since, self._created(c))
        t = c.offset + math.ceil((lo - c.offset) / c.every) * c.every
        while True:
            yield t, c.campaign_id
            t += c.every

    def activities(self, after: Position, now: datetime) -> Iterator[tuple[Position, dict[str, Any]]]:
        """(position, activity) from position `after` on, up to `now`, oldest first."""
        streams = [self._times(c, after[0]) for c in CAMPAIGNS]
        by_id = {c.campaign_id: c for c in CAMPAIGNS}
        for t, cid in heapq.merge(*streams):
            if t > now.timestamp():
                return
            if (t, cid) < after:
                continue
            c = by_id[cid]
            yield (
                (t, cid),
                {
                    "id": t * 10 + cid % 10,
                    "marketoGUID": f"{t * 10 + cid % 10}",
                    "leadId": 1_000 + t // 60 % 9_000,
                    "activityDate": _stamp(datetime.fromtimestamp(t, UTC)),
                    "activityTypeId": SEND_EMAIL,
                    "campaignId": cid,
                    "primaryAttributeValueId": cid * 10,
                    "primaryAttributeValue": c.email,
                    "attributes": [{"name": "Campaign Run ID", "value": str(t // 86_400)}],
                },
            )
