"""Read-only queries over what the Marketo pollers store (quota samples, trigger campaigns); index-backed."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from notifbot.store.trigger_state import idle_campaigns

MAX_DAY_SAMPLES = 5_000
CLEANUP_MEMORY_DAYS = 92  # how long `stale-triggers` lists campaigns Marketo's cleanup deactivated


def json_or(text: object, default: Any) -> Any:
    """Decoded JSON of the expected type, else `default` (rows written by other versions stay readable)."""
    try:
        value = json.loads(text) if isinstance(text, str | bytes) else default
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


@dataclass(frozen=True)
class QuotaSample:
    """One reading of an instance's daily API usage (users: [{userId, count}], errors: {code: count})."""

    instance: str
    sampled_at: float
    day: str
    used: int
    quota: int
    users: list[dict[str, Any]]
    errors: dict[str, int]


@dataclass(frozen=True)
class QuotaView:
    """An instance's latest sample and its samples since the last reset (oldest first; empty if none yet)."""

    instance: str
    latest: QuotaSample
    today: list[QuotaSample]


def _errors(text: object) -> dict[str, int]:
    raw = json_or(text, {}) or json_or(text, [])
    pairs: list[tuple[object, object]] = []
    if isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, list):  # Marketo's own shape: [{errorCode, count}]
        pairs = [(e.get("errorCode"), e.get("count")) for e in raw if isinstance(e, dict)]
    out: dict[str, int] = {}
    for code, count in pairs:
        if isinstance(count, int | float) and not isinstance(count, bool) and count > 0:
            out[str(code)] = out.get(str(code), 0) + int(count)
    return out


def _users(text: object) -> list[dict[str, Any]]:
    users = [u for u in json_or(text, []) if isinstance(u, dict)]
    return [
        {"userId": str(u.get("userId") or "unknown"), "count": int(u["count"])}
        for u in users
        if isinstance(u.get("count"), int | float) and not isinstance(u.get("count"), bool)
    ]


def _sample(r: sqlite3.Row) -> QuotaSample:
    return QuotaSample(
        str(r["instance"]),
        float(r["sampled_at"]),
        str(r["day"]),
        int(r["used"]),
        int(r["quota"]),
        _users(r["users"]),
        _errors(r["errors"]),
    )


def sampled_instances(conn: sqlite3.Connection) -> list[str]:
    """Instances with quota samples, by a loose index scan (one index seek per instance)."""
    rows = conn.execute(
        "WITH RECURSIVE i(name) AS (SELECT min(instance) FROM quota_samples UNION ALL"
        " SELECT (SELECT min(instance) FROM quota_samples WHERE instance > i.name) FROM i"
        " WHERE i.name IS NOT NULL) SELECT name FROM i WHERE name IS NOT NULL"
    ).fetchall()
    return [str(r[0]) for r in rows]


def quota_overview(conn: sqlite3.Connection, since: float) -> list[QuotaView]:
    """Per sampled instance: the latest sample, and the same day's samples taken at or after `since`."""
    out: list[QuotaView] = []
    for instance in sampled_instances(conn):
        last = conn.execute(
            "SELECT * FROM quota_samples WHERE instance = ? ORDER BY sampled_at DESC LIMIT 1", (instance,)
        ).fetchone()
        latest = _sample(last)
        today: list[QuotaSample] = []
        if latest.sampled_at >= since:
            rows = conn.execute(
                "SELECT * FROM quota_samples WHERE instance = ? AND sampled_at >= ? AND day = ?"
                " ORDER BY sampled_at DESC LIMIT ?",
                (instance, since, latest.day, MAX_DAY_SAMPLES),
            ).fetchall()
            today = [_sample(r) for r in reversed(rows)]
        out.append(QuotaView(instance, latest, today))
    return out


@dataclass(frozen=True)
class TriggerCampaign:
    """An active trigger campaign and since when no one was seen qualifying (see `basis`)."""

    instance: str
    campaign_id: int
    name: str
    program_name: str | None
    url: str | None
    seen_activity: bool
    idle_since: datetime
    idle_days: int
    cleanup_scheduled: bool = False  # Marketo announced this campaign's cleanup
    # the date its notice gave, as stored (any form `parse_time` reads, else text)
    cleanup_on: str | None = None
    cleanup_due_passed: bool = False  # that date is behind us and no "deactivated" notice named the campaign
    # what `idle_since` rests on: activity (the last seen), created (none since then), at_least (none since the
    # scan's coverage began, for a campaign active before notifbot watched: maybe idle longer), observed
    basis: str = "observed"


@dataclass(frozen=True)
class CleanedCampaign:
    """A trigger campaign Marketo's "deactivated" notice named, and when (the notice's date, else its arrival)."""

    instance: str
    campaign_id: int
    name: str
    program_name: str | None
    url: str | None
    deactivated_on: str | None


@dataclass(frozen=True)
class StaleTriggers:
    """Campaign counts (tracked, active, idle, idle ≥ `risk_days`, cleanup overdue) and the most idle ones, most
    idle first, plus the campaigns Marketo's cleanup recently deactivated."""

    tracked: int
    active: int
    idle_count: int
    at_risk: int
    idle: list[TriggerCampaign]
    due_passed: int = 0
    deactivated: list[CleanedCampaign] = field(default_factory=list)


def stale_triggers(
    conn: sqlite3.Connection, min_days: int, now: datetime, limit: int = 40, risk_days: int = 150
) -> StaleTriggers:
    """Active trigger campaigns idle at least `min_days` at `now`: counts, and the `limit` most idle in full."""
    tracked, active = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE is_active = 1) FROM trigger_campaigns"
    ).fetchone()
    found = [i for i in idle_campaigns(conn, now) if i.days >= min_days]
    idle = [
        TriggerCampaign(
            i.row.instance,
            i.row.campaign_id,
            i.row.name,
            i.row.program_name,
            i.row.url,
            i.seen_activity,
            i.idle_since,
            i.days,
            i.row.cleanup_stage == "scheduled",
            i.row.cleanup_on,
            i.due_passed,
            i.basis,
        )
        for i in (found[:limit] if limit >= 0 else found)
    ]
    idle_count = len(found)
    at_risk = sum(1 for i in found if i.days >= risk_days and not i.due_passed)
    due = sum(1 for i in found if i.due_passed)
    return StaleTriggers(
        int(tracked),
        int(active),
        idle_count,
        at_risk,
        idle,
        due,
        recently_deactivated(conn, now, limit),
    )


def recently_deactivated(
    conn: sqlite3.Connection, now: datetime, limit: int = 40, days: int = CLEANUP_MEMORY_DAYS
) -> list[CleanedCampaign]:
    """Inactive campaigns Marketo's "deactivated" notice named within `days` (a quarter: until the next cleanup)."""
    rows = conn.execute(
        "SELECT instance, campaign_id, name, program_name, url, cleanup_on FROM trigger_campaigns"
        " WHERE is_active = 0 AND cleanup_stage = 'deactivated' AND updated_at >= ?"
        " ORDER BY updated_at DESC, name LIMIT ?",
        ((now - timedelta(days=days)).timestamp(), limit),
    ).fetchall()
    return [
        CleanedCampaign(
            str(r["instance"]),
            int(r["campaign_id"]),
            str(r["name"]),
            r["program_name"],
            r["url"],
            r["cleanup_on"],
        )
        for r in rows
    ]
