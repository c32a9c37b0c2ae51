"""Writes trigger-campaign health: campaign snapshots, last activity per campaign, cleanup notices, at-risk marks."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from notifbot.iso_time import parse_time
from notifbot.store.db import transaction
from notifbot.store.marketo_state import save_cursor

CLEANUP_DAYS = 180  # Marketo deactivates trigger campaigns idle for over 6 months
COVERED_FROM_SQL = "json_extract(p.cursor, '$.covered_from')"  # ScanCursor.covered_from, read in SQL


def iso_utc(value: object) -> str | None:
    """A Marketo timestamp (any form `parse_time` reads) as "YYYY-MM-DDTHH:MM:SSZ", the stored form."""
    dt = parse_time(value)
    return None if dt is None else dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def julian(column: str) -> str:
    """SQL for a stored timestamp as a Julian day (ISO-8601, else its first 19 characters read as UTC)."""
    return f"coalesce(julianday({column}), julianday(substr({column}, 1, 19)))"


ACTIVITY_POLLER = "activities"  # its cursor's `covered_from` says since when no activity can have been missed

# Idle since (`jd`, a Julian day) and on what basis:
#   activity: the newest activity seen for the campaign;
#   at_least: none since `covered_from` (where the activity scan's coverage starts) for a campaign that was active
#             before notifbot first listed the instance: idle at least since then, capped by createdAt;
#   created:  none since it was created, within the coverage;
#   observed: none since notifbot saw it active (or since coverage began, if later); no coverage yet: since seen.
# A campaign Marketo itself scheduled for cleanup had no one qualify for 6 months, whatever notifbot saw.
IDLE_CTE = (
    "WITH b AS (SELECT t.instance, t.campaign_id, t.name, t.program_name, t.url, t.cleanup_stage, t.cleanup_on,"
    f" t.at_risk_notified_at, t.predates_watch, {julian('t.last_activity_at')} AS la,"
    f" {julian('t.observed_since')} AS os, {julian('t.created_at')} AS cr,"
    f" CASE WHEN json_valid(p.cursor) THEN {julian(COVERED_FROM_SQL)} END AS cov FROM trigger_campaigns t"
    f" LEFT JOIN poller_state p ON p.instance = t.instance AND p.poller = '{ACTIVITY_POLLER}'"
    " WHERE t.is_active = 1),"
    " q AS (SELECT *, CASE WHEN la IS NOT NULL THEN 'activity' WHEN cov IS NULL OR predates_watch = 0"
    " THEN 'observed' WHEN cr >= cov THEN 'created' ELSE 'at_least' END AS basis FROM b),"
    " s AS (SELECT *, CASE basis WHEN 'activity' THEN la WHEN 'created' THEN cr WHEN 'at_least' THEN cov"
    " ELSE max(os, coalesce(cov, os)) END AS qs FROM q),"
    f" c AS (SELECT *, CASE WHEN cleanup_stage = 'scheduled' THEN min(qs, :now - {CLEANUP_DAYS}) ELSE qs END"
    " AS jd FROM s),"
    " d AS (SELECT *, CAST(:now - jd AS INTEGER) AS days, coalesce(cleanup_stage = 'scheduled' AND"
    f" (CASE WHEN length(cleanup_on) <= 10 THEN julianday(cleanup_on) + 1 ELSE {julian('cleanup_on')} END)"
    " <= :now, 0) AS due_passed FROM c WHERE jd IS NOT NULL)"
)
# `due_passed`: Marketo's scheduled deactivation date is behind us (a bare date counts until that day ends).


def julian_day(dt: datetime) -> float:
    """`dt` as a Julian day number, the unit of IDLE_CTE's `:now`."""
    return dt.timestamp() / 86_400 + 2_440_587.5


def from_julian(jd: float) -> datetime:
    """A Julian day number back as an aware UTC datetime (to the second)."""
    return datetime.fromtimestamp(round((jd - 2_440_587.5) * 86_400), UTC)


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
                    " VALUES (?1, ?2, ?3, ?4, ?5, 1, (SELECT last_activity_at FROM campaign_activity"
                    " WHERE instance = ?1 AND campaign_id = ?2), ?6, ?7, ?7, ?8, ?9)",
                    (instance, c.campaign_id, c.name, c.program_name, c.url, stamp, ts, c.created_at, first),
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
    rows = [(instance, cid, when) for cid, when in latest.items()]
    with transaction(conn):
        conn.executemany(
            "INSERT INTO campaign_activity (instance, campaign_id, last_activity_at) VALUES (?, ?, ?)"
            " ON CONFLICT (instance, campaign_id) DO UPDATE SET last_activity_at ="
            " max(last_activity_at, excluded.last_activity_at)",
            rows,
        )
        conn.executemany(
            "UPDATE trigger_campaigns SET last_activity_at = ?3 WHERE instance = ?1 AND campaign_id = ?2"
            " AND (last_activity_at IS NULL OR last_activity_at < ?3) AND (active_since IS NULL OR ?3 >= active_since)",
            rows,
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
                " program_name = coalesce(excluded.program_name, program_name), url = coalesce(url, excluded.url),"
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
    rows = conn.execute(
        f"{IDLE_CTE} SELECT * FROM d WHERE instance = :instance AND days >= :risk"
        " AND coalesce(cleanup_stage, '') <> 'scheduled'"
        " AND (at_risk_notified_at IS NULL OR at_risk_notified_at / 86400.0 + 2440587.5 < jd)"
        " ORDER BY jd, name",
        {"now": julian_day(now), "instance": instance, "risk": risk_days},
    ).fetchall()
    return [
        AtRisk(
            int(r["campaign_id"]),
            str(r["name"]),
            r["program_name"],
            r["url"],
            from_julian(float(r["jd"])),
            int(r["days"]),
            r["basis"] == "at_least",
        )
        for r in rows
    ]


def undecided_at(conn: sqlite3.Connection, instance: str, before: datetime) -> bool:
    """Whether an active campaign of `instance` that predates notifbot's watch and had no activity seen could have
    been idle since `before` (created then or earlier, or when unknown): only activity older than the scan's
    coverage can tell, so a deeper scan back to `before` would decide it."""
    row = conn.execute(
        "SELECT 1 FROM trigger_campaigns WHERE instance = ? AND is_active = 1 AND predates_watch = 1"
        " AND last_activity_at IS NULL AND coalesce(cleanup_stage, '') <> 'scheduled'"
        f" AND (created_at IS NULL OR {julian('created_at')} <= ?) LIMIT 1",
        (instance, julian_day(before)),
    ).fetchone()
    return row is not None


def mark_at_risk_announced(
    conn: sqlite3.Connection, instance: str, campaign_ids: Sequence[int], now: datetime
) -> None:
    """Remembers that a warning named these campaigns (until they qualify someone or are reactivated)."""
    with transaction(conn):
        conn.executemany(
            "UPDATE trigger_campaigns SET at_risk_notified_at = ? WHERE instance = ? AND campaign_id = ?",
            [(now.timestamp(), instance, cid) for cid in campaign_ids],
        )
