"""Builds the object graph from settings (the one place that does) and runs it until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

import httpx
import uvicorn
from slack_sdk.web.async_client import AsyncWebClient

from notifbot import __version__
from notifbot.commands.admins import AdminCheck
from notifbot.commands.model import CommandContext
from notifbot.config import ConsoleDestination, Settings, TeamsWorkflowDestination
from notifbot.config_checks import environment_problems
from notifbot.delivery.console import ConsoleDelivery
from notifbot.delivery.slack import SlackSender
from notifbot.delivery.worker import DeliveryWorker, Sender
from notifbot.env import Env
from notifbot.errors import ConfigError, PermanentDeliveryError, TransientDeliveryError
from notifbot.http_server import ensure_open_files, uvicorn_config
from notifbot.metrics import Metrics
from notifbot.model import Kind, Notification
from notifbot.pipeline import Pipeline
from notifbot.render.links import link_policy
from notifbot.scheduler import Pollers
from notifbot.store.batch import IngestBatcher
from notifbot.store.mutes import active_mutes
from notifbot.store.outbox import depth_by_type
from notifbot.store.runner import Database
from notifbot.web import WebDeps, build_app

if TYPE_CHECKING:
    from notifbot.commands.slack import SlackApp
    from notifbot.marketo.polling import MarketoPolling
    from notifbot.sources.adobe_io.journal import JournalPoller
    from notifbot.sources.adobe_io.webhook import AdobeIOEndpoint
    from notifbot.teams.graph import GraphApi
    from notifbot.teams.inbox import TeamsInbox
    from notifbot.teams.notifications import NotificationEndpoint
    from notifbot.teams.subscriptions import SubscriptionManager

log = logging.getLogger("notifbot.app")
MUTE_REFRESH_SECONDS = 15.0


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
        self.graph: GraphApi | None = self._build_graph()
        storage = settings.storage
        self.db = Database(
            storage.path,
            synchronous=storage.synchronous,
            wal_max_bytes=storage.wal_max_bytes,
            min_free_bytes=storage.min_free_bytes,
        )
        self.senders = self._build_senders(stdout)
        self.worker = DeliveryWorker(self.db, self.senders, settings.delivery, self.metrics)
        self.pipeline = Pipeline(settings, IngestBatcher(self.db), self.metrics, self.worker.wake)
        self.stopping = False
        self.started_at = datetime.now(UTC)
        self.slack_client = self._slack_client() if env.slack_bot_token else None
        self.admins = AdminCheck(settings.slack.admins, self.slack_client)
        self.ctx = CommandContext(
            db=self.db,
            settings=settings,
            version=__version__,
            started_at=self.started_at,
            clock=lambda: datetime.now(UTC),
            is_admin=self.admins,
            on_mutes_changed=self.reload_mutes,
            last_delivery_at=lambda: self.worker.last_delivery_at,
        )
        self.slack_app = self._build_slack_app()
        self.teams_commands = self._build_teams_commands()
        self.pollers = Pollers()
        self.marketo = self._build_marketo()
        self._adobe_http: httpx.AsyncClient | None = None
        self.journal: JournalPoller | None = None
        self.adobe_io = self._build_adobe_io()
        self._socket_mode: Any = None
        self._background: list[asyncio.Task[None]] = []
        self.asgi = build_app(
            WebDeps(
                pipeline=self.pipeline,
                metrics=self.metrics,
                webhook_token=env.webhook_token,
                max_body_bytes=settings.server.max_body_bytes,
                ready=self.not_ready_reason,
                refresh_gauges=self.refresh_gauges,
                slack=self.slack_app.http if self.slack_app else None,
                adobe_io=self.adobe_io,
                teams=self.teams_commands[2] if self.teams_commands else None,
            )
        )

    @property
    def slack_interactive(self) -> bool:
        """True when a Slack app receives commands and button clicks (HTTP signing secret or Socket Mode)."""
        return bool(
            self.settings.slack.interactive
            and self.env.slack_bot_token
            and (self.env.slack_signing_secret or self.env.slack_app_token)
        )

    def _slack_client(self) -> AsyncWebClient:
        api_url = self.env.get("SLACK_API_URL") or self.settings.slack.api_url
        return AsyncWebClient(token=self.env.slack_bot_token, base_url=api_url)

    def _build_slack_app(self) -> SlackApp | None:
        if not self.slack_interactive or self.slack_client is None:
            return None
        from notifbot.commands.slack import SlackApp  # Bolt loads only when the Slack app is in use

        return SlackApp(
            self.ctx,
            self.slack_client,
            self.settings.slack.command,
            self.admins,
            self.env.slack_signing_secret,
            sender=self.slack_sender
            or SlackSender(
                self.env.slack_bot_token or "",
                self.env.get("SLACK_API_URL") or self.settings.slack.api_url,
                timeout=self.settings.slack.timeout_seconds,
            ),
        )

    def _build_marketo(self) -> MarketoPolling | None:
        """Marketo's cleanup notices update the tracked campaigns (polled or not); polls per configured instance."""
        from notifbot.sources.marketo_cleanup_notices import record_cleanup_notices

        async def on_stored(stored: Sequence[Notification]) -> None:
            await record_cleanup_notices(self.db, stored)

        self.pipeline.observe([Kind.TRIGGER_CLEANUP], on_stored)
        if not self.settings.marketo.instances:
            return None
        from notifbot.marketo.polling import MarketoPolling

        return MarketoPolling(self.settings.marketo, self.db, self.pipeline.accept, self.pollers)

    def _build_adobe_io(self) -> AdobeIOEndpoint | None:
        """The Adobe I/O webhook (when a client id is known) and, with `adobe_io.journal_url`, the journal poller."""
        from notifbot.sources.adobe_io.wiring import build_adobe_io

        wired = build_adobe_io(
            self.settings, self.env, self.db, self.pipeline.accept, self.metrics, self.pollers
        )
        if wired is None:
            return None
        self._adobe_http, self.journal = wired.http, wired.journal
        return wired.endpoint

    async def reload_mutes(self) -> None:
        """Loads the mutes in force into the pipeline (on start, after a command changes them, periodically)."""
        self.pipeline.set_mutes(await self.db.read(active_mutes, datetime.now(UTC)))

    async def _refresh_mutes_forever(self) -> None:
        while True:
            await asyncio.sleep(MUTE_REFRESH_SECONDS)
            try:
                await self.reload_mutes()
            except Exception:
                log.exception("could not reload mutes")

    def _build_graph(self) -> GraphApi | None:
        """The Graph client, only when a Teams destination or Teams commands are configured (msgraph loads lazily)."""
        teams = self.settings.teams
        if not (
            any(d.type == "teams" for d in self.settings.destinations.values()) or teams.commands.channels
        ):
            return None
        from notifbot.teams.auth import credential_for
        from notifbot.teams.graph import GraphApi

        credential = credential_for(self.settings, self.env)
        return GraphApi(credential, self.env.graph_url(self.settings))

    def _build_teams_commands(self) -> tuple[SubscriptionManager, TeamsInbox, NotificationEndpoint] | None:
        """Subscriptions, the inbox worker and the HTTP endpoint for commands typed in Teams channels."""
        commands = self.settings.teams.commands
        if self.graph is None or not commands.channels:
            return None
        from notifbot.delivery.teams_graph import TeamsGraphDelivery
        from notifbot.teams.inbox import TeamsInbox
        from notifbot.teams.notifications import NotificationEndpoint
        from notifbot.teams.subscriptions import SubscriptionManager

        subs = SubscriptionManager(
            self.graph,
            self.db,
            commands,
            check_seconds=commands.check_seconds,
            first_delay=min(2.0, commands.check_seconds),
        )
        alerts = self.senders.get("teams")
        inbox = TeamsInbox(
            self.graph,
            self.db,
            self.ctx,
            bot_name=self.settings.teams.bot_name,
            admins=self.settings.teams.admins,
            alerts=alerts if isinstance(alerts, TeamsGraphDelivery) else None,
        )
        return subs, inbox, NotificationEndpoint(subs.client_state, inbox.enqueue)

    def _build_senders(self, stdout: TextIO | None) -> dict[str, Sender]:
        senders: dict[str, Sender] = {}
        formats = {
            name: d.format
            for name, d in self.settings.destinations.items()
            if isinstance(d, ConsoleDestination)
        }
        links = link_policy(self.settings)  # which hosts every renderer may label as Marketo's
        senders["console"] = ConsoleDelivery(formats, stdout, links=links)
        if any(d.type == "slack" for d in self.settings.destinations.values()):
            from notifbot.delivery.slack_channel import SlackDelivery

            token = self.env.slack_bot_token or ""
            api_url = self.env.get("SLACK_API_URL") or self.settings.slack.api_url
            self.slack_sender = SlackSender(token, api_url, timeout=self.settings.slack.timeout_seconds)
            senders["slack"] = SlackDelivery(
                self.slack_sender, interactive=self.slack_interactive, links=links
            )
        workflows = {
            name: d.url
            for name, d in self.settings.destinations.items()
            if isinstance(d, TeamsWorkflowDestination)
        }
        if self.graph is not None and any(d.type == "teams" for d in self.settings.destinations.values()):
            from notifbot.delivery.teams_graph import TeamsGraphDelivery

            senders["teams"] = TeamsGraphDelivery(self.graph, links=links)
        if workflows:
            from notifbot.delivery.teams_workflow import TeamsWorkflowDelivery

            senders["teams_workflow"] = TeamsWorkflowDelivery(workflows, links=links)
        return senders

    async def start(self) -> None:
        """Starts the delivery worker and checks the Slack token once (a bad one is logged, not fatal)."""
        await self.reload_mutes()
        if self.marketo is not None:
            await self.marketo.restore_budgets()
        if (
            self.adobe_io is not None
            and self.settings.adobe_io
            and not self.settings.adobe_io.verify_signatures
        ):
            log.warning(
                "adobe_io.verify_signatures is false: POST /hooks/adobe-io accepts UNSIGNED events from anyone "
                "who can reach it; turn it back on outside local experiments"
            )
        self.worker.start()
        self.pollers.start()
        self._background.append(asyncio.create_task(self._refresh_mutes_forever(), name="mutes-refresh"))
        if self.teams_commands is not None:
            subs, inbox, _ = self.teams_commands
            await subs.load()
            subs.start()
            inbox.start()
        if self.slack_app is not None and self.env.slack_app_token:
            await self._start_socket_mode(self.slack_app, self.env.slack_app_token)
        if self.slack_sender is not None:
            try:
                who = await self.slack_sender.check_auth()
                log.info("slack token ok", extra={k: v for k, v in who.items() if k in ("team", "user")})
            except (PermanentDeliveryError, TransientDeliveryError) as exc:
                log.error("slack check failed: %s", exc)

    async def _start_socket_mode(self, slack_app: SlackApp, app_token: str) -> None:
        """Connects to Slack over a WebSocket (no public URL needed); a failure is logged and retried by the client."""
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        self._socket_mode = AsyncSocketModeHandler(slack_app.bolt, app_token)
        try:
            await self._socket_mode.connect_async()
            log.info("slack socket mode connected")
        except Exception as exc:
            log.error("slack socket mode could not connect: %s", exc)

    async def stop(self) -> None:
        """Stops intake (readiness goes 503), drains in-flight deliveries within the bound, closes the store."""
        self.stopping = True
        self.pollers.stop()
        if self.marketo is not None:
            await self.marketo.aclose()
        if self._adobe_http is not None:
            with contextlib.suppress(Exception):
                await self._adobe_http.aclose()
        for task in self._background:
            task.cancel()
        if self.teams_commands is not None:
            await self.teams_commands[0].stop()
            await self.teams_commands[1].stop()
        if self._socket_mode is not None:
            with contextlib.suppress(Exception):
                await self._socket_mode.close_async()
        await self.worker.stop(self.settings.delivery.drain_seconds)
        if self.graph is not None:
            await self.graph.close()
        self.db.close()

    async def not_ready_reason(self) -> str | None:
        """None when ready, that is when an event can be committed now; otherwise why not (within 2 s)."""
        if self.stopping:
            return "shutting down"
        if not self.worker.running:
            return "delivery worker is not running"
        return await self.db.write_problem()

    async def refresh_gauges(self) -> None:
        """Reads the outbox depth and the Marketo call counts into the metrics gauges."""
        self.metrics.set_depth(await self.db.read(depth_by_type))
        if self.marketo is not None:
            self.marketo.update_gauges(self.metrics)


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
