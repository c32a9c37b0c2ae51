"""The Slack command components built from settings: the Web API client, the Bolt app, Socket Mode (Bolt loads
only when the Slack app is in use)."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

from notifbot.chatops.slack_admins import AdminCheck
from notifbot.commands.model import CommandContext
from notifbot.config import Env, Settings
from notifbot.slack.sender import SlackSender

if TYPE_CHECKING:
    from notifbot.chatops.slack_app import SlackApp

log = logging.getLogger("notifbot.slack")


def slack_interactive(settings: Settings, env: Env) -> bool:
    """True when a Slack app receives commands and button clicks (HTTP signing secret or Socket Mode)."""
    return bool(
        settings.slack.interactive
        and env.slack_bot_token
        and (env.slack_signing_secret or env.slack_app_token)
    )


def slack_client(settings: Settings, env: Env) -> AsyncWebClient | None:
    """The Web API client commands use (user groups for the admin check, Bolt), when a bot token is set."""
    if not env.slack_bot_token:
        return None
    return AsyncWebClient(token=env.slack_bot_token, base_url=env.slack_api_url(settings))


def build_slack_app(
    settings: Settings,
    env: Env,
    ctx: CommandContext,
    client: AsyncWebClient | None,
    admins: AdminCheck,
    sender: SlackSender | None = None,
) -> SlackApp | None:
    """The Bolt app answering `/marketo` and the alert buttons, when Slack is interactive.

    Alerts are edited (Acknowledge) through `sender`, the Slack destination's classified, scrubbing client, or
    one of the same kind when no Slack destination is configured.
    """
    if not slack_interactive(settings, env) or client is None:
        return None
    from notifbot.chatops.slack_app import SlackApp

    if sender is None:
        sender = SlackSender(
            env.slack_bot_token or "", env.slack_api_url(settings), timeout=settings.slack.timeout_seconds
        )
    return SlackApp(ctx, client, settings.slack.command, admins, env.slack_signing_secret, sender=sender)


class SocketMode:
    """Slack over a WebSocket (no public URL needed): connected on start (a failure is logged and retried by the
    client), closed on stop."""

    def __init__(self, app: SlackApp, app_token: str) -> None:
        self.app = app
        self.app_token = app_token
        self.handler: Any = None

    async def __aenter__(self) -> SocketMode:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        self.handler = AsyncSocketModeHandler(self.app.bolt, self.app_token)
        try:
            await self.handler.connect_async()
            log.info("slack socket mode connected")
        except Exception as exc:
            log.error("slack socket mode could not connect: %s", exc)
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            await self.handler.close_async()


def build_socket_mode(env: Env, app: SlackApp | None) -> SocketMode | None:
    """Socket Mode when SLACK_APP_TOKEN is set and the Slack app is in use."""
    if app is None or not env.slack_app_token:
        return None
    return SocketMode(app, env.slack_app_token)
