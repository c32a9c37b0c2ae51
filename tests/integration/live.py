"""A real Bot served by uvicorn on a loopback port, in its own thread and event loop (sync and async tests)."""

from __future__ import annotations

import asyncio
import io
import sqlite3
from pathlib import Path
from typing import Any

from notifbot.app import Bot
from notifbot.config.env import Env
from notifbot.model import Notification
from notifbot.store.rows import notification_from_row
from tests.fakes.server import ThreadedServer
from tests.integration.conftest import make_settings


class LiveBot(ThreadedServer):
    """`notifbot serve` in-process: the real app on http://127.0.0.1:PORT with a real SQLite file."""

    thread_name = "live-bot"
    timeout = 20.0
    uvicorn_options = {"log_level": None, "log_config": None, "access_log": False}  # noqa: RUF012

    def __init__(self, tmp: Path, env: dict[str, str] | None = None, **overrides: Any) -> None:
        self.settings = make_settings(tmp, **overrides)
        self.env = Env(env or {})
        self.db_path = self.settings.storage.path
        self.host, self.port = "127.0.0.1", 0

    def _serve_in_thread(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        bot = Bot(self.settings, self.env, stdout=io.StringIO())
        await bot.start()
        self._server = self._uvicorn(bot.asgi)
        try:
            await self._server.serve()
        finally:
            await bot.stop()

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """The result of `sql` on the bot's database, over a separate connection (as an operator would)."""
        conn = sqlite3.connect(self.db_path)
        try:
            return [tuple(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    def stored(self, key: str) -> Notification | None:
        """The notification stored under `key`, rebuilt from its row as the worker and commands do."""
        conn = sqlite3.connect(self.db_path)
        conn.row_factory = sqlite3.Row
        try:
            row = conn.execute("SELECT * FROM events WHERE key = ?", (key,)).fetchone()
            return notification_from_row(row) if row is not None else None
        finally:
            conn.close()
