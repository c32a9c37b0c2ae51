"""One event's deliveries on both backends: its own rows, its alert group's and its digest's, with acks and errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifbot.digests import DigestPolicy, DigestRef
from notifbot.groups import GroupPolicy, GroupRef
from notifbot.sources.events import parse_event
from notifbot.store import outbox
from notifbot.store.conn import Conn
from notifbot.store.event_detail import Delivery, deliveries_of
from notifbot.store.events import Target, insert_notifications

NOW = datetime(2026, 12, 1, tzinfo=UTC)
T0 = 2e9
GROUP = GroupRef(
    "g", "kind=campaign_failure", GroupPolicy((), timedelta(0), timedelta(minutes=5), timedelta(hours=4))
)
DIGEST = DigestRef("d", "kind=crm_sync", DigestPolicy(timedelta(hours=1), datetime.min.time(), "UTC"))


def store(conn: Conn, key: str, kind: str, *targets: Target) -> int:
    n = parse_event({"kind": kind, "id": key}, now=NOW)
    [accepted] = insert_notifications(conn, [(n, list(targets))], now=T0)
    return accepted.event_id


def test_own_rows_each_destination_with_its_state(store_conn: Conn) -> None:
    conn = store_conn
    event = store(conn, "a", "audit", Target("ops", "slack", "C1"), Target("mail", "email", "ops@x"))
    store(conn, "b", "audit", Target("ops", "slack", "C1"))  # another event's row is not listed
    row = outbox.claim_next(conn, "slack", "C1", "w", T0, 30)
    assert row is not None and row.event_id == event
    outbox.mark_dead(conn, row.id, "w", "channel_not_found")
    conn.execute("UPDATE outbox SET acked_by = 'U1', acked_at = ? WHERE destination = 'mail'", (T0 + 5,))
    mail, ops = deliveries_of(conn, event)
    assert ops == Delivery(
        row.id, "ops", "slack", "C1", "dead", 1, "channel_not_found", T0, None, None, None, "own"
    )
    assert (mail.destination, mail.status, mail.acked_by, mail.acked_at, mail.via) == (
        "mail",
        "pending",
        "U1",
        T0 + 5,
        "own",
    )
    assert deliveries_of(conn, 999_999) == []


def test_an_event_in_a_group_or_a_digest_is_carried_by_that_row(store_conn: Conn) -> None:
    conn = store_conn
    first = store(conn, "g1", "campaign_failure", Target("ops", "slack", "C2", GROUP))
    second = store(conn, "g2", "campaign_failure", Target("ops", "slack", "C2", GROUP))
    digested = store(conn, "d1", "crm_sync", Target("crm", "slack", "C3", digest=DIGEST))
    unrouted = store(conn, "u1", "audit")
    (group_row,) = deliveries_of(conn, first)
    assert (group_row.via, group_row.count, group_row.state, group_row.destination) == (
        "group",
        2,
        "firing",
        "ops",
    )
    assert deliveries_of(conn, second) == [group_row]
    (digest_row,) = deliveries_of(conn, digested)
    assert (digest_row.via, digest_row.count, digest_row.label, digest_row.state) == (
        "digest",
        1,
        "kind=crm_sync",
        None,
    )
    assert digest_row.period_end is not None and digest_row.period_end > T0
    assert deliveries_of(conn, unrouted) == []
