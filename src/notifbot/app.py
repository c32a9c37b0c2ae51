"""Builds the object graph from settings (the one place that does) and runs it until a signal."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import uvicorn

from notifbot import __version__
from notifbot.config import ConsoleDestination, Env, Settings, environment_problems
from notifbot.delivery.console import ConsoleDelivery
from notifbot.delivery.slack import SlackSender
from notifbot.delivery.worker import DeliveryWorker, Sender
from notifbot.errors import ConfigError, PermanentDeliveryError, TransientDeliveryError
from notifbot.metrics import Metrics
from notifbot.pipeline import Pipeline
from notifbot.store.batch import IngestBatcher
from notifbot.store.outbox import depth_by_type
from notifbot.store.runner import Database
from notifbot.web import WebDeps, build_app

log = logging.getLogger("notifbot.app")


class Bot:
    """Everything one running notifbot owns: database, pipeline, delivery worker and the ASGI app."""

    def __init__(self, settings: Settings, env: Env, *, stdout: TextIO | None = None) -> None:
        problems = environment_problems(settings, env)
        if problems:
            raise ConfigError(problems)
        self.settings = settings
        self.env = env
        self.metrics = Metrics()
        self.slack_sender: SlackSender | None = None
        self.db = Database(settings.storage.path, synchronous=settings.storage.synchronous)
        self.senders = self._build_senders(stdout)
        self.worker = DeliveryWorker(self.db, self.senders, settings.delivery, self.metrics)
        self.pipeline = Pipeline(settings, IngestBatcher(self.db), self.metrics, self.worker.wake)
        self.stopping = False
        self.asgi = build_app(
            WebDeps(
                pipeline=self.pipeline,
                metrics=self.metrics,
                webhook_token=env.webhook_token,
                max_body_bytes=settings.server.max_body_bytes,
                ready=self.not_ready_reason,
                refresh_gauges=self.refresh_gauges,
            )
        )

    def _build_senders(self, stdout: TextIO | None) -> dict[str, Sender]:
        senders: dict[str, Sender] = {}
        formats = {
            name: d.format
            for name, d in self.settings.destinations.items()
            if isinstance(d, ConsoleDestination)
        }
        senders["console"] = ConsoleDelivery(formats, stdout)
        if any(d.type == "slack" for d in self.settings.destinations.values()):
            from notifbot.delivery.slack_channel import SlackDelivery

            token = self.env.slack_bot_token or ""
            api_url = self.env.get("SLACK_API_URL") or self.settings.slack.api_url
            self.slack_sender = SlackSender(token, api_url)
            senders["slack"] = SlackDelivery(self.slack_sender)
        return senders

    async def start(self) -> None:
        """Starts the delivery worker and checks the Slack token once (a bad one is logged, not fatal)."""
        self.worker.start()
        if self.slack_sender is not None:
            try:
                who = await self.slack_sender.check_auth()
                log.info("slack token ok", extra={k: v for k, v in who.items() if k in ("team", "user")})
            except (PermanentDeliveryError, TransientDeliveryError) as exc:
                log.error("slack check failed: %s", exc)

    async def stop(self) -> None:
        """Stops intake (readiness goes 503), drains in-flight deliveries within the bound, closes the store."""
        self.stopping = True
        await self.worker.stop(self.settings.delivery.drain_seconds)
        self.db.close()

    async def not_ready_reason(self) -> str | None:
        """None when ready; otherwise why not."""
        if self.stopping:
            return "shutting down"
        if not self.worker.running:
            return "delivery worker is not running"
        if not await self.db.writable():
            return f"database {self.settings.storage.path} is not writable"
        return None

    async def refresh_gauges(self) -> None:
        """Reads the outbox depth into the metrics gauge."""
        self.metrics.set_depth(await self.db.call(depth_by_type))


class _Server(uvicorn.Server):
    """uvicorn without its own signal capture: `serve` handles signals so it can drain and exit 0."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(settings: Settings, env: Env, *, stdout: TextIO | None = None) -> int:
    """Runs the bot until SIGINT/SIGTERM, then drains and returns the exit code."""
    bot = Bot(settings, env, stdout=stdout)
    host, port = settings.server.host, settings.server.port
    config = uvicorn.Config(
        bot.asgi,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
        server_header=False,
    )
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
            "database": settings.storage.path,
            "destinations": sorted(settings.destinations),
        },
    )
    try:
        await server.serve()
    finally:
        await bot.stop()
        log.info("notifbot stopped")
    return 0 if server.started or bot.stopping else 1
