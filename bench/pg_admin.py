"""A throwaway PostgreSQL database for the benchmarks and the tests: made fresh, dropped after (no pytest here)."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` instead (user, password, host and query kept)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@contextlib.contextmanager
def fresh_database(admin_url: str, prefix: str, connect_timeout: float) -> Iterator[str]:
    """A new, empty database on the server (its URL), dropped on exit even if connections to it are still open."""
    import psycopg
    from psycopg import sql

    name = f"{prefix}{os.getpid()}_{secrets.token_hex(4)}"
    timeout = int(connect_timeout)
    with psycopg.connect(admin_url, connect_timeout=timeout, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(admin_url, name)
    finally:
        with psycopg.connect(admin_url, connect_timeout=timeout, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
