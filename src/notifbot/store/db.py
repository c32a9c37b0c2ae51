"""Opens the SQLite database (WAL, pragmas) and applies the schema migrations on start."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import sqlite_utils

from notifbot.store.conn import Conn
from notifbot.store.dialect import dialect_of, install_sqlite_functions

C = TypeVar("C", bound=Conn)
migrations = sqlite_utils.Migrations("notifbot")


@contextmanager
def transaction(conn: C) -> Iterator[C]:
    """A write transaction (the dialect's BEGIN … COMMIT), rolled back on any exception, a failed COMMIT included.

    Connections run in autocommit mode; on SQLite BEGIN IMMEDIATE admits one writer at a time.
    """
    conn.execute(dialect_of(conn).begin)
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite leaves the transaction open when a COMMIT fails (busy, I/O error)
            conn.execute("ROLLBACK")
        raise


@migrations()
def m001_events_and_outbox(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            original_kind TEXT,
            severity TEXT NOT NULL,
            instance TEXT,
            occurred_at TEXT NOT NULL,
            received_at TEXT NOT NULL,
            summary TEXT,
            fields TEXT NOT NULL,
            labels TEXT NOT NULL,
            source TEXT NOT NULL,
            routed_to TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX events_kind ON events (kind)")  # with the implicit rowid: newest of a kind first
    db.execute(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            event_id INTEGER NOT NULL REFERENCES events (id),
            destination TEXT NOT NULL,
            dest_type TEXT NOT NULL,
            target TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            last_error TEXT,
            claimed_by TEXT,
            lease_until REAL,
            provider_message_id TEXT,
            created_at REAL NOT NULL,
            delivered_at REAL,
            UNIQUE (event_id, destination)
        )
        """
    )
    db.execute("CREATE INDEX outbox_target ON outbox (dest_type, target, status)")


def connect(path: str | Path, *, synchronous: str = "full") -> sqlite3.Connection:
    """A connection with the house pragmas; creates the parent folder and applies pending migrations."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30.0, isolation_level=None)
    conn.row_factory = sqlite3.Row
    install_sqlite_functions(conn)
    if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
        # a new file: pruned pages can go back to the filesystem (store/retention.py); an existing one keeps its
        # mode until `notifbot prune --vacuum` rewrites it
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    migrate(conn)
    return conn


def connect_read_only(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to an existing database: never creates the file or its folder, never migrates."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30.0, isolation_level=None)
    conn.row_factory = sqlite3.Row
    install_sqlite_functions(conn)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


# sqlite-utils records applied migrations by name. Until issue #11 two migrations shared the number m004, and the
# ones after them were renumbered; databases made before keep the old names, rewritten here before anything runs.
RENAMED = {
    "m004_teams_subscriptions_and_inbox": "m005_teams_subscriptions_and_inbox",
    "m005_outbox_unsure_attempts": "m006_outbox_unsure_attempts",
    "m006_trigger_created_at_and_ack_source": "m007_trigger_created_at_and_ack_source",
    "m007_readiness_probe": "m008_readiness_probe",
}


def _rename_recorded(conn: sqlite3.Connection) -> None:
    """Rewrites migration names recorded under their old numbers (RENAMED), so none of them runs again."""
    table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (migrations.migrations_table,)
    ).fetchone()
    if table is None:
        return
    old = ", ".join("?" * len(RENAMED))
    query = f"SELECT name FROM {migrations.migrations_table} WHERE migration_set = ? AND name IN ({old})"
    if conn.execute(query, (migrations.name, *RENAMED)).fetchone() is None:
        return
    with transaction(conn):
        for before, after in RENAMED.items():  # no old name is a new one, so the order does not matter
            conn.execute(
                f"UPDATE {migrations.migrations_table} SET name = ? WHERE migration_set = ? AND name = ?",
                (after, migrations.name, before),
            )


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Applies pending migrations (after renaming old records); returns the names it applied."""
    _rename_recorded(conn)
    db = sqlite_utils.Database(conn)
    pending = [m.name for m in migrations.pending(db)]
    if pending:
        migrations.apply(db)
    return pending


