"""commands/marketo_queries.py on both store backends: stale trigger campaigns, recent cleanups, quota samples."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from notifbot.commands.marketo_queries import (
    quota_overview,
    recently_deactivated,
    sampled_instances,
    stale_triggers,
)

NOW = datetime(2026, 6, 10, tzinfo=UTC)
INSERT = (
    "INSERT INTO trigger_campaigns (instance, campaign_id, name, is_active, last_activity_at, observed_since,"
    " updated_at, cleanup_stage, cleanup_on, predates_watch, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def test_stale_triggers_counts_orders_and_limits(store_conn: Any) -> None:
    day = 86_400.0
    store_conn.executemany(
        INSERT,
        [
            ("i", 1, "b", 1, "2026-01-01T00:00:00Z", "2025-01-01T00:00:00Z", 0.0, None, None, 0, None),
            ("i", 2, "a", 1, "2026-01-01T00:00:00Z", "2025-01-01T00:00:00Z", 0.0, None, None, 0, None),
            ("i", 3, "c", 1, None, "2026-06-01T00:00:00Z", 0.0, "scheduled", "2026-06-09", 0, None),
            ("j", 4, "d", 1, None, "2026-06-05T12:00:00Z", 0.0, None, None, 1, "2020-01-01T00:00:00Z"),
            ("j", 5, "e", 1, None, "not a time", 0.0, None, None, 0, None),  # unreadable: never listed
            (
                "i",
                6,
                "f",
                0,
                None,
                "2026-01-01T00:00:00Z",
                NOW.timestamp() - 3 * day,
                "deactivated",
                None,
                0,
                None,
            ),
            (
                "i",
                7,
                "g",
                0,
                None,
                "2026-01-01T00:00:00Z",
                NOW.timestamp() - 100 * day,
                "deactivated",
                None,
                0,
                None,
            ),
        ],
    )
    # the scan covers j from 2026-06-01: campaign 4 predates the watch, created before: idle at least since then
    store_conn.execute(
        "INSERT INTO poller_state (instance, poller, cursor) VALUES ('j', 'activities', ?)",
        (json.dumps({"covered_from": "2026-06-01T00:00:00Z"}),),
    )
    result = stale_triggers(store_conn, 5, NOW, limit=2, risk_days=150)
    assert (result.tracked, result.active, result.idle_count, result.at_risk, result.due_passed) == (
        7,
        5,
        4,
        2,
        1,
    )
    assert [(t.campaign_id, t.idle_days, t.basis, t.seen_activity) for t in result.idle] == [
        (3, 180, "observed", False),  # Marketo scheduled its cleanup: idle 180 days whatever we saw
        (2, 160, "activity", True),  # the same idle time as 1: by name
    ]
    assert result.idle[0].cleanup_scheduled and result.idle[0].cleanup_due_passed
    assert result.idle[0].idle_since == NOW - timedelta(days=180)
    assert [c.campaign_id for c in result.deactivated] == [6]  # 7 was deactivated too long ago
    every = stale_triggers(store_conn, 0, NOW, limit=10)
    assert [(t.campaign_id, t.basis, t.idle_days) for t in every.idle][-1] == (4, "at_least", 9)
    assert [c.campaign_id for c in recently_deactivated(store_conn, NOW, days=120)] == [6, 7]


def test_quota_samples_per_instance(store_conn: Any) -> None:
    assert sampled_instances(store_conn) == []
    store_conn.executemany(
        "INSERT INTO quota_samples (instance, sampled_at, day, used, quota, users, errors) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            ("b", 100.0, "2026-06-09", 10, 50_000, "[]", "{}"),
            ("a", 200.0, "2026-06-10", 20, 50_000, '[{"userId": "u", "count": 20}]', '{"606": 2}'),
            ("a", 300.0, "2026-06-10", 30, 50_000, "not json", "[]"),
        ],
    )
    assert sampled_instances(store_conn) == ["a", "b"]
    views = {v.instance: v for v in quota_overview(store_conn, since=150.0)}
    assert views["a"].latest.used == 30 and [s.used for s in views["a"].today] == [20, 30]
    assert views["a"].today[0].users == [{"userId": "u", "count": 20}] and views["a"].today[0].errors == {
        "606": 2
    }
    assert views["b"].today == []  # its latest sample is older than `since`
