"""The space deleted rows free, per backend: SQLite returns pages to the filesystem, PostgreSQL's autovacuum reuses it.

`_keeper` is the one place the backend is told apart (`dialect_of(conn)`); retention (store/retention.py), the
pruner and `notifbot prune` call `space`, `reclaim_space` and `vacuum` the same way on both.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from notifbot.store.dialect import SQLITE, dialect_of

VACUUM_PAGES = 256  # pages (1 MiB at 4 KiB) returned to the filesystem per incremental_vacuum transaction


@dataclass(frozen=True)
class Space:
    """The database's pages: how many, how many free, the page size, and whether freed space is reclaimed as it goes
    (SQLite: auto_vacuum=INCREMENTAL; PostgreSQL: always, by autovacuum)."""

    pages: int
    free: int
    page_size: int
    incremental: bool

    @property
    def bytes(self) -> int:
        """The size of the database (without SQLite's WAL)."""
        return self.pages * self.page_size


class _SpaceKeeper(Protocol):
    def space(self, conn: sqlite3.Connection) -> Space: ...
    def reclaim(self, conn: sqlite3.Connection, pages: int) -> int: ...
    def vacuum(self, conn: sqlite3.Connection, tables: Sequence[str]) -> None: ...


class _SqliteSpace:
    """SQLite keeps freed pages in the file; with auto_vacuum=INCREMENTAL they go back to the filesystem on demand."""

    def space(self, conn: sqlite3.Connection) -> Space:
        return Space(
            int(conn.execute("PRAGMA page_count").fetchone()[0]),
            int(conn.execute("PRAGMA freelist_count").fetchone()[0]),
            int(conn.execute("PRAGMA page_size").fetchone()[0]),
            int(conn.execute("PRAGMA auto_vacuum").fetchone()[0]) == 2,
        )

    def reclaim(self, conn: sqlite3.Connection, pages: int) -> int:
        before = self.space(conn)
        if not before.incremental or before.free == 0:
            return 0
        # executescript steps the pragma to its end (execute stops after its first step: one page)
        conn.executescript(f"PRAGMA incremental_vacuum({int(pages)});")
        return before.free - self.space(conn).free

    def vacuum(self, conn: sqlite3.Connection, tables: Sequence[str]) -> None:
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("VACUUM")


class _PostgresSpace:
    """PostgreSQL's autovacuum makes the space of deleted rows reusable in place (nothing to return per run: the
    files keep their size, new rows fill them); VACUUM FULL or pg_repack would shrink them, offline, and are left to
    the DBA. `vacuum` runs `VACUUM (ANALYZE)` on the pruned tables: online (no exclusive lock: the bot may run), it
    makes the space reusable now rather than at autovacuum's next threshold and gives the planner row counts that
    match what is left after a first, large prune. VACUUM cannot run inside a transaction: the store's connections
    are in autocommit and open transactions only through `transaction(conn)`."""

    def space(self, conn: sqlite3.Connection) -> Space:
        row = conn.execute(
            "SELECT pg_database_size(current_database()), current_setting('block_size')::bigint"
        ).fetchone()
        size, block = int(row[0]), int(row[1])
        return Space(size // block, 0, block, True)

    def reclaim(self, conn: sqlite3.Connection, pages: int) -> int:
        return 0

    def vacuum(self, conn: sqlite3.Connection, tables: Sequence[str]) -> None:
        conn.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")


def _keeper(conn: sqlite3.Connection) -> _SpaceKeeper:
    """The one place the backends' space handling is chosen."""
    return _SqliteSpace() if dialect_of(conn) is SQLITE else _PostgresSpace()


def space(conn: sqlite3.Connection) -> Space:
    """The database's size and, on SQLite, its free pages and auto_vacuum mode."""
    return _keeper(conn).space(conn)


def reclaim_space(conn: sqlite3.Connection, pages: int = VACUUM_PAGES) -> int:
    """Returns up to `pages` free pages to the filesystem (SQLite with auto_vacuum=INCREMENTAL); how many it
    returned. 0 on PostgreSQL: autovacuum makes the space reusable (see `_PostgresSpace`)."""
    return _keeper(conn).reclaim(conn, pages)


def vacuum(conn: sqlite3.Connection, tables: Sequence[str]) -> None:
    """SQLite: a full VACUUM switching to auto_vacuum=INCREMENTAL (rewrites the file, bot stopped); PostgreSQL:
    `VACUUM (ANALYZE)` of `tables`, online."""
    _keeper(conn).vacuum(conn, tables)
