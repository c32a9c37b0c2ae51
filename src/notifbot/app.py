"""Composes the bot from components built from settings (the one place that does).

Each component is an async context manager that starts and stops itself; `Bot.start` enters them in order on one
`AsyncExitStack` and `Bot.stop` leaves them in reverse: commands and pollers stop taking work first, then the
delivery worker drains, then clients close, the database last.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import UTC, datetime
from typing import TextIO, cast

from notifbot import __version__
from notifbot.chatops.slack_admins import AdminCheck
from notifbot.chatops.slack_wiring import build_slack_app, build_socket_mode, slack_client, slack_interactive
from notifbot.chatops.teams_wiring import build_graph, build_teams_commands
from notifbot.commands.model import CommandContext
from notifbot.config import Env, Settings, environment_problems
from notifbot.config.settings import RetentionSettings
from notifbot.config.templates import compile_templates
from notifbot.delivery.worker import DeliveryWorker, Sender
from notifbot.destinations import SenderContext, build_senders, intervals
from notifbot.destinations.slack import SlackDelivery
from notifbot.errors import ConfigError
from notifbot.links import link_policy
from notifbot.metrics import Metrics
from notifbot.pipeline import MuteRefresh, Pipeline
from notifbot.replicas import ENV_REPLICA_ID, Replica, new_replica_id
from notifbot.scheduler import Pollers
from notifbot.slack.sender import SlackSender, SlackTokenCheck
from notifbot.sources.adobe_io.wiring import build_adobe_io
from notifbot.sources.email.wiring import build_email
from notifbot.sources.marketo.polling import build_marketo
from notifbot.store.batch import IngestBatcher
from notifbot.store.notify import Listener, channel_of
from notifbot.store.open import database_url, open_database
from notifbot.store.outbox import depth_by_type
from notifbot.store.pruner import Pruner
from notifbot.store.retention import Windows
from notifbot.store.runner import Database
from notifbot.web import WebDeps, build_app

log = logging.getLogger("notifbot.app")
Component = AbstractAsyncContextManager[object]


def retention_windows(retention: RetentionSettings) -> Windows:
    """`storage.retention` as the store's pruning windows."""
    return Windows(
        days=retention.days,
        quota_sample_days=retention.quota_sample_days,
        activity_days=retention.activity_days,
        inbox_days=retention.inbox_days,
        batch=retention.batch,
    )


