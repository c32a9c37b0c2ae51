"""/readyz and ingest on PostgreSQL while the database is unreachable, and after it is back (no restart)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

from notifbot.app import Bot
from tests.integration.conftest import BotFactory, client_for, rows
from tests.pg_support import ADMIN_URL

BOUND = 2.0  # seconds /readyz may take, whatever the database does


@contextmanager
def refusing(url: str) -> Iterator[None]:
    """The bot's database takes no connection and loses the ones it had (a server restart or failover)."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
    try:
        yield
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


async def readyz(bot: Bot) -> tuple[int, str]:
    started = time.monotonic()
    async with client_for(bot) as client:
        r = await client.get("/readyz", timeout=30)
    assert time.monotonic() - started < BOUND + 0.5
    return r.status_code, r.text


async def until_ready(bot: Bot, status: int, within: float = 15.0) -> str:
    deadline = time.monotonic() + within
    while True:
        code, text = await readyz(bot)
        if code == status:
            return text
        assert time.monotonic() < deadline, f"/readyz still answers {code}: {text}"
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_an_unreachable_database_is_not_ready_refuses_ingest_and_recovers(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory()
    url = bot.db.url  # type: ignore[attr-defined]
    assert await until_ready(bot, 200) == "ready\n"
    with refusing(url):
        text = await until_ready(bot, 503)
        assert "the database at postgresql://" in text and "pool:" in text, text
        async with client_for(bot) as client:
            r = await client.post("/hooks/events", json={"kind": "audit", "id": "lost?"}, timeout=30)
        assert r.status_code == 503 and "nothing was accepted" in r.text
    await until_ready(bot, 200)
    async with client_for(bot) as client:
        r = await client.post("/hooks/events", json={"kind": "audit", "id": "after"}, timeout=30)
    assert r.status_code == 202
    assert rows(bot, "SELECT key FROM events") == [("after",)]
