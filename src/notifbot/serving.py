"""`notifbot serve`: runs the composed bot behind uvicorn until SIGINT/SIGTERM, then drains and exits."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import uvicorn

from notifbot import __version__
from notifbot.app import Bot
from notifbot.config import Env, Settings
from notifbot.http_server import ensure_open_files, uvicorn_config
from notifbot.store.open import describe

log = logging.getLogger("notifbot.app")


class _Server(uvicorn.Server):
    """uvicorn without its own signal capture: `serve` handles signals so it can drain and exit 0."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(settings: Settings, env: Env, *, stdout: TextIO | None = None) -> int:
    """Runs the bot until SIGINT/SIGTERM, then drains and returns the exit code."""
    ensure_open_files(settings.server.max_connections)
    bot = Bot(settings, env, stdout=stdout)
    host, port = settings.server.host, settings.server.port

    def refused(status: int) -> None:
        bot.metrics.rejected.labels(str(status)).inc()

    config = uvicorn_config(bot.asgi, settings.server, env, refused)
    server = _Server(config)
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        log.info("signal received; stopping intake and draining", extra={"signal": sig.name})
        bot.stopping = True
        if server.should_exit:
            server.force_exit = True
        server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    await bot.start()
    log.info(
        "notifbot serving",
        extra={
            "version": __version__,
            "url": f"http://{host}:{port}",
            "config": settings.source,
            "database": describe(settings.storage, env),
            "destinations": sorted(settings.destinations),
        },
    )
    try:
        await server.serve()
    finally:
        await bot.stop()
        log.info("notifbot stopped")
    return 0 if server.started or bot.stopping else 1
