"""Opens the store the settings name: PostgreSQL when a URL is given (NOTIFBOT_DATABASE_URL or storage.url), else SQLite."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Concatenate, ParamSpec, Protocol, TypeVar

from notifbot.store.conn import Conn
from notifbot.store.runner import Database

if TYPE_CHECKING:  # config sits above store: settings and environment are only read here, never imported
    from notifbot.config.env import Env
    from notifbot.config.settings import StorageSettings

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger("notifbot.store")


class StoreDatabase(Protocol):
    """What the bot uses of its store, on either backend (`store.runner.Database`, `store.pg_runner.PgDatabase`)."""

    async def call(self, fn: Callable[Concatenate[Conn, P], T], *args: P.args, **kwargs: P.kwargs) -> T: ...
    async def read(self, fn: Callable[Concatenate[Conn, P], T], *args: P.args, **kwargs: P.kwargs) -> T: ...
    def call_sync(self, fn: Callable[Concatenate[Conn, P], T], *args: P.args, **kwargs: P.kwargs) -> T: ...
    async def write_problem(self) -> str | None: ...
    async def __aenter__(self) -> StoreDatabase: ...
    async def __aexit__(self, *exc: object) -> None: ...
    def close(self) -> None: ...


def database_url(storage: StorageSettings, env: Env) -> tuple[str, str] | None:
    """The PostgreSQL URL in use and where it comes from (NOTIFBOT_DATABASE_URL wins), or None for SQLite."""
    if env.database_url:
        return env.database_url, "env.NOTIFBOT_DATABASE_URL"
    if storage.url:
        return storage.url, "storage.url"
    return None


def describe(storage: StorageSettings, env: Env) -> str:
    """The store as logs show it: the SQLite path, or the PostgreSQL URL without its password."""
    from notifbot.store.pg_url import redacted

    found = database_url(storage, env)
    return storage.path if found is None else redacted(found[0])


def open_database(storage: StorageSettings, env: Env) -> StoreDatabase:
    """The store the settings name, migrated and open."""
    found = database_url(storage, env)
    if found is None:
        return Database(
            storage.path,
            synchronous=storage.synchronous,
            wal_max_bytes=storage.wal_max_bytes,
            min_free_bytes=storage.min_free_bytes,
        )
    ignored = storage.sqlite_only_keys()
    if ignored:
        log.warning(
            "%s: SQLite settings, ignored: the store is PostgreSQL (%s)", ", ".join(ignored), found[1]
        )
    from notifbot.store.pg_runner import PgDatabase  # psycopg only when PostgreSQL is in use

    url, source = found
    return PgDatabase(url, pool_size=storage.pool_size, source=source)
