"""Writes the SQL dumps of databases made by earlier releases, for the migration upgrade tests.

Run from a checkout with its git history: `python tests/data/store/make_old_databases.py`. Each dump is the schema
(and `_sqlite_migrations` record) that release's `store/db.py` creates, plus a few rows in the tables every release
since has kept, so an upgrade test can show that nothing is re-run and nothing is lost.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tempfile
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
RELEASES = {
    "b8f1018": "the release before issue #11 (two migrations named m004)",
    "8fb52ac": "main when issue #11 started (m001 … m007, the second m004 still among them)",
}
ROWS = [
    "INSERT INTO events (id, key, kind, severity, occurred_at, received_at, fields, labels, source, routed_to)"
    " VALUES (1, 'old-1', 'crm_sync', 'critical', '2026-11-28T10:00:00+00:00', '2026-11-28T10:00:01+00:00',"
    ' \'{"crm": "salesforce"}\', \'{"team": "emea"}\', \'webhook\', \'["ops"]\')',
    "INSERT INTO outbox (id, event_id, destination, dest_type, target, status, attempts, next_attempt_at,"
    " provider_message_id, created_at, delivered_at, acked_by, acked_at)"
    " VALUES (1, 1, 'ops', 'slack', 'C0123ABCD', 'delivered', 1, 0, '1764324001.000100', 1764324001.0,"
    " 1764324002.0, 'U0ADMIN', 1764324100.0)",
    "INSERT INTO mutes (id, kind, until, author, reason, created_at)"
    " VALUES (1, 'engagement', 1764410400.0, 'U0ADMIN', 'noisy', 1764324000.0)",
    "INSERT INTO trigger_campaigns (instance, campaign_id, name, is_active, observed_since, updated_at, seen_at,"
    " cleanup_stage) VALUES ('123-ABC-456', 1001, 'Old trigger', 1, '2026-06-01T00:00:00Z', 0, 1.0, 'scheduled')",
    "INSERT INTO campaign_activity (instance, campaign_id, last_activity_at)"
    " VALUES ('123-ABC-456', 1001, '2026-07-01T00:00:00Z')",
    "INSERT INTO teams_subscriptions (id, resource, client_state, expires_at, created_at)"
    " VALUES ('sub-1', 'teams/T/channels/C/messages', 'state-secret', 1764327600.0, 1764324000.0)",
]


def dump(commit: str) -> str:
    """The SQL dump of a database made by `commit`'s migrations, with ROWS in it."""
    source = subprocess.run(
        ["git", "show", f"{commit}:src/notifbot/store/db.py"], check=True, capture_output=True, text=True
    ).stdout
    module = types.ModuleType(f"notifbot_db_{commit}")
    exec(compile(source, f"{commit}:store/db.py", "exec"), module.__dict__)
    with tempfile.TemporaryDirectory() as tmp:
        conn: sqlite3.Connection = module.connect(Path(tmp) / "old.db")
        for row in ROWS:
            conn.execute(row)
        conn.execute("UPDATE _sqlite_migrations SET applied_at = '2026-11-29 00:00:00.000000+00:00'")
        text = "\n".join(conn.iterdump()) + "\n"
        conn.close()
    return f"-- a database made by notifbot {commit}: {RELEASES[commit]}\n-- {Path(__file__).name}\n" + text


def main() -> int:
    """Writes one `<commit>.sql` per release next to this file."""
    for commit in RELEASES:
        (HERE / f"{commit}.sql").write_text(dump(commit), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
