"""Trigger-campaign state: which campaigns predate notifbot's watch, their createdAt, and the upgrade of old rows."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from notifbot.store import db as store_db
from notifbot.store.db import connect, migrate
from notifbot.store.trigger_state import CampaignRecord, apply_campaign_snapshot, undecided_at

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def rows(conn: sqlite3.Connection) -> dict[tuple[str, int], tuple[int, str | None]]:
    return {
        (r[0], r[1]): (r[2], r[3])
        for r in conn.execute(
            "SELECT instance, campaign_id, predates_watch, created_at FROM trigger_campaigns"
        )
    }


def test_the_first_list_predates_the_watch_and_later_arrivals_do_not(tmp_path: Path) -> None:
    conn = connect(tmp_path / "n.db")
    old = "2024-01-05T10:00:00Z"
    a, b, c = CampaignRecord(1, "a"), CampaignRecord(2, "b"), CampaignRecord(3, "c")

    def listed(hours: int, *campaigns: CampaignRecord, instance: str = "i") -> None:
        apply_campaign_snapshot(conn, instance, list(campaigns), T0 + timedelta(hours=hours))

    listed(0, CampaignRecord(1, "a", created_at=old), b)
    listed(6, a, CampaignRecord(2, "b", created_at=old), CampaignRecord(3, "c", created_at=old))
    listed(6, CampaignRecord(9, "z"), instance="j")  # another instance's first list
    assert rows(conn) == {
        ("i", 1): (1, old),  # createdAt kept when a later list lacks it
        ("i", 2): (1, old),
        ("i", 3): (0, old),  # activated while notifbot watched: its idle clock started then
        ("j", 9): (1, None),
    }
    listed(12, a, c)  # 2 no longer active
    listed(18, a, b, c)  # 2 active again
    assert rows(conn)[("i", 2)] == (0, old), "reactivated: its clock restarted when notifbot saw it"
    # only 1 still predates the watch with no activity seen: created long ago, so only a deeper scan decides it
    assert undecided_at(conn, "i", T0 - timedelta(days=150))
    assert not undecided_at(
        conn, "i", datetime(2023, 1, 1, tzinfo=UTC)
    )  # created after: it cannot be that idle
    conn.execute(
        "UPDATE trigger_campaigns SET last_activity_at = '2026-05-01T00:00:00Z' WHERE campaign_id = 1"
    )
    assert not undecided_at(conn, "i", T0 - timedelta(days=150))


def test_an_upgraded_database_marks_the_first_listed_campaigns(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    before = sqlite_utils.Migrations("notifbot")  # the migrations up to the one that adds created_at
    for m in store_db.migrations._migrations:
        if m.name == "m006_trigger_created_at_and_ack_source":
            break
        before(name=m.name)(m.fn)
    before.apply(sqlite_utils.Database(conn))
    insert = (
        "INSERT INTO trigger_campaigns (instance, campaign_id, name, is_active, observed_since, updated_at,"
        " seen_at, active_since) VALUES (?, ?, 'x', 1, ?, 0, ?, ?)"
    )
    conn.executemany(
        insert,
        [
            ("i", 1, "2026-06-01T00:00:00Z", 1.0, None),
            ("i", 2, "2026-06-02T00:00:00Z", 1.0, None),  # appeared a day later
            ("i", 3, "2026-06-01T00:00:00Z", 1.0, "2026-06-09T00:00:00Z"),  # reactivated since
            ("i", 4, "2026-05-01T00:00:00Z", None, None),  # from a cleanup notice, never listed
            ("j", 5, "2026-06-03T00:00:00Z", 1.0, None),
        ],
    )
    assert migrate(conn)[0] == "m006_trigger_created_at_and_ack_source"
    assert {k: v[0] for k, v in rows(conn).items()} == {
        ("i", 1): 1,
        ("i", 2): 0,
        ("i", 3): 0,
        ("i", 4): 0,
        ("j", 5): 1,
    }
    assert conn.execute(
        "SELECT count(*) FROM pragma_table_info('outbox') WHERE name = 'acked_via'"
    ).fetchone()[0]