@migrations()
def m002_mutes_acks_and_marketo_state(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE mutes (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            until REAL NOT NULL,
            author TEXT NOT NULL,
            reason TEXT,
            created_at REAL NOT NULL,
            ended_at REAL,
            ended_by TEXT
        )
        """
    )
    db.execute("CREATE INDEX mutes_active ON mutes (kind, until)")
    db.execute("ALTER TABLE events ADD COLUMN muted_by INTEGER REFERENCES mutes (id)")
    db.execute("ALTER TABLE outbox ADD COLUMN acked_by TEXT")
    db.execute("ALTER TABLE outbox ADD COLUMN acked_at REAL")
    db.execute(
        "CREATE INDEX outbox_message ON outbox (target, provider_message_id) WHERE provider_message_id IS NOT NULL"
    )
    # What the Marketo pollers observe; the /marketo quota and stale-triggers commands read it.
    db.execute(
        """
        CREATE TABLE quota_samples (
            id INTEGER PRIMARY KEY,
            instance TEXT NOT NULL,
            sampled_at REAL NOT NULL,
            day TEXT NOT NULL,
            used INTEGER NOT NULL,
            quota INTEGER NOT NULL,
            users TEXT NOT NULL DEFAULT '[]',
            errors TEXT NOT NULL DEFAULT '{}'
        )
        """
    )
    db.execute("CREATE INDEX quota_samples_instance ON quota_samples (instance, sampled_at)")
    db.execute(
        """
        CREATE TABLE trigger_campaigns (
            instance TEXT NOT NULL,
            campaign_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            program_name TEXT,
            url TEXT,
            is_active INTEGER NOT NULL,
            last_activity_at TEXT,
            observed_since TEXT NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (instance, campaign_id)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE poller_state (
            instance TEXT NOT NULL,
            poller TEXT NOT NULL,
            cursor TEXT,
            last_success_at REAL,
            last_error TEXT,
            last_error_at REAL,
            day TEXT,
            calls_today INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (instance, poller)
        )
        """
    )


@migrations()
def m003_partial_indexes_for_status(db: sqlite_utils.Database) -> None:
    # Only open rows and muted events are indexed: counting them stays cheap at any history size, and the
    # common ingest path (a delivered row, an unmuted event) pays almost nothing for it.
    db.execute("CREATE INDEX outbox_open ON outbox (status) WHERE status IN ('pending', 'dead')")
    db.execute("CREATE INDEX events_muted ON events (muted_by) WHERE muted_by IS NOT NULL")


@migrations()
def m004_marketo_trigger_health(db: sqlite_utils.Database) -> None:
    # Marketo's own cleanup notices (stage, date) and our at-risk warnings live beside each campaign; activity is
    # kept per campaign id, trigger or not, so a scan that runs before the first campaign refresh loses nothing.
    columns = (
        "cleanup_stage TEXT",
        "cleanup_on TEXT",
        "at_risk_notified_at REAL",
        "seen_at REAL",
        "active_since TEXT",
    )
    for column in columns:
        db.execute(f"ALTER TABLE trigger_campaigns ADD COLUMN {column}")
    db.execute(
        """
        CREATE TABLE campaign_activity (
            instance TEXT NOT NULL,
            campaign_id INTEGER NOT NULL,
            last_activity_at TEXT NOT NULL,
            PRIMARY KEY (instance, campaign_id)
        )
        """
    )


@migrations()
def m005_teams_subscriptions_and_inbox(db: sqlite_utils.Database) -> None:
    # Graph change-notification subscriptions (one per Teams command channel) and the queue of notifications
    # received: POST /teams/notifications commits a row and answers 202; a worker reads and answers them.
    db.execute(
        """
        CREATE TABLE teams_subscriptions (
            id TEXT PRIMARY KEY,
            resource TEXT NOT NULL UNIQUE,
            client_state TEXT NOT NULL,
            expires_at REAL NOT NULL,
            created_at REAL NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE teams_inbox (
            id INTEGER PRIMARY KEY,
            resource TEXT NOT NULL UNIQUE,
            subscription_id TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            last_error TEXT,
            reply_id TEXT,
            received_at REAL NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX teams_inbox_due ON teams_inbox (next_attempt_at) WHERE status = 'pending'")


@migrations()
def m006_outbox_unsure_attempts(db: sqlite_utils.Database) -> None:
    # unsure_since: when the first attempt that may have reached the destination began (a timeout or lost answer,
    # or a claim that expired mid-send); a retry of such a row looks for the earlier post before posting again.
    # claimed_at: when the current claim began, so that an abandoned claim tells how far back to look.
    db.execute("ALTER TABLE outbox ADD COLUMN unsure_since REAL")
    db.execute("ALTER TABLE outbox ADD COLUMN claimed_at REAL")


@migrations()
def m007_trigger_created_at_and_ack_source(db: sqlite_utils.Database) -> None:
    # createdAt bounds a trigger campaign's idle time; `predates_watch` marks campaigns already active when
    # notifbot first listed the instance (their idle clock may have started before it watched). `acked_via`
    # names the message that acknowledged an alert, so a retried ack is recognised as the same ack.
    db.execute("ALTER TABLE trigger_campaigns ADD COLUMN created_at TEXT")
    db.execute("ALTER TABLE trigger_campaigns ADD COLUMN predates_watch INTEGER NOT NULL DEFAULT 0")
    db.execute(
        "UPDATE trigger_campaigns SET predates_watch = 1 WHERE seen_at IS NOT NULL AND active_since IS NULL"
        " AND observed_since = (SELECT min(t.observed_since) FROM trigger_campaigns t"
        " WHERE t.instance = trigger_campaigns.instance AND t.seen_at IS NOT NULL)"
    )
    db.execute("ALTER TABLE outbox ADD COLUMN acked_via TEXT")


@migrations()
def m008_readiness_probe(db: sqlite_utils.Database) -> None:
    # /readyz commits one row here (store/health.py): only a real commit shows a full disk or a read-only file.
    db.execute("CREATE TABLE readiness_probe (id INTEGER PRIMARY KEY, at REAL NOT NULL)")


@migrations()
def m009_adobe_io_key_paths(db: sqlite_utils.Database) -> None:
    # Adobe I/O key paths that verified a genuine signature (sources/adobe_io/signature.py): after a restart they
    # are fetched without waiting for the rate limit that unauthenticated, never-verified paths are subject to.
    db.execute("CREATE TABLE adobe_io_key_paths (path TEXT PRIMARY KEY, verified_at REAL NOT NULL)")


@migrations()
def m010_email_cursors(db: sqlite_utils.Database) -> None:
    # Per (mailbox, folder): the highest IMAP UID read, valid only under its UIDVALIDITY (sources/email/reader.py).
    db.execute(
        """
        CREATE TABLE email_cursors (
            mailbox TEXT NOT NULL,
            folder TEXT NOT NULL,
            uidvalidity INTEGER NOT NULL,
            last_uid INTEGER NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (mailbox, folder)
        )
        """
    )


@migrations()
def m011_graph_mail_cursors(db: sqlite_utils.Database) -> None:
    # Per (mailbox, folder) read through Microsoft Graph: the @odata.deltaLink to resume the folder's delta query
    # from, saved once a page's mail is committed and marked (sources/email/graph_reader.py).
    db.execute(
        """
        CREATE TABLE graph_mail_cursors (
            mailbox TEXT NOT NULL,
            folder TEXT NOT NULL,
            delta_link TEXT NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (mailbox, folder)
        )
        """
    )


@migrations()
def m012_outbox_priority(db: sqlite_utils.Database) -> None:
    # Within a channel the most severe due row is sent first (store/outbox.py claim_next): `priority` is the event's
    # severity as a number (model.Severity.priority, frozen here as it was: critical 2, warning 1, info 0), filled
    # for the rows that can still be sent (pending, and dead ones a retry may requeue); delivered history keeps 0.
    # outbox_claim serves the claim as one ordered seek; it starts with outbox_target's columns, which it replaces.
    db.execute("ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0")
    db.execute(
        "UPDATE outbox SET priority = CASE (SELECT severity FROM events WHERE events.id = outbox.event_id)"
        " WHEN 'critical' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END WHERE status IN ('pending', 'dead')"
    )
    db.execute("CREATE INDEX outbox_claim ON outbox (dest_type, target, status, priority DESC, id)")
    db.execute("DROP INDEX outbox_target")


@migrations()
def m013_alert_groups(db: sqlite_utils.Database) -> None:
    # One row per group episode at one destination (groups.py decides, store/groups.py records): its message, its
    # counts and its state. A group's outbox row (outbox.group_id) is re-armed whenever the group has something due.
    db.execute(
        """
        CREATE TABLE alert_groups (
            id INTEGER PRIMARY KEY,
            key_id TEXT NOT NULL,
            group_key TEXT NOT NULL,
            destination TEXT NOT NULL,
            by_keys TEXT NOT NULL,
            wait_seconds REAL NOT NULL,
            interval_seconds REAL NOT NULL,
            repeat_seconds REAL NOT NULL,
            thread INTEGER NOT NULL,
            first_event_id INTEGER NOT NULL REFERENCES events (id),
            last_event_id INTEGER NOT NULL REFERENCES events (id),
            severity TEXT NOT NULL,
            opened_at REAL NOT NULL,
            last_seen REAL NOT NULL,
            count INTEGER NOT NULL DEFAULT 1,
            shown INTEGER NOT NULL DEFAULT 0,
            listed INTEGER NOT NULL DEFAULT 0,
            message_id TEXT,
            posted_at REAL,
            edited_at REAL,
            replied_at REAL,
            state TEXT NOT NULL DEFAULT 'firing',
            shown_state TEXT NOT NULL DEFAULT 'firing',
            closed INTEGER NOT NULL DEFAULT 0,
            reply_goal INTEGER NOT NULL DEFAULT 0,
            told_resolved INTEGER NOT NULL DEFAULT 0,
            resolved_at REAL,
            acked INTEGER NOT NULL DEFAULT 0,
            shown_acked INTEGER NOT NULL DEFAULT 0,
            remind_after REAL,
            remind_max INTEGER,
            remind_least TEXT,
            remind_mention TEXT,
            reminded_at REAL,
            reminders INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    # at most one open episode per (destination, key): a join finds it through this index
    db.execute("CREATE UNIQUE INDEX alert_groups_open ON alert_groups (key_id) WHERE closed = 0")
    db.execute(
        """
        CREATE TABLE alert_group_events (
            group_id INTEGER NOT NULL REFERENCES alert_groups (id),
            seq INTEGER NOT NULL,
            event_id INTEGER NOT NULL REFERENCES events (id),
            PRIMARY KEY (group_id, seq)
        ) WITHOUT ROWID
        """
    )
    db.execute("ALTER TABLE outbox ADD COLUMN group_id INTEGER REFERENCES alert_groups (id)")
    db.execute(
        "CREATE INDEX outbox_group ON outbox (group_id) WHERE group_id IS NOT NULL"
    )  # each join re-arms it
    db.execute(
        "CREATE INDEX alert_group_events_event ON alert_group_events (event_id)"
    )  # `recent`: an event's group
    # scoped mutes: route-style key=value matchers (JSON pairs) besides the kind; NULL: the kind alone
    db.execute("ALTER TABLE mutes ADD COLUMN matchers TEXT")
    # an event saying its problem is over ("status": "resolved") resolves its open group instead of joining it
    db.execute("ALTER TABLE events ADD COLUMN status TEXT NOT NULL DEFAULT 'firing'")


@migrations()
def m014_digests(db: sqlite_utils.Database) -> None:
    # One row per digest period at one destination (digests.py computes the period, store/digests.py records): the
    # first event of a period creates it with its one outbox row (outbox.digest_id), due at the period's end, so an
    # empty period posts nothing. `sealed` is set when the worker first reads it: later events go to the next period.
    db.execute(
        """
        CREATE TABLE digests (
            id INTEGER PRIMARY KEY,
            key_id TEXT NOT NULL,
            label TEXT NOT NULL,
            destination TEXT NOT NULL,
            every_seconds REAL NOT NULL,
            at TEXT NOT NULL,
            timezone TEXT NOT NULL,
            period_start REAL NOT NULL,
            period_end REAL NOT NULL,
            first_event_id INTEGER NOT NULL REFERENCES events (id),
            severity TEXT NOT NULL,
            count INTEGER NOT NULL DEFAULT 1,
            last_seen REAL NOT NULL,
            sealed INTEGER NOT NULL DEFAULT 0,
            UNIQUE (key_id, period_end)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE digest_events (
            digest_id INTEGER NOT NULL REFERENCES digests (id),
            seq INTEGER NOT NULL,
            event_id INTEGER NOT NULL REFERENCES events (id),
            PRIMARY KEY (digest_id, seq)
        ) WITHOUT ROWID
        """
    )
    db.execute("ALTER TABLE outbox ADD COLUMN digest_id INTEGER REFERENCES digests (id)")
    db.execute("CREATE INDEX outbox_digest ON outbox (digest_id) WHERE digest_id IS NOT NULL")
    db.execute("CREATE INDEX digest_events_event ON digest_events (event_id)")  # `recent`: an event's digest


@migrations()
def m015_retention(db: sqlite_utils.Database) -> None:
    # What pruning (store/retention.py) seeks instead of scanning (old events are walked by id, no index needed): the
    # finished groups and digests oldest first, and whether a group or digest still names an event it would delete.
    db.execute("CREATE INDEX alert_groups_closed ON alert_groups (last_seen) WHERE closed = 1")
    db.execute("CREATE INDEX alert_groups_first_event ON alert_groups (first_event_id)")
    db.execute("CREATE INDEX alert_groups_last_event ON alert_groups (last_event_id)")
    db.execute("CREATE INDEX digests_sealed ON digests (period_end) WHERE sealed = 1")
    db.execute("CREATE INDEX digests_first_event ON digests (first_event_id)")


@migrations()
def m016_replicas_and_leases(db: sqlite_utils.Database) -> None:
    # Several replicas on one database (docs/design/postgres.md §7, store/leases.py, store/replicas.py): one replica
    # drains a channel at a time, one runs each poller, and each says it is alive. Times are epoch seconds.
    db.execute(
        """
        CREATE TABLE channel_leases (
            dest_type TEXT NOT NULL,
            target TEXT NOT NULL,
            holder TEXT NOT NULL,
            lease_until REAL NOT NULL,
            PRIMARY KEY (dest_type, target)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE poller_leases (
            name TEXT NOT NULL PRIMARY KEY,
            holder TEXT NOT NULL,
            lease_until REAL NOT NULL,
            taken_at REAL NOT NULL,
            beat_at REAL NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE replicas (
            id TEXT NOT NULL PRIMARY KEY,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            version TEXT NOT NULL,
            started_at REAL NOT NULL,
            beat_at REAL NOT NULL
        )
        """
    )


@migrations()
def m017_list_indexes(db: sqlite_utils.Database) -> None:
    # The console lists events newest first by id (commands/listing.py) and open outbox rows newest event first
    # (store/outbox.py), a page at a time by keyset: three indexes are replaced by ones that hold that order, so a
    # page is one ordered range. A kind: SQLite's (kind) already ended in the rowid, PostgreSQL's did not and sorted
    # every row of a rare kind. Open rows: 100,000 pending during an outage were all read and sorted for 50. Muted
    # events: indexed by mute, nothing read them by id; SQLite walked the whole table instead. Each keeps its rows.
    db.execute("DROP INDEX events_kind")
    db.execute("CREATE INDEX events_kind ON events (kind, id)")
    db.execute("DROP INDEX events_muted")
    db.execute("CREATE INDEX events_muted ON events (id) WHERE muted_by IS NOT NULL")
    db.execute("DROP INDEX outbox_open")
    db.execute(
        "CREATE INDEX outbox_open ON outbox (status, event_id, id) WHERE status IN ('pending', 'dead')"
    )
