"""`notifbot prune` and `notifbot backup` against a real database file in the default place."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifbot.cli import main
from notifbot.sources.events import parse_event
from notifbot.store.db import connect
from notifbot.store.events import Target, insert_notifications

OLD = datetime.now(UTC) - timedelta(days=120)


def fill(path: Path, old: int, young: int) -> None:
    conn = connect(path)
    notes = [
        parse_event({"kind": "audit", "id": f"k{i}"}, now=OLD if i < old else datetime.now(UTC))
        for i in range(old + young)
    ]
    insert_notifications(conn, [(n, [Target("ops", "slack", "C1")]) for n in notes])
    conn.execute("UPDATE outbox SET status = 'delivered'")
    conn.close()


def events(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        conn.close()


def test_prune_dry_run_counts_and_prune_deletes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "var" / "notifbot.db"
    fill(db, old=30, young=5)
    assert main(["prune", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "events               would delete 30" in out and "outbox               would delete 30" in out
    assert events(db) == 35
    assert main(["prune"]) == 0
    captured = capsys.readouterr()
    assert "events               deleted 30" in captured.out and "before" in captured.err
    assert events(db) == 5
    assert main(["prune"]) == 0
    assert "nothing to delete" in capsys.readouterr().out


def test_prune_vacuum_switches_an_old_database_to_incremental(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "var" / "notifbot.db"
    db.parent.mkdir()
    sqlite3.connect(db).execute("CREATE TABLE legacy (x)").connection.close()  # auto_vacuum off, as before
    fill(db, old=10, young=0)
    assert main(["prune"]) == 0
    assert "notifbot prune --vacuum" in capsys.readouterr().err
    assert main(["prune", "--vacuum"]) == 0
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
    conn.close()


def test_backup_writes_an_openable_copy_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    fill(tmp_path / "var" / "notifbot.db", old=0, young=7)
    copy = tmp_path / "copy.db"
    assert main(["backup", str(copy)]) == 0
    assert "MiB" in capsys.readouterr().out and events(copy) == 7
    assert main(["backup", str(copy)]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["backup", str(copy), "--force"]) == 0
    assert main(["backup", str(tmp_path / "var" / "notifbot.db"), "--force"]) == 1
    assert not (tmp_path / "copy.db.partial").exists()


def test_backup_of_a_missing_database_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["backup", str(tmp_path / "b.db")]) == 1
    assert "storage.path" in capsys.readouterr().err


def fill_pg(url: str, old: int, young: int) -> None:
    from notifbot.store import pg

    conn = pg.connect(url)
    try:
        notes = [
            parse_event({"kind": "audit", "id": f"k{i}"}, now=OLD if i < old else datetime.now(UTC))
            for i in range(old + young)
        ]
        insert_notifications(conn, [(n, [Target("ops", "slack", "C1")]) for n in notes])  # type: ignore[arg-type]
        conn.execute("UPDATE outbox SET status = 'delivered'")
    finally:
        conn.close()


def pg_events(url: str) -> int:
    from notifbot.store import pg

    conn = pg.connect(url)
    try:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        conn.close()


def test_prune_on_postgres_runs_the_same_batches(
    pg_store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.pg_support import empty_store

    empty_store(pg_store_url)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NOTIFBOT_DATABASE_URL", pg_store_url)
    fill_pg(pg_store_url, old=12, young=3)
    assert main(["prune", "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert "events               would delete 12" in captured.out and "database postgresql://" in captured.err
    assert pg_events(pg_store_url) == 15
    assert main(["prune"]) == 0
    assert "events               deleted 12" in capsys.readouterr().out
    assert pg_events(pg_store_url) == 3
    assert main(["prune", "--vacuum"]) == 0  # VACUUM (ANALYZE), online
    assert "VACUUM (ANALYZE)" in capsys.readouterr().err
    assert not (tmp_path / "var").exists()  # no SQLite file made on the side


def test_backup_on_postgres_points_at_pg_dump(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NOTIFBOT_DATABASE_URL", "postgresql://bot:pw-not-shown@db.invalid/notifbot")
    assert main(["backup", str(tmp_path / "copy.db")]) == 2
    err = capsys.readouterr().err
    assert "pg_dump -Fc" in err and "pw-not-shown" not in err
    assert not (tmp_path / "copy.db").exists()
