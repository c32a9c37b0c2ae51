"""The store the console's browser tests read: stored through the store API before the bot starts.

Events of four kinds in every status the notification list shows, more than one page of them; dead outbox rows for
the Retry tests (the newest events, so their rows lead the outbox page); one Marketo instance's quota samples since
the last reset at midnight US Central.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from notifbot.central_time import central_date, last_central_midnight
from notifbot.commands.queries import QuotaSample
from notifbot.sources.events import parse_event
from notifbot.store import outbox
from notifbot.store.acks import acknowledge
from notifbot.store.conn import Conn
from notifbot.store.db import connect
from notifbot.store.events import Target, insert_notifications
from notifbot.store.marketo_state import insert_quota_sample
from notifbot.store.mutes import add_mute

CONSOLE = Target("console", "console", "stdout")  # delivered by printing: no chat service needed
KINDS = ("audit", "crm_sync", "campaign_failure", "web_services")
# every status the list shows (commands/listing.py) but "dead"; "pending" waits for a retry an hour away
STATUSES = ("delivered", "pending", "acknowledged", "muted", "not routed")
DEAD_EVERY = (
    25  # a few dead events besides the Retry tests' rows: each is a row of the outbox page axe checks
)
LISTED = 62  # events besides the Retry tests' own: with those, more than one page of 50
RETRY_ROWS = 4  # dead rows for the tests that retry (or try to), one each
INSTANCE = "123-ABC-456"
QUOTA = 50_000
USED = (21_000, 24_500, 27_250, 31_000)  # rising, so the forecast has a rate to speak of
DEAD_ERROR = "channel_not_found"


@dataclass
class Seeded:
    """What was stored: each event's kind and status by id; the Retry tests' dead rows; the quota samples."""

    events: dict[int, tuple[str, str]] = field(default_factory=dict)
    retry_events: list[int] = field(default_factory=list)
    dead: list[int] = field(
        default_factory=list
    )  # the Retry tests' rows, newest first as the outbox lists them
    samples: list[QuotaSample] = field(default_factory=list)


def seed(db: Path) -> Seeded:
    """Stores it all and commits before the bot starts (so no worker touches a row first)."""
    conn = connect(db)
    try:
        seeded = Seeded()
        now = time.time()
        mutes: dict[str, int] = {}  # kind → the mute that silenced its muted events
        for i in range(LISTED):
            kind = KINDS[i % len(KINDS)]
            status = "dead" if i % DEAD_EVERY == DEAD_EVERY - 1 else STATUSES[i % len(STATUSES)]
            if status == "muted" and kind not in mutes:
                until = datetime.now(UTC) + timedelta(hours=2)
                mutes[kind] = add_mute(conn, kind, until, "U0TEST", "seeded", datetime.now(UTC)).id
            event_id = _event(conn, f"listed-{i}", kind, status, mutes.get(kind), now)
            seeded.events[event_id] = (kind, status)
        for i in range(RETRY_ROWS):
            event_id = _event(conn, f"retry-{i}", "audit", "dead", None, now)
            seeded.retry_events.append(event_id)
            seeded.dead.insert(0, _row_of(conn, event_id))
        seeded.samples = _quota_samples(conn, now)
        return seeded
    finally:
        conn.close()


def _event(conn: Conn, key: str, kind: str, status: str, mute: int | None, now: float) -> int:
    """One event whose delivery ends in `status`; its id. Each row is claimed as soon as it exists, so the claim
    takes this one (rows left pending wait an hour, and are never due while later ones are seeded)."""
    event = parse_event({"kind": kind, "id": key}, now=datetime.now(UTC))
    targets = [] if status == "not routed" else [CONSOLE]
    muted = {event.key: mute} if status == "muted" and mute is not None else None
    (accepted,) = insert_notifications(conn, [(event, targets)], muted, now=now)
    if status in ("not routed", "muted"):
        return accepted.event_id
    row = outbox.claim_next(conn, CONSOLE.dest_type, CONSOLE.target, "seed", now, 30)
    assert row is not None and row.event_id == accepted.event_id
    if status == "dead":
        outbox.mark_dead(conn, row.id, "seed", DEAD_ERROR)
    elif status == "pending":
        outbox.mark_retry(conn, row.id, "seed", "rate_limited", now + 3600)
    else:
        outbox.mark_delivered(conn, row.id, "seed", f"ts-{key}", now)
        if status == "acknowledged":
            assert acknowledge(conn, CONSOLE.target, f"ts-{key}", "U0TEST", now) is not None
    return accepted.event_id


def _row_of(conn: Conn, event_id: int) -> int:
    return int(conn.execute("SELECT id FROM outbox WHERE event_id = ?", (event_id,)).fetchone()[0])


def _quota_samples(conn: Conn, now: float) -> list[QuotaSample]:
    """Readings over the last hour, or over the part of today there is just after the reset (whole seconds)."""
    span = min(now - last_central_midnight(datetime.fromtimestamp(now, UTC)).timestamp(), 3600.0)
    samples = []
    for share, used in zip((0.8, 0.55, 0.3, 0.02), USED, strict=True):
        at = float(int(now - span * share))
        day = central_date(datetime.fromtimestamp(at, UTC)).isoformat()
        users, errors = [{"userId": "api-user@example.com", "count": used}], {"606": 3}
        insert_quota_sample(conn, INSTANCE, at, day, used, QUOTA, users, errors)
        samples.append(QuotaSample(INSTANCE, at, day, used, QUOTA, users, errors))
    return samples
