"""Fixtures that build a real Bot (real SQLite file, real worker) for in-process HTTP tests."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from notifbot.app import Bot
from notifbot.config import MarketoInstance, Settings, parse_settings
from notifbot.config.env import Env
from notifbot.marketo import MarketoClient
from notifbot.store.runner import Database
from tests.fakes.adobe_io import FakeAdobeIO
from tests.fakes.marketo import FakeMarketo
from tests.fakes.slack import FakeSlack
from tests.integration.marketo_support import MUNCHKIN, SECRET, Clock
from tests.integration.process import BotProcess
from tests.pg_support import BACKENDS, empty_store


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Modules marked `backends` run each test that builds a store on SQLite and on PostgreSQL."""
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("backends"):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The store backend of this test: "sqlite", or each of BACKENDS in modules marked `backends`."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def storage(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The `storage` settings of the test's store: a fresh SQLite file, or the module's PostgreSQL database emptied."""
    if backend == "sqlite":
        return {"path": str(tmp_path / "notifbot.db")}
    url = request.getfixturevalue("pg_store_url")
    empty_store(url)
    return {"url": url}


def make_settings(tmp_path: Path, *, storage: dict[str, Any] | None = None, **overrides: Any) -> Settings:
    """Settings on a fresh SQLite file (or the `storage` section given) with fast delivery timings for tests."""
    data: dict[str, Any] = {
        "storage": storage or {"path": str(tmp_path / "notifbot.db")},
        # repeat_window 0: one message per event, as these tests of delivery mechanics expect; the default repeat
        # grouping and route groups have their own tests (test_groups*.py), which set it
        "delivery": {
            "poll_seconds": 0.05,
            "backoff_base_seconds": 0.05,
            "lease_seconds": 5,
            "repeat_window": 0,
        },
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return parse_settings(data, source="test")


BotFactory = Callable[..., Any]


@pytest.fixture
async def bot_factory(tmp_path: Path, storage: dict[str, Any]) -> AsyncIterator[BotFactory]:
    """Builds started Bots (settings overrides, env dict) on the test's store and stops them after the test."""
    bots: list[Bot] = []

    async def build(env: dict[str, str] | None = None, **overrides: Any) -> Bot:
        own = overrides.pop("storage", {})  # a test's `storage` keys go on top of the backend's
        settings = make_settings(tmp_path, storage={**storage, **own}, **overrides)
        bot = Bot(settings, Env(env or {}), stdout=io.StringIO())
        await bot.start()
        bots.append(bot)
        return bot

    yield build
    for bot in bots:
        if not bot.stopping:
            await bot.stop()


@pytest.fixture(scope="module")
def shared_slack() -> Iterator[FakeSlack]:
    """One fake Slack per module (token `xoxb-test`, 0.2 s per channel); reset before each test by `fresh_slack`."""
    with FakeSlack(token="xoxb-test", min_interval=0.2) as fake:
        yield fake


@pytest.fixture
def fresh_slack(shared_slack: FakeSlack) -> FakeSlack:
    """The module's fake, reset to a fresh state (one server per module keeps the suite fast)."""
    shared_slack.reset()
    return shared_slack


@pytest.fixture
def procs() -> Iterator[list[BotProcess]]:
    """`notifbot serve` processes a test appends here; each is stopped when the test ends, however it ends."""
    started: list[BotProcess] = []
    yield started
    for p in started:
        p.stop()


ADOBE_CLIENT = "adobe-client-1"


@pytest.fixture(scope="module")
def shared_adobe() -> Iterator[FakeAdobeIO]:
    """One fake Adobe I/O (client `ADOBE_CLIENT`) per module; its key traffic is reset before each test by `adobe`."""
    with FakeAdobeIO(ADOBE_CLIENT) as fake:
        yield fake


@pytest.fixture
def adobe(shared_adobe: FakeAdobeIO) -> FakeAdobeIO:
    """The module's fake Adobe I/O with no key traffic counted and its key server up."""
    shared_adobe.reset_key_traffic()
    return shared_adobe


@contextmanager
def store_of(bot: Bot) -> Iterator[Any]:
    """A store connection of its own to the bot's database, on either backend (as an operator would open one)."""
    url = getattr(bot.db, "url", None)
    if url is None:
        conn = sqlite3.connect(bot.settings.storage.path, isolation_level=None)
        conn.row_factory = sqlite3.Row
    else:
        from notifbot.store import pg

        conn = pg.connect(url)
    try:
        yield conn
    finally:
        conn.close()


def rows(bot: Bot, sql: str) -> list[tuple[Any, ...]]:
    """The result of `sql` on the bot's database, read over a separate connection (as an operator would)."""
    with store_of(bot) as conn:
        return [tuple(r) for r in conn.execute(sql).fetchall()]


def outbox_rows(bot: Bot) -> list[Any]:
    """Every outbox row, oldest first, as mappings."""
    with store_of(bot) as conn:
        return list(conn.execute("SELECT * FROM outbox ORDER BY id").fetchall())


def db_rows(bot: Bot, sql: str) -> list[tuple[Any, ...]]:
    """The rows of a read-only query on the bot's database, as tuples (a connection of its own)."""
    return rows(bot, sql)


async def post_events(bot: Bot, events: list[dict[str, Any]]) -> None:
    """POSTs events to the bot's /hooks/events from loopback and expects 202."""
    async with client_for(bot) as client:
        r = await client.post("/hooks/events", json=events)
    assert r.status_code == 202, r.text


async def wait_for(check: Callable[[], object], timeout: float = 15.0) -> None:
    """Polls `check` every 20 ms until it is truthy; fails the test after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def client_for(bot: Bot, host: str = "127.0.0.1") -> httpx.AsyncClient:
    """An httpx client talking to the bot's ASGI app in process, as if from `host`."""
    transport = httpx.ASGITransport(app=bot.asgi, client=(host, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://notifbot.test")


@pytest.fixture
async def db(storage: dict[str, Any]) -> AsyncIterator[Database]:
    """A fresh, migrated store: SQLite in the test's temporary folder, or (modules marked `backends`) PostgreSQL."""
    if "url" in storage:
        from notifbot.store.pg_runner import PgDatabase

        database: Any = PgDatabase(storage["url"], pool_size=2)
    else:
        database = Database(storage["path"])
    yield database
    database.close()


@pytest.fixture
def clock() -> Clock:
    """A wall clock the test moves by hand (10:00 CT on a Tuesday)."""
    return Clock()


@pytest.fixture
async def clients() -> AsyncIterator[list[MarketoClient]]:
    """Marketo clients a test makes; closed afterwards."""
    made: list[MarketoClient] = []
    yield made
    for c in made:
        await c.aclose()


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeMarketo]:
    """A fake Marketo (credentials cid-1 / SECRET) whose "now" is the test's clock."""
    with FakeMarketo("cid-1", SECRET, now=clock) as server:
        yield server


@pytest.fixture
def instance(fake: FakeMarketo) -> MarketoInstance:
    """The configured instance pointing at `fake`, with a daily quota of 10,000 calls."""
    return MarketoInstance(
        munchkin_id=MUNCHKIN,
        base_url=fake.base_url,
        client_id="cid-1",
        client_secret=SECRET,
        daily_quota=10_000,
    )
