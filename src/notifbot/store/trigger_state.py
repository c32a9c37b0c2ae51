"""Writes trigger-campaign health: campaign snapshots, last activity per campaign, cleanup notices, at-risk marks."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from notifbot.iso_time import parse_time
from notifbot.store import idle
from notifbot.store.db import transaction
from notifbot.store.idle import (
    CAMPAIGN_COLUMNS,
    CampaignRow,
    Idle,
    classify,
    covered_from,
    julian,
    julian_day,
)
from notifbot.store.marketo_state import save_cursor

ACTIVITY_POLLER = idle.ACTIVITY_POLLER  # the Marketo sources read these two here
CLEANUP_DAYS = idle.CLEANUP_DAYS


def iso_utc(value: object) -> str | None:
    """A Marketo timestamp (any form `parse_time` reads) as "YYYY-MM-DDTHH:MM:SSZ", the stored form."""
    dt = parse_time(value)
    return None if dt is None else dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def idle_campaigns(conn: sqlite3.Connection, now: datetime, instance: str | None = None) -> list[Idle]:
    """The active trigger campaigns (of `instance`, else all) with their idle times at `now`, most idle first.

    Plain columns come from the store (the primary key serves the instance); the idle computation is store/idle.py.
    """
    where, params = (" AND instance = ?", (instance,)) if instance is not None else ("", ())
    rows = [
        CampaignRow(*r)
        for r in conn.execute(
            f"SELECT {CAMPAIGN_COLUMNS} FROM trigger_campaigns WHERE is_active = 1{where}", params
        ).fetchall()
    ]
    coverage = {
        str(r[0]): covered_from(r[1])
        for r in conn.execute(
            f"SELECT instance, cursor FROM poller_state WHERE poller = ?{where}", (ACTIVITY_POLLER, *params)
        ).fetchall()
    }
    return classify(rows, coverage, julian_day(now))


@dataclass(frozen=True)
class CampaignRecord:
    """An active trigger campaign as the smart-campaign refresh saw it."""

    campaign_id: int
    name: str
    url: str | None = None
    program_name: str | None = None
    created_at: str | None = None  # ISO UTC, from Marketo's createdAt


@dataclass(frozen=True)
class SnapshotResult:
    """What a refresh changed: campaigns first seen, reactivated, and no longer active."""

    active: int
    new: int
    reactivated: int
    deactivated: int


def apply_campaign_snapshot(
    conn: sqlite3.Connection, instance: str, campaigns: Sequence[CampaignRecord], now: datetime
) -> SnapshotResult:
    """Makes the table match the complete list of active trigger campaigns `campaigns` of `instance` at `now`."""
    ts, stamp = now.timestamp(), iso_utc(now)
    new = reactivated = 0
    with transaction(conn):
        known = {
            int(r[0]): bool(r[1])
            for r in conn.execute(
                "SELECT campaign_id, is_active FROM trigger_campaigns WHERE instance = ?", (instance,)
            )
        }
        # The first complete list: its campaigns were active before notifbot watched (their idle clocks may
        # have started long before); a campaign that appears later was activated since the previous list.
        first = not conn.execute(
            "SELECT 1 FROM trigger_campaigns WHERE instance = ? AND seen_at IS NOT NULL LIMIT 1", (instance,)
        ).fetchone()
        for c in campaigns:
            if c.campaign_id not in known:
                new += 1
                conn.execute(
                    "INSERT INTO trigger_campaigns (instance, campaign_id, name, program_name, url, is_active,"
                    " last_activity_at, observed_since, updated_at, seen_at, created_at, predates_watch)"
                    " VALUES (?, ?, ?, ?, ?, 1, (SELECT last_activity_at FROM campaign_activity"
                    " WHERE instance = ? AND campaign_id = ?), ?, ?, ?, ?, ?)",
                    (
                        instance,
                        c.campaign_id,
                        c.name,
                        c.program_name,
                        c.url,
                        instance,
                        c.campaign_id,
                        stamp,
                        ts,
                        ts,
                        c.created_at,
                        first,
                    ),
                )
            elif not known[c.campaign_id]:
                # Deactivating and reactivating restarts Marketo's idle clock: so does ours.
                reactivated += 1
                conn.execute(
                    "UPDATE trigger_campaigns SET is_active = 1, name = ?, url = ?, program_name = coalesce(?,"
                    " program_name), last_activity_at = NULL, observed_since = ?, active_since = ?,"
                    " cleanup_stage = NULL, cleanup_on = NULL, at_risk_notified_at = NULL, updated_at = ?,"
                    " seen_at = ?, created_at = coalesce(?, created_at), predates_watch = 0"
                    " WHERE instance = ? AND campaign_id = ?",
                    (
                        c.name,
                        c.url,
                        c.program_name,
                        stamp,
                        stamp,
                        ts,
                        ts,
                        c.created_at,
                        instance,
                        c.campaign_id,
                    ),
                )
            else:
                conn.execute(
                    "UPDATE trigger_campaigns SET name = ?, url = ?, program_name = coalesce(?, program_name),"
                    " updated_at = ?, seen_at = ?, created_at = coalesce(?, created_at)"
                    " WHERE instance = ? AND campaign_id = ?",
                    (c.name, c.url, c.program_name, ts, ts, c.created_at, instance, c.campaign_id),
                )
        gone = conn.execute(
            "UPDATE trigger_campaigns SET is_active = 0, updated_at = ? WHERE instance = ? AND is_active = 1"
            " AND (seen_at IS NULL OR seen_at < ?)",
            (ts, instance, ts),
        ).rowcount
    return SnapshotResult(len(campaigns), new, reactivated, gone)


def apply_activity(
    conn: sqlite3.Connection,
    instance: str,
    latest: Mapping[int, str],
    poller: str,
    cursor: str,
    now: datetime,
    calls_today: int,
) -> None:
    """Records the newest activity per campaign id (ISO UTC) and the poller's cursor in one transaction.

    Applying the same activities twice changes nothing (only a newer time wins), so a crash between a page and its
    cursor repeats at most that page and never skips one.
    """
    with transaction(conn):
        conn.executemany(
            "INSERT INTO campaign_activity (instance, campaign_id, last_activity_at) VALUES (?, ?, ?)"
            " ON CONFLICT (instance, campaign_id) DO UPDATE SET last_activity_at = excluded.last_activity_at"
            " WHERE campaign_activity.last_activity_at < excluded.last_activity_at",
            [(instance, cid, when) for cid, when in latest.items()],
        )
        conn.executemany(
            "UPDATE trigger_campaigns SET last_activity_at = ? WHERE instance = ? AND campaign_id = ?"
            " AND (last_activity_at IS NULL OR last_activity_at < ?) AND (active_since IS NULL OR ? >= active_since)",
            [(when, instance, cid, when, when) for cid, when in latest.items()],
        )
        save_cursor(conn, instance, poller, cursor, now, calls_today)


def apply_cleanup_notice(
    conn: sqlite3.Connection,
    instance: str,
    stage: str,
    deactivate_on: str | None,
    campaigns: Sequence[Mapping[str, object]],
    now: datetime,
) -> int:
    """Marks the campaigns of Marketo's "cleanup scheduled" / "deactivated" notice; returns how many it named."""
    if stage not in ("scheduled", "deactivated"):
        return 0
    ts, stamp = now.timestamp(), iso_utc(now)
    active = 1 if stage == "scheduled" else 0
    count = 0
    with transaction(conn):
        for c in campaigns:
            raw_id = c.get("id")
            if not (isinstance(raw_id, int) or (isinstance(raw_id, str) and raw_id.isdigit())):
                continue
            cid, count = int(raw_id), count + 1
            name = str(c.get("name") or f"Campaign {cid}")
            program, url = c.get("program_name"), c.get("url")
            program = str(program) if program else None
            url = str(url) if url else None
            conn.execute(
                "INSERT INTO trigger_campaigns (instance, campaign_id, name, program_name, url, is_active,"
                " observed_since, updated_at, cleanup_stage, cleanup_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (instance, campaign_id) DO UPDATE SET is_active = excluded.is_active,"
                " program_name = coalesce(excluded.program_name, trigger_campaigns.program_name),"
                " url = coalesce(trigger_campaigns.url, excluded.url),"
                " cleanup_stage = excluded.cleanup_stage, cleanup_on = excluded.cleanup_on,"
                " updated_at = excluded.updated_at",
                (instance, cid, name, program, url, active, stamp, ts, stage, deactivate_on),
            )
    return count


