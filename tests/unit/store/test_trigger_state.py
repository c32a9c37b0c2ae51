"""store/trigger_state.py on both backends: campaign snapshots, activity, cleanup notices and at-risk warnings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from notifbot.store.idle import julian_day
from notifbot.store.trigger_state import (
    ACTIVITY_POLLER,
    CampaignRecord,
    apply_activity,
    apply_campaign_snapshot,
    apply_cleanup_notice,
    at_risk_unannounced,
    idle_campaigns,
    mark_at_risk_announced,
    undecided_at,
)

T0 = datetime(2026, 6, 1, tzinfo=UTC)


def campaigns(conn: Any) -> dict[int, tuple[Any, ...]]:
    rows = conn.execute(
        "SELECT campaign_id, is_active, predates_watch, last_activity_at, program_name, url, cleanup_stage"
        " FROM trigger_campaigns ORDER BY campaign_id"
    ).fetchall()
    return {int(r[0]): tuple(r[1:]) for r in rows}


def test_snapshots_insert_reactivate_and_deactivate(store_conn: Any) -> None:
    # activity seen before the first list is taken over when the campaign is first listed
    apply_activity(store_conn, "i", {1: "2026-05-20T00:00:00Z"}, ACTIVITY_POLLER, "{}", T0, 3)
    first = apply_campaign_snapshot(store_conn, "i", [CampaignRecord(1, "a"), CampaignRecord(2, "b")], T0)
    assert (first.active, first.new, first.reactivated, first.deactivated) == (2, 2, 0, 0)
    later = T0 + timedelta(hours=6)
    second = apply_campaign_snapshot(store_conn, "i", [CampaignRecord(1, "a", program_name="P")], later)
    assert (second.new, second.deactivated) == (0, 1)
    third = apply_campaign_snapshot(
        store_conn, "i", [CampaignRecord(1, "a"), CampaignRecord(2, "b")], later + timedelta(hours=6)
    )
    assert third.reactivated == 1
    assert campaigns(store_conn) == {
        1: (1, 1, "2026-05-20T00:00:00Z", "P", None, None),  # program name kept when a later list lacks it
        2: (1, 0, None, None, None, None),  # reactivated: its clock restarted, no longer predating the watch
    }


def test_only_newer_activity_wins(store_conn: Any) -> None:
    apply_campaign_snapshot(store_conn, "i", [CampaignRecord(1, "a")], T0)
    apply_activity(
        store_conn, "i", {1: "2026-06-02T00:00:00Z", 7: "2026-06-02T00:00:00Z"}, ACTIVITY_POLLER, "c1", T0, 1
    )
    apply_activity(
        store_conn, "i", {1: "2026-06-01T00:00:00Z", 7: "2026-06-03T00:00:00Z"}, ACTIVITY_POLLER, "c2", T0, 2
    )
    newest = store_conn.execute(
        "SELECT campaign_id, last_activity_at FROM campaign_activity ORDER BY campaign_id"
    )
    assert [tuple(r) for r in newest.fetchall()] == [(1, "2026-06-02T00:00:00Z"), (7, "2026-06-03T00:00:00Z")]
    assert campaigns(store_conn)[1][2] == "2026-06-02T00:00:00Z"
    cursor = store_conn.execute(
        "SELECT cursor, calls_today FROM poller_state WHERE instance = 'i'"
    ).fetchone()
    assert tuple(cursor) == ("c2", 2)


def test_cleanup_notices_upsert_without_losing_what_is_known(store_conn: Any) -> None:
    apply_campaign_snapshot(
        store_conn, "i", [CampaignRecord(1, "a", url="https://x/1", program_name="P")], T0
    )
    named = apply_cleanup_notice(
        store_conn,
        "i",
        "scheduled",
        "2026-07-01",
        [
            {"id": 1, "name": "a", "url": "https://other/1"},
            {"id": "2", "name": "b", "program_name": "Q"},
            {"id": "x"},
        ],
        T0,
    )
    assert named == 2
    assert campaigns(store_conn) == {
        1: (1, 1, None, "P", "https://x/1", "scheduled"),  # our program and url kept
        2: (1, 0, None, "Q", None, "scheduled"),
    }
    apply_cleanup_notice(store_conn, "i", "deactivated", None, [{"id": 2, "name": "b"}], T0)
    assert campaigns(store_conn)[2] == (0, 0, None, "Q", None, "deactivated")


def test_at_risk_campaigns_are_announced_once(store_conn: Any) -> None:
    old = "2025-01-01T00:00:00Z"
    apply_campaign_snapshot(
        store_conn,
        "i",
        [CampaignRecord(1, "old", created_at=old), CampaignRecord(2, "young", created_at=old)],
        T0,
    )
    cursor = json.dumps({"covered_from": "2026-01-01T00:00:00Z"})
    apply_activity(store_conn, "i", {2: "2026-06-01T00:00:00Z"}, ACTIVITY_POLLER, cursor, T0, 1)
    now = datetime(2026, 6, 10, tzinfo=UTC)
    idle = idle_campaigns(store_conn, now)
    assert [(i.row.campaign_id, i.basis, i.days) for i in idle] == [(1, "at_least", 160), (2, "activity", 9)]
    assert idle[0].jd == julian_day(datetime(2026, 1, 1, tzinfo=UTC))
    risky = at_risk_unannounced(store_conn, "i", now, 150)
    assert [(r.campaign_id, r.idle_days, r.at_least) for r in risky] == [(1, 160, True)]
    assert at_risk_unannounced(store_conn, "other", now, 150) == []
    mark_at_risk_announced(store_conn, "i", [1], now)
    assert at_risk_unannounced(store_conn, "i", now + timedelta(days=5), 150) == []
    # only a scan deeper than the coverage could tell how long campaign 1 has been idle
    assert undecided_at(store_conn, "i", datetime(2025, 12, 1, tzinfo=UTC))
    assert not undecided_at(store_conn, "i", datetime(2024, 12, 1, tzinfo=UTC))  # created after that
