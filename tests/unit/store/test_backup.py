"""An online backup taken while another connection keeps committing is a consistent, openable database."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from notifbot.sources.events import parse_event
from notifbot.store.db import connect
from notifbot.store.events import Target, insert_notifications
from notifbot.store.maintenance import backup

T = Target("ops", "slack", "C1")


def test_a_backup_during_writes_is_consistent(tmp_path: Path) -> None:
    path = tmp_path / "n.db"
    writer = connect(path)
    now = datetime.now(UTC)
    insert_notifications(
        writer,
        [
            (parse_event({"kind": "audit", "id": f"a{i}", "summary": "x" * 400}, now=now), [T])
            for i in range(3000)
        ],
    )
    stop, written = threading.Event(), [0]

    def write() -> None:
        i = 0
        while not stop.is_set():
            batch = [(parse_event({"kind": "audit", "id": f"w{i}-{j}"}, now=now), [T]) for j in range(20)]
            insert_notifications(writer, batch)
            i += 1
            written[0] += 20

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while written[0] == 0:  # the writer is committing before the first copy starts
            stop.wait(0.001)
        copies = [backup(path, tmp_path / f"copy{k}.db") for k in range(3)]
    finally:
        stop.set()
        thread.join()
    assert written[0] > 0 and all(size > 0 for size in copies)
    for k in range(3):
        conn = sqlite3.connect(tmp_path / f"copy{k}.db")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        n_events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        n_outbox = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        assert n_events == n_outbox and 3000 <= n_events <= 3000 + written[0]  # whole commits only
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.close()
    assert connect(tmp_path / "copy0.db").execute("SELECT count(*) FROM events").fetchone()[0] >= 3000
