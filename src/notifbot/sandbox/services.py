"""The fake services the bot talks to (Slack Web API, response_url, Teams Workflows) as one loopback-only app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp

from notifbot.sandbox.chat import Chat
from notifbot.sandbox.guard import LoopbackHostOnly
from notifbot.sandbox.slack_api import TOKEN, SlackApi
from notifbot.sandbox.teams import TeamsWorkflows


class Services:
    """One chat and the services over it; `bind` tells them their address once the server has a port."""

    def __init__(self, chat: Chat | None = None, *, token: str = TOKEN, sig: str | None = None) -> None:
        self.chat = chat or Chat()
        self.slack = SlackApi(self.chat, token)
        self.teams = TeamsWorkflows(self.chat, sig)

    def bind(self, host: str, port: int) -> None:
        """Sets the base URL the response_url and workflow URLs are built on."""
        literal = f"[{host}]" if ":" in host else host
        self.slack.base_url = self.teams.base_url = f"http://{literal}:{port}"

    def routes(self) -> list[Route]:
        """The services' routes, for an app of their own (`app`) or beside the sandbox page."""
        return [*self.slack.routes(), *self.teams.routes()]

    def app(self, port: int | None = None) -> ASGIApp:
        """The Starlette app, answering only requests whose Host is loopback (and `port`, when given)."""
        return LoopbackHostOnly(Starlette(routes=self.routes()), port)
