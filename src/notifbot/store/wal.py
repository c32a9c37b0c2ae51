"""Keeps the SQLite WAL bounded while no commit pays for more than a short checkpoint of the WAL's tail."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Literal

log = logging.getLogger("notifbot.store")

CHECKPOINT_SECONDS = 1.0  # a PASSIVE checkpoint at least this often
POLL_SECONDS = 0.025  # how often the WAL's file size is looked at (a stat: microseconds)
RESTART_BUSY_MS = 50  # how long a RESTART waits for readers before it gives up (the writer waits meanwhile)
STARTUP_BUSY_MS = 5000  # how long start-up waits for other processes before it serves with the WAL as it is
CATCH_UP_ROUNDS = 3  # at most this many PASSIVE rounds shrink the tail a RESTART copies on the writer thread
CATCH_UP_FRAMES = 256  # ... until the tail is this short (1 MiB of 4 KiB pages)
RESTART_BACKOFF_SECONDS = (0.25, 5.0)  # after a RESTART a reader blocked: first and longest pause
OVER_BOUND_LOG_SECONDS = 60.0  # a warning about the WAL repeats at most this often
WAL_HEADER = 32
FRAME_HEADER = 24

Checkpoint = tuple[int, int, int]  # (busy, frames in the WAL, frames copied into the database)


def wal_file(db_path: str) -> str:
    """The WAL file SQLite keeps next to `db_path`."""
    return db_path + "-wal"


def file_size(path: str) -> int:
    """The size of `path` in bytes, 0 when it does not exist."""
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def restart_point(max_bytes: int) -> int:
    """WAL content at which the WAL is restarted; half the bound leaves the other half for writes meanwhile."""
    return max_bytes // 2


def limit_wal(conn: sqlite3.Connection, max_bytes: int) -> None:
    """Makes `conn` truncate the WAL file to the restart point when it restarts the WAL (journal_size_limit)."""
    conn.execute(f"PRAGMA journal_size_limit={restart_point(max_bytes)}")


def restart_wal(
    conn: sqlite3.Connection,
    busy_ms: int = RESTART_BUSY_MS,
    *,
    mode: Literal["RESTART", "TRUNCATE"] = "RESTART",
) -> Checkpoint:
    """A RESTART (or TRUNCATE) checkpoint on `conn` that waits at most about `busy_ms` for other connections."""
    previous = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
    conn.execute(f"PRAGMA busy_timeout={busy_ms}")
    try:
        busy, frames, done = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        return int(busy), int(frames), int(done)
    finally:
        conn.execute(f"PRAGMA busy_timeout={previous}")


def truncate_leftover_wal(conn: sqlite3.Connection, db_path: str, max_bytes: int) -> int:
    """At start-up: checkpoints and truncates a WAL a crash or an earlier version left bigger than the restart point.

    Returns the size it found (0 when there was nothing to do).
    """
    size = file_size(wal_file(db_path))
    if size <= restart_point(max_bytes):
        return 0
    busy = restart_wal(conn, STARTUP_BUSY_MS, mode="TRUNCATE")[0]
    after = file_size(wal_file(db_path))
    fields = {"wal_bytes_before": size, "wal_bytes_after": after, "database": db_path}
    if busy:
        log.warning(
            "could not truncate the leftover WAL: another process is reading or writing", extra=fields
        )
    else:
        log.info("checkpointed and truncated a leftover WAL", extra=fields)
    return size


class WalKeeper:
    """Copies the WAL into the database on its own connection and restarts it when it passes the restart point.

    PASSIVE checkpoints never block anyone, but under sustained writes they never catch up with the writer, and SQLite
    only rewinds the WAL when a checkpoint has caught up: it grew to 2 GB. So once the WAL holds more than half of
    `max_bytes`, a few PASSIVE rounds copy all but the latest frames, then `restart` runs a RESTART checkpoint on the
    writer's own thread (no lock contest with the writer): it copies only that short tail, so the commits queued
    behind it wait milliseconds, where SQLite's automatic checkpoint made a commit copy 1,000 pages (100-250 ms).
    """

    def __init__(
        self,
        db_path: str,
        max_bytes: int,
        restart: Callable[[], Checkpoint],
        *,
        every: float = CHECKPOINT_SECONDS,
        poll: float = POLL_SECONDS,
    ) -> None:
        self.db_path = db_path
        self.max_bytes = max_bytes
        self._restart = restart
        self._every = every
        self._poll = poll
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notifbot-db-checkpoint", daemon=True)
        self._frame_bytes = 4096 + FRAME_HEADER
        self._backoff = 0.0
        self._not_before = 0.0
        self._over_logged_at = -OVER_BOUND_LOG_SECONDS
        self._restarted_frames = -1
        self._failed_logged_at = -OVER_BOUND_LOG_SECONDS
        self.restarts = 0
        self.longest_restart = 0.0  # seconds the writer's thread spent in one RESTART

    def start(self) -> None:
        """Starts the checkpoint thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stops the thread (waits for a running checkpoint)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        conn = sqlite3.connect(self.db_path, check_same_thread=False, timeout=30.0, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=30000")
            self._frame_bytes = int(conn.execute("PRAGMA page_size").fetchone()[0]) + FRAME_HEADER
            last, last_size = time.monotonic(), -1
            while not self._stop.wait(self._poll):
                size = file_size(wal_file(self.db_path))
                now = time.monotonic()
                grew_past = size > restart_point(self.max_bytes) and size != last_size
                if not grew_past and now - last < self._every:
                    continue
                last, last_size = now, size
                try:
                    self._round(conn, size)
                except (
                    sqlite3.Error
                ) as exc:  # the next round tries again; say so if it is not just contention
                    self._warn_failed(exc)
        finally:
            conn.close()
            log.info(
                "WAL checkpoints stopped",
                extra={
                    "database": self.db_path,
                    "wal_rewinds": self.restarts,
                    "longest_restart_ms": round(self.longest_restart * 1000, 1),
                },
            )

    def _content(self, frames: int) -> int:
        return WAL_HEADER + frames * self._frame_bytes if frames > 0 else 0

    def _round(self, conn: sqlite3.Connection, size: int) -> None:
        """A PASSIVE checkpoint; past the restart point, a RESTART of the WAL's short tail on the writer thread."""
        busy, frames, done = self._passive(conn)
        if frames == self._restarted_frames:  # restarted already: the writer's next commit rewinds the WAL
            return
        if self._content(frames) <= restart_point(self.max_bytes) or time.monotonic() < self._not_before:
            self._warn_if_over(size)
            return
        for _ in range(CATCH_UP_ROUNDS):  # each round copies what the writer added during the last one
            if frames - done <= CATCH_UP_FRAMES:
                break
            busy, frames, done = self._passive(conn)
        started = time.perf_counter()
        busy, frames, done = self._restart()
        self.longest_restart = max(self.longest_restart, time.perf_counter() - started)
        if busy or done < frames:  # a reader held it up: try again later, less often while that lasts
            self._backoff = min(
                max(self._backoff * 2, RESTART_BACKOFF_SECONDS[0]), RESTART_BACKOFF_SECONDS[1]
            )
            self._not_before = time.monotonic() + self._backoff
            self._warn_if_over(size)
            return
        self._backoff = 0.0
        self._restarted_frames = frames
        self.restarts += 1

    def _passive(self, conn: sqlite3.Connection) -> Checkpoint:
        busy, frames, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(busy), int(frames), int(done)

    def _warn_failed(self, exc: sqlite3.Error) -> None:
        name = getattr(exc, "sqlite_errorname", "") or ""
        now = time.monotonic()
        if (
            not name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
            and now - self._failed_logged_at >= OVER_BOUND_LOG_SECONDS
        ):
            self._failed_logged_at = now
            log.warning("WAL checkpoint failed: %s (%s)", exc, name, extra={"database": self.db_path})

    def _warn_if_over(self, size: int) -> None:
        now = time.monotonic()
        if size > self.max_bytes and now - self._over_logged_at >= OVER_BOUND_LOG_SECONDS:
            self._over_logged_at = now
            log.warning(
                "the WAL is over storage.wal_max_bytes: a long read (a query, a backup, another process) is keeping "
                "the checkpoint from rewinding it",
                extra={"wal_bytes": size, "wal_max_bytes": self.max_bytes, "database": self.db_path},
            )
