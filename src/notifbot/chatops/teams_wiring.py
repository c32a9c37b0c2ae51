"""The Teams components built from settings: the Graph client, and commands typed in Teams channels
(subscriptions, the inbox worker, the endpoint Graph notifies). msgraph loads only when Teams is configured."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from notifbot.commands.model import CommandContext
from notifbot.config import Env, Settings
from notifbot.delivery.worker import Sender
from notifbot.store.runner import Database

if TYPE_CHECKING:
    from notifbot.chatops.teams_inbox import TeamsInbox
    from notifbot.chatops.teams_notifications import NotificationEndpoint
    from notifbot.chatops.teams_subscriptions import SubscriptionManager
    from notifbot.teams.graph import GraphApi


def build_graph(settings: Settings, env: Env) -> GraphApi | None:
    """The Graph client (closed on stop), only when a Teams destination, Teams commands or a mailbox read through
    Graph (`email.mailboxes[].graph`) are configured."""
    if not (
        any(d.type == "teams" for d in settings.destinations.values())
        or settings.teams.commands.channels
        or any(m.graph is not None for m in settings.email.mailboxes)
    ):
        return None
    from notifbot.teams.auth import credential_for
    from notifbot.teams.graph import GraphApi

    return GraphApi(credential_for(settings.teams, env.graph_access_token), env.graph_url(settings))


@dataclass(frozen=True)
class TeamsCommands:
    """Started: subscriptions loaded and kept alive, the inbox answering; stopped: both tasks ended."""

    subscriptions: SubscriptionManager
    inbox: TeamsInbox
    endpoint: NotificationEndpoint

    async def __aenter__(self) -> TeamsCommands:
        await self.subscriptions.load()
        self.subscriptions.start()
        self.inbox.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.subscriptions.stop()
        await self.inbox.stop()


def build_teams_commands(
    settings: Settings,
    graph: GraphApi | None,
    db: Database,
    ctx: CommandContext,
    senders: Mapping[str, Sender],
    gate: Callable[[str], Awaitable[bool]] | None = None,
) -> TeamsCommands | None:
    """None unless `teams.commands.channels` lists channels (and so the Graph client exists); `gate` says whether
    this replica holds a loop's lease (several replicas: one keeps the subscriptions, one answers commands)."""
    commands = settings.teams.commands
    if graph is None or not commands.channels:
        return None
    from notifbot.chatops.teams_inbox import TeamsInbox
    from notifbot.chatops.teams_notifications import NotificationEndpoint
    from notifbot.chatops.teams_subscriptions import SubscriptionManager
    from notifbot.destinations.teams import TeamsGraphDelivery

    subs = SubscriptionManager(
        graph,
        db,
        commands,
        check_seconds=commands.check_seconds,
        first_delay=min(2.0, commands.check_seconds),
        gate=gate,
    )
    alerts = senders.get("teams")  # `ack` in an alert's thread edits the alert card through the Teams sender
    inbox = TeamsInbox(
        graph,
        db,
        ctx,
        bot_name=settings.teams.bot_name,
        admins=settings.teams.admins,
        alerts=alerts if isinstance(alerts, TeamsGraphDelivery) else None,
        gate=gate,
    )
    return TeamsCommands(subs, inbox, NotificationEndpoint(subs.client_state, inbox.enqueue, subs.refresh))
