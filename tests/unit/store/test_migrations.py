"""Schema migrations: numbered once each, and databases made by earlier releases upgrade without re-running any.

The dumps in tests/data/store/ were written by `make_old_databases.py` from the releases' own `store/db.py`.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from notifbot.store.db import connect, migrate, migrations

DUMPS = Path(__file__).resolve().parents[2] / "data" / "store"


def _names() -> list[str]:
    return [m.name for m in migrations._migrations]


def _recorded(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = 'notifbot' ORDER BY id")
    return [r[0] for r in rows]


def _schema(conn: sqlite3.Connection) -> dict[str, object]:
    """Every table's columns (name, type, not null, default, pk) and every index's definition."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    out: dict[str, object] = {
        t: [tuple(c)[1:] for c in conn.execute(f"PRAGMA table_info('{t}')")] for t in tables
    }
    out["indexes"] = sorted(
        (r[0], r[1]) for r in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
    )
    return out


def _restore(dump: str, path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript((DUMPS / dump).read_text(encoding="utf-8"))
    conn.close()


def test_migration_numbers_are_unique_and_consecutive() -> None:
    numbers = [int(m.group(1)) for n in _names() if (m := re.fullmatch(r"m(\d{3})_[a-z0-9_]+", n))]
    assert len(numbers) == len(_names()), _names()
    assert numbers == list(range(1, len(numbers) + 1)), _names()


@pytest.mark.parametrize("dump", ["b8f1018.sql", "8fb52ac.sql"])
def test_an_older_database_upgrades_to_the_current_schema_and_keeps_its_rows(
    dump: str, tmp_path: Path
) -> None:
    _restore(dump, tmp_path / "old.db")
    fresh = connect(tmp_path / "fresh.db")
    upgraded = connect(tmp_path / "old.db")  # applies what is pending; must not re-run an applied migration
    assert _recorded(upgraded) == _names()
    assert _schema(upgraded) == _schema(fresh)
    assert migrate(upgraded) == []
    event = upgraded.execute("SELECT key, kind, fields, labels FROM events").fetchall()
    assert [tuple(r) for r in event] == [("old-1", "crm_sync", '{"crm": "salesforce"}', '{"team": "emea"}')]
    row = upgraded.execute("SELECT status, provider_message_id, acked_by FROM outbox WHERE id = 1").fetchone()
    assert tuple(row) == ("delivered", "1764324001.000100", "U0ADMIN")
    assert [tuple(r) for r in upgraded.execute("SELECT kind, reason FROM mutes")] == [("engagement", "noisy")]
    trigger = upgraded.execute("SELECT name, cleanup_stage FROM trigger_campaigns").fetchone()
    assert tuple(trigger) == ("Old trigger", "scheduled")
    sub = upgraded.execute("SELECT id, client_state FROM teams_subscriptions").fetchone()
    assert tuple(sub) == ("sub-1", "state-secret")
    upgraded.close()
    fresh.close()


@pytest.mark.parametrize(("dump", "recorded"), [("b8f1018.sql", 5), ("8fb52ac.sql", 8)])
def test_an_older_database_gets_exactly_the_migrations_it_lacked(
    dump: str, recorded: int, tmp_path: Path
) -> None:
    _restore(dump, tmp_path / "old.db")
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    assert (
        migrate(conn) == _names()[recorded:]
    )  # what the release recorded, whatever it called it, runs no more
    columns = {c[1] for c in conn.execute("PRAGMA table_info('outbox')")}
    assert {"unsure_since", "claimed_at", "acked_via"} <= columns
    conn.close()