class Bot:
    """Everything one running notifbot owns, as named components; `start` and `stop` run their lifecycle."""

    def __init__(self, settings: Settings, env: Env, *, stdout: TextIO | None = None) -> None:
        problems = environment_problems(settings, env)
        if problems:
            raise ConfigError(problems)
        self.settings, self.env = settings, env
        self.metrics = Metrics()
        self.stopping = False
        self.started_at = datetime.now(UTC)
        # the Graph client first, as before: a Teams sign-in problem creates no database file
        self.graph = build_graph(settings, env)
        # SQLite or PostgreSQL; the components are still typed with the SQLite runner, whose surface PgDatabase
        # shares (store/open.py StoreDatabase)
        self.db = cast(Database, open_database(settings.storage, env))
        # the one stack: the database closes last, even if start fails or never ran
        self._stack = AsyncExitStack()
        self._stack.push_async_exit(self.db)
        self._stack.callback(log.debug, "stopping database", extra={"component": "database"})
        try:
            self._build(stdout)
        except BaseException:
            self.db.close()
            raise

    def _build(self, stdout: TextIO | None) -> None:
        settings, env = self.settings, self.env
        self.slack_sender: SlackSender | None = None
        self.senders = self._build_senders(stdout)
        lease = settings.storage.lease_seconds
        self.replica = Replica(
            self.db,
            replica_id=new_replica_id(env.get(ENV_REPLICA_ID)),
            version=__version__,
            lease_seconds=lease,
        )
        self.worker = DeliveryWorker(
            self.db,
            self.senders,
            settings.delivery,
            self.metrics,
            intervals=intervals(settings.delivery),
            holder=self.replica.id,
            channel_lease_seconds=lease,
        )
        self.listener = self._build_listener()
        self.pipeline = Pipeline(settings, IngestBatcher(self.db), self.metrics, self._rows_committed)
        self.mutes = MuteRefresh(self.db, self.pipeline)
        self.reload_mutes = self.mutes.reload
        self.slack_client = slack_client(settings, env)
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
        self.slack_app = build_slack_app(
            settings, env, self.ctx, self.slack_client, self.admins, self.slack_sender
        )
        self.socket_mode = build_socket_mode(env, self.slack_app)
        self.teams = build_teams_commands(
            settings, self.graph, self.db, self.ctx, self.senders, gate=self.replica.holds
        )
        self.pollers = Pollers(gate=self.replica)
        self.marketo = build_marketo(settings.marketo, self.db, self.pipeline, self.pollers)
        self.adobe_io = build_adobe_io(
            settings, env, self.db, self.pipeline.accept, self.metrics, self.pollers
        )
        self.journal = self.adobe_io.journal if self.adobe_io else None
        retention = settings.storage.retention
        self.pruner = (
            Pruner(
                self.db,
                retention_windows(retention),
                retention.every.total_seconds(),
                self.metrics,
                gate=self.replica.holds,
            )
            if retention.enabled
            else None
        )
        self.email = build_email(
            settings.email,
            self.db,
            self.pipeline.accept,
            self.pollers,
            env.get,
            self.graph.client if self.graph else None,
        )
        console = None
        if settings.server.console:  # Jinja2 and the pages load only when the console is on
            from notifbot.ui.console import build_console

            console = build_console(settings, env, self.db, self._rows_committed, self.metrics)
        self.asgi = build_app(
            WebDeps(
                pipeline=self.pipeline,
                metrics=self.metrics,
                webhook_token=env.webhook_token,
                max_body_bytes=settings.server.max_body_bytes,
                ready=self.not_ready_reason,
                refresh_gauges=self.refresh_gauges,
                slack=self.slack_app.http if self.slack_app else None,
                adobe_io=self.adobe_io.endpoint if self.adobe_io else None,
                teams=self.teams.endpoint if self.teams else None,
                console=console,
            )
        )
        # start order (the database is already open); `stop` runs it backwards
        self.components: list[tuple[str, Component | None]] = [
            ("graph", self.graph),
            ("marketo", self.marketo),
            ("adobe_io", self.adobe_io),
            # before the worker and the pollers: its leases are released after they stop
            ("replica", self.replica),
            ("delivery", self.worker),
            ("retention", self.pruner),
            ("mutes", self.mutes),
            ("listener", self.listener),  # other replicas' mutes and wake-ups, once the mutes are loaded
            ("pollers", self.pollers),
            ("email", self.email),  # after the scheduler: stops first, so no IDLE wait is cancelled mid-poll
            ("teams_commands", self.teams),
            ("slack_socket_mode", self.socket_mode),
            ("slack_token_check", SlackTokenCheck(self.slack_sender) if self.slack_sender else None),
        ]

    def _build_listener(self) -> Listener | None:
        """On PostgreSQL: hears the other replicas' mutes and outbox wake-ups; None on SQLite (one process)."""
        url = self._database_url()
        if url is None:
            return None

        async def resync() -> None:  # whatever was announced while disconnected is lost: look at everything
            await self.reload_mutes()
            self.worker.wake()

        async def mutes_changed(topic: str, payload: str) -> None:
            await self.reload_mutes()

        def rows_due(topic: str, payload: str) -> None:
            channel = channel_of(topic)
            if channel is not None:
                self.worker.wake([channel])

        listener = Listener(url, resync)
        listener.on("mutes", mutes_changed)
        listener.on("outbox", rows_due)
        return listener

    def _database_url(self) -> str | None:
        """The PostgreSQL URL of the store, or None on SQLite."""
        found = database_url(self.settings.storage, self.env)
        return found[0] if found else None

    def _rows_committed(self, channels: Iterable[tuple[str, str]]) -> None:
        """New outbox rows: this worker looks at once, and the replica draining a channel is told (PostgreSQL)."""
        channels = list(channels)
        self.worker.wake(channels)
        if self.listener is not None:
            self.listener.publish_channels(channels)

    def _build_senders(self, stdout: TextIO | None) -> dict[str, Sender]:
        context = SenderContext(
            links=link_policy(self.settings),  # which hosts every renderer may label as Marketo's
            stdout=stdout,
            slack_token=self.env.slack_bot_token or "",
            slack_api_url=self.env.slack_api_url(self.settings),
            slack_timeout=self.settings.slack.timeout_seconds,
            slack_interactive=slack_interactive(self.settings, self.env),
            graph=self.graph,
            locale=self.settings.locale,
            timezone=self.settings.timezone,
            templates=compile_templates(self.settings.templates),
        )
        senders = build_senders(self.settings.destinations, context)
        slack = senders.get("slack")
        self.slack_sender = slack.sender if isinstance(slack, SlackDelivery) else None
        return senders

    async def start(self) -> None:
        """Starts the components in order; when one fails, those started stop again and the database closes."""
        try:
            for name, component in self.components:
                if component is None:
                    continue
                await self._stack.enter_async_context(component)
                log.debug("started %s", name, extra={"component": name})
                self._stack.callback(log.debug, "stopping %s", name, extra={"component": name})
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stops intake (readiness goes 503), then every component in reverse order (again is a no-op)."""
        self.stopping = True
        await self._stack.aclose()

    async def not_ready_reason(self) -> str | None:
        """None when ready, that is when an event can be committed now; otherwise why not (within 2 s)."""
        if self.stopping:
            return "shutting down"
        if not self.worker.running:
            return "delivery worker is not running"
        problem = await self.db.write_problem()
        return problem or self.replica.renewal_problem()

    async def refresh_gauges(self) -> None:
        """Reads the outbox depth and the Marketo call counts into the metrics gauges."""
        self.metrics.set_depth(await self.db.read(depth_by_type))
        if self.marketo is not None:
            self.marketo.update_gauges(self.metrics)
