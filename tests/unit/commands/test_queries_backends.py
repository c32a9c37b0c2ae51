"""`recent` and `status_counts` give the same answers on both backends (the SQLite plans are test_queries.py's)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notifbot.commands import queries
from notifbot.digests import DigestPolicy, DigestRef
from notifbot.groups import GroupPolicy, GroupRef
from notifbot.sources.events import parse_event
from notifbot.store.conn import Conn
from notifbot.store.events import Target, insert_notifications
from notifbot.store.marketo_state import record_poll_success
from notifbot.store.mutes import add_mute

NOW = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
OPS = Target("ops", "slack", "C1")
GROUP = GroupRef(
    "g",
    "kind=campaign_failure",
    GroupPolicy(("kind",), timedelta(0), timedelta(minutes=5), timedelta(hours=4)),
)
DIGEST = DigestRef("d", "kind=crm_sync", DigestPolicy(timedelta(hours=1), datetime.min.time(), "UTC"))


def store(conn: Conn) -> None:
    items = [
        (parse_event({"kind": kind, "id": f"{kind}-{i}", "fields": {"n": i}}, now=NOW), [OPS])
        for i in range(30)
        for kind in ("audit", "deploy")
    ]
    insert_notifications(conn, items, now=NOW.timestamp())
    conn.execute("UPDATE outbox SET status = 'delivered', delivered_at = 1 WHERE id % 3 = 0")
    conn.execute("UPDATE outbox SET status = 'dead' WHERE id % 3 = 1")
    grouped = [
        (
            parse_event({"kind": "campaign_failure", "id": f"g{i}"}, now=NOW),
            [Target("ops", "slack", "C2", GROUP)],
        )
        for i in range(3)
    ]
    digested = [
        (
            parse_event({"kind": "crm_sync", "id": "d0"}, now=NOW),
            [Target("crm", "slack", "C3", digest=DIGEST)],
        )
    ]
    insert_notifications(conn, grouped + digested, now=NOW.timestamp())
    mute = add_mute(conn, "audit", NOW + timedelta(hours=1), "U1 (ana)", None, NOW)
    muted = parse_event({"kind": "audit", "id": "quiet"}, now=NOW)
    insert_notifications(conn, [(muted, [OPS])], {"quiet": mute.id}, now=NOW.timestamp())


def test_recent_lists_newest_first_with_what_happened(store_conn: Conn) -> None:
    conn = store_conn
    store(conn)
    page = queries.recent(conn, None, 6)
    assert page.total == 65
    assert [r.event_id for r in page.rows] == list(range(65, 59, -1))
    quiet, digest, *groups = page.rows[:5]
    assert (quiet.status, quiet.mute_kind, quiet.mute_author) == ("muted", "audit", "U1 (ana)")
    assert (digest.grouped, digest.status) == ("in a digest", "pending")
    assert [g.grouped for g in groups] == ["×3 group, firing"] * 3
    audits = queries.recent(conn, "audit", 50)
    assert audits.total == 31 and all(r.kind == "audit" for r in audits.rows)
    statuses = {r.status for r in audits.rows}
    assert statuses == {"muted", "delivered", "dead", "pending"}


def test_status_counts_on_each_backend(store_conn: Conn) -> None:
    conn = store_conn
    store(conn)
    record_poll_success(conn, "I1", "activities", NOW, 12)
    counts = queries.status_counts(conn, NOW.timestamp())
    assert (counts.events, counts.pending, counts.dead, counts.active_mutes) == (65, 22, 20, 1)
    assert counts.last_delivered_at == 1.0
    assert counts.groups == {"firing": 1}
    assert [(p.instance, p.poller, p.calls_today) for p in counts.pollers] == [("I1", "activities", 12)]


def test_the_total_stops_counting_past_the_cap_on_each_backend(
    store_conn: Conn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "COUNT_CAP", 10)
    events = [(parse_event({"kind": "audit", "id": f"a{i}"}, now=NOW), [OPS]) for i in range(25)]
    insert_notifications(store_conn, events, now=NOW.timestamp())
    page = queries.recent(store_conn, None, 5)
    assert (page.total, page.capped, len(page.rows)) == (11, True, 5)  # counted to the cap + 1, no further
    monkeypatch.setattr(queries, "COUNT_CAP", 25)
    page = queries.recent(store_conn, "audit", 5)
    assert (page.total, page.capped) == (25, False)