@dataclass(frozen=True)
class AtRisk:
    """An active trigger campaign idle long enough to be at risk of Marketo's cleanup."""

    campaign_id: int
    name: str
    program_name: str | None
    url: str | None
    idle_since: datetime
    idle_days: int
    at_least: bool = (
        False  # no activity seen since `idle_since`, the start of what the scan covered: maybe longer
    )


def at_risk_unannounced(
    conn: sqlite3.Connection, instance: str, now: datetime, risk_days: int
) -> list[AtRisk]:
    """Active campaigns of `instance` idle ≥ `risk_days` that no warning covered since they went idle."""
    return [
        AtRisk(
            i.row.campaign_id,
            i.row.name,
            i.row.program_name,
            i.row.url,
            i.idle_since,
            i.days,
            i.basis == "at_least",
        )
        for i in idle_campaigns(conn, now, instance)
        if i.days >= risk_days
        and i.row.cleanup_stage != "scheduled"
        and (i.row.at_risk_notified_at is None or i.row.at_risk_notified_at / 86400.0 + 2440587.5 < i.jd)
    ]


def undecided_at(conn: sqlite3.Connection, instance: str, before: datetime) -> bool:
    """Whether an active campaign of `instance` that predates notifbot's watch and had no activity seen could have
    been idle since `before` (created then or earlier, or when unknown): only activity older than the scan's
    coverage can tell, so a deeper scan back to `before` would decide it."""
    rows = conn.execute(
        "SELECT created_at FROM trigger_campaigns WHERE instance = ? AND is_active = 1 AND predates_watch = 1"
        " AND last_activity_at IS NULL AND coalesce(cleanup_stage, '') <> 'scheduled'",
        (instance,),
    ).fetchall()
    limit = julian_day(before)
    return any(r[0] is None or ((jd := julian(r[0])) is not None and jd <= limit) for r in rows)


def mark_at_risk_announced(
    conn: sqlite3.Connection, instance: str, campaign_ids: Sequence[int], now: datetime
) -> None:
    """Remembers that a warning named these campaigns (until they qualify someone or are reactivated)."""
    with transaction(conn):
        conn.executemany(
            "UPDATE trigger_campaigns SET at_risk_notified_at = ? WHERE instance = ? AND campaign_id = ?",
            [(now.timestamp(), instance, cid) for cid in campaign_ids],
        )
