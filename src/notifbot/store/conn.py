"""The store's connection interface: what `sqlite3.Connection` and `store.pg.PgConn` both offer, as Protocols.

Store functions take a `Conn` and run one SQL text on either backend (docs/design/postgres.md §4). SQLite passes its
own `sqlite3.Connection` (no wrapper on the hot path); PostgreSQL passes a `PgConn`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

Params = Sequence[Any] | Mapping[str, Any]


class Row(Protocol):
    """A result row by position or by column name (`sqlite3.Row`, `store.pg.Row`)."""

    def __getitem__(self, key: int | str, /) -> Any: ...
    def keys(self) -> list[str]: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __len__(self) -> int: ...


class Cursor(Protocol):
    """The result of one statement: its rows and how many rows it changed."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(
        self,
    ) -> Any: ...  # a Row or None; Any as on sqlite3, so `fetchone()[0]` after an aggregate reads plainly
    def fetchall(self) -> Sequence[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Conn(Protocol):
    """A store connection in autocommit mode; write transactions go through `store.db.transaction`."""

    @property
    def in_transaction(self) -> bool: ...
    def execute(self, sql: str, params: Params = ..., /) -> Cursor: ...
    def executemany(self, sql: str, seq: Iterable[Params], /) -> Cursor: ...
