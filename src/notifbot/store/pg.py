"""A PostgreSQL connection that store functions use as they use a `sqlite3.Connection` (prototype, issue #14).

`PgConn.execute` takes the store's SQLite-form SQL (`?` placeholders) and rows answer both `row[0]` and
`row["name"]`, so a store function runs unchanged on either backend. psycopg is imported here only: nothing on the
SQLite path imports this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, SupportsIndex, overload

import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.rows import RowMaker

from notifbot.store.conn import Conn
from notifbot.store.dialect import POSTGRES, Dialect, pg_ddl, pg_sql

Params = Sequence[object] | Mapping[str, object]


class Row(tuple[Any, ...]):
    """A result row by position or by column name, like `sqlite3.Row`."""

    _names: ClassVar[tuple[str, ...]] = ()
    _index: ClassVar[dict[str, int]] = {}  # a repeated name means its first column, as in sqlite3.Row

    @overload
    def __getitem__(self, key: SupportsIndex) -> Any: ...
    @overload
    def __getitem__(self, key: slice) -> tuple[Any, ...]: ...
    @overload
    def __getitem__(self, key: str) -> Any: ...
    def __getitem__(self, key: SupportsIndex | slice | str) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self._names)


_ROW_CLASSES: dict[tuple[str, ...], type[Row]] = {}


def _row_class(names: tuple[str, ...]) -> type[Row]:
    cls = _ROW_CLASSES.get(names)
    if cls is None:
        cls = type(
            "Row", (Row,), {"_names": names, "_index": {n: i for i, n in reversed(list(enumerate(names)))}}
        )
        _ROW_CLASSES[names] = cls
    return cls


def row_factory(cursor: psycopg.Cursor[Any]) -> RowMaker[Row]:
    """psycopg row factory making `Row`s (one class per column list, cached)."""
    names = tuple(c.name for c in cursor.description or ())
    cls = _row_class(names)

    def make(values: Sequence[Any]) -> Row:
        return cls(values)

    return make


class _BoolAsInt(Dumper):
    """Binds Python bools as 1/0 (int8): store columns hold flags as integers, as on SQLite."""

    format = Format.TEXT
    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


class PgConn:
    """A psycopg connection (autocommit; transactions are explicit) behind the store's connection interface."""

    dialect: Dialect = POSTGRES

    def __init__(self, raw: psycopg.Connection[Row]) -> None:
        self.raw = raw
        raw.adapters.register_dumper(bool, _BoolAsInt)

    @property
    def in_transaction(self) -> bool:
        """True between BEGIN and COMMIT/ROLLBACK (also in a failed transaction), as `sqlite3.Connection` says."""
        return self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def execute(self, sql: str, params: Params = ()) -> psycopg.Cursor[Row]:
        """Runs one statement written with `?` placeholders."""
        if not params:
            return self.raw.execute(pg_sql(sql, with_params=False))
        return self.raw.execute(pg_sql(sql), params)

    def executemany(self, sql: str, seq: Iterable[Params]) -> psycopg.Cursor[Row]:
        """Runs one statement per parameter set (pipelined: one round trip)."""
        cur = self.raw.cursor()
        cur.executemany(pg_sql(sql), seq)
        return cur

    def close(self) -> None:
        """Closes the connection."""
        self.raw.close()


def connect(url: str, *, connect_timeout: float = 10.0) -> PgConn:
    """A store connection to the PostgreSQL database at `url`."""
    raw = psycopg.connect(url, autocommit=True, row_factory=row_factory, connect_timeout=int(connect_timeout))
    return PgConn(raw)


MIGRATIONS_TABLE = "notifbot_migrations"
_MIGRATION_LOCK = (
    0x6E6F7469_66626F74 & 0x7FFFFFFFFFFFFFFF
)  # "notifbot": replicas starting together migrate once


class _Migrator:
    """Stands where a migration expects a `sqlite_utils.Database`: runs its SQLite DDL translated by `pg_ddl`."""

    def __init__(self, conn: PgConn) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Params = ()) -> None:
        """Runs one migration statement on PostgreSQL."""
        self._conn.execute(pg_ddl(sql), params)


def applied_migrations(conn: PgConn) -> list[str]:
    """The migrations recorded in this database, in the order they were applied."""
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE}"
        " (name TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
    )
    rows = conn.execute(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY applied_at, name").fetchall()
    return [r[0] for r in rows]


def migrate_pg(conn: PgConn) -> list[str]:
    """Applies pending migrations, each in its own transaction under one advisory lock; returns the names applied.

    The migrations are the SQLite ones of `store/db.py` (one definition); a replica that finds the lock held waits,
    then sees the other's record and applies nothing twice.
    """
    from notifbot.store.db import migrations

    applied: list[str] = []
    for migration in migrations._migrations:  # sqlite-utils keeps the registered list there
        conn.execute("BEGIN")
        try:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
            done = set(applied_migrations(conn))
            if migration.name not in done:
                apply: Any = (
                    migration.fn
                )  # written against sqlite_utils.Database's execute, which _Migrator has
                apply(_Migrator(conn))
                conn.execute(
                    f"INSERT INTO {MIGRATIONS_TABLE} (name, applied_at) VALUES (?, extract(epoch FROM clock_timestamp()))",
                    (migration.name,),
                )
                applied.append(migration.name)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return applied


def _is_store_conn(conn: PgConn) -> Conn:
    """Never called: makes mypy prove that a `PgConn` is a `store.conn.Conn`, as store functions take it."""
    return conn
