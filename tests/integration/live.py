"""A real Bot served by uvicorn on a loopback port, in its own thread and event loop (sync and async tests)."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import uvicorn

from notifbot.app import Bot
from notifbot.config import Env
from notifbot.model import Notification
from notifbot.store.events import notification_from_row
from tests.integration.conftest import make_settings


class LiveBot:
    """`notifbot serve` in-process: the real app on http://127.0.0.1:PORT with a real SQLite file."""

    def __init__(self, tmp: Path, env: dict[str, str] | None = None, **overrides: Any) -> None:
        self.settings = make_settings(tmp, **overrides)
        self.env = Env(env or {})
        self.db_path = self.settings.storage.path
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    async def _main(self) -> None:
        bot = Bot(self.settings, self.env, stdout=io.StringIO())
        await bot.start()
        config = uvicorn.Config(
            bot.asgi, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        try:
            await self._server.serve()
        finally:
            await bot.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced by start() instead of dying silently in the thread
            self._failure = exc

    def start(self) -> Self:
        """Serves in a daemon thread; returns once the port is bound."""
        self._thread = threading.Thread(target=self._run, name="live-bot", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while self._server is None or not self._server.started:
            if self._failure is not None or not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the bot did not start: {self._failure!r}")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        """Stops serving, stops the bot and joins the thread."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=20)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return f"http://127.0.0.1:{self.port}"

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
