"""Offline and CLI-side store maintenance: a whole retention run on one connection, and online backups."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from notifbot.errors import BackupError
from notifbot.store.retention import Counts, Pruning, Windows, reclaim_space, utc_now

PROGRESS_SECONDS = 2.0


def prune_all(
    conn: sqlite3.Connection,
    windows: Windows,
    *,
    now: float | None = None,
    progress: Callable[[Counts], None] | None = None,
    every: float = PROGRESS_SECONDS,
) -> Counts:
    """Runs every batch of a retention run, then returns the freed pages (SQLite; PostgreSQL's autovacuum reuses
    them); `progress(total)` about every `every` s."""
    pruning = Pruning(windows, utc_now() if now is None else now)
    last = time.monotonic()
    while pruning.step(conn) is not None:
        if progress is not None and time.monotonic() - last >= every:
            progress(dict(pruning.total))
            last = time.monotonic()
    while reclaim_space(conn) > 0:
        pass
    return dict(pruning.total)


def backup(source: str | Path, dest: str | Path, *, force: bool = False) -> int:
    """Copies the database at `source` to `dest` with SQLite's online backup API; returns the copy's size in bytes.

    SQLite only: a PostgreSQL store is backed up with the server's tools (pg_dump, base backups).

    One step copies every page inside one read transaction: under WAL the bot's writes go on meanwhile and the
    copy is the database as of the step's start (a step-wise copy would restart at each write and might never end).
    The copy is written next to `dest` and renamed into place, so `dest` is never a half-written file.
    """
    src_path, dest_path = Path(source), Path(dest)
    if not src_path.is_file():
        raise BackupError(f"no database at {src_path}: check storage.path")
    if dest_path.exists() and not force:
        raise BackupError(f"{dest_path} exists: choose another path, or pass --force to replace it")
    if dest_path.resolve() == src_path.resolve():
        raise BackupError("the backup path is the database itself: choose another path")
    partial = dest_path.with_name(dest_path.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(str(src_path), timeout=30.0)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        dst = sqlite3.connect(str(partial))
        try:
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file, no -wal beside it
        finally:
            dst.close()
        os.replace(partial, dest_path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    return dest_path.stat().st_size
