"""Helpers for the tests that run several real `notifbot serve` processes on one PostgreSQL database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.process import BotProcess


def pg_rows(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """The rows of one statement on the shared database, as tuples."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return [tuple(r) for r in conn.execute(sql, params or None).fetchall()]


def replica(tmp: Path, name: str, url: str, config: dict[str, Any], env: dict[str, str]) -> BotProcess:
    """One replica: its own folder, port and logs; the shared database through NOTIFBOT_DATABASE_URL."""
    folder = tmp / name
    folder.mkdir()
    return BotProcess(folder, config, {"NOTIFBOT_DATABASE_URL": url, "NOTIFBOT_REPLICA_ID": name, **env})


def start_all(bots: list[BotProcess]) -> None:
    """Starts replicas side by side and returns once each is ready."""
    for bot in bots:
        bot.spawn()
    for bot in bots:
        bot.wait_ready()
