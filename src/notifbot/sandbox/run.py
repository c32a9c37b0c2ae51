"""`notifbot sandbox`: the bot on your configuration, beside a local chat server that plays Slack and Teams.

Both servers run on one event loop: the chat server first (the bot calls `auth.test` while it starts), then
`serving.serve` exactly as `notifbot serve` runs it, with settings derived from yours so every chat destination
posts to the chat server over real loopback HTTP. When `serve` returns (SIGINT/SIGTERM) the chat server stops.
"""

from __future__ import annotations

import asyncio
import errno
import secrets
import socket
import tempfile
import webbrowser
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import httpx
import uvicorn
from starlette.applications import Starlette

from notifbot.config import (
    Env,
    MarketoInstance,
    Route,
    Settings,
    TeamsSettings,
    load_settings,
    semantic_problems,
)
from notifbot.destinations import Destination, SlackDestination, TeamsWorkflowDestination
from notifbot.errors import ConfigError, NotifbotError
from notifbot.sandbox.guard import LoopbackHostOnly, require_loopback
from notifbot.sandbox.interact import BotLink
from notifbot.sandbox.marketo import MarketoApi, seed_quota_samples
from notifbot.sandbox.marketo_story import MarketoStory
from notifbot.sandbox.page import ConsoleLink, Page
from notifbot.sandbox.services import Services
from notifbot.sandbox.slack_api import TOKEN, YOU
from notifbot.serving import serve
from notifbot.store.open import open_database

DEFAULT_PORT = 8090
BOT_HOST = "127.0.0.1"
SANDBOX_CHANNEL = "C0SANDBOX1"  # the channel added when the configuration has no Slack or Teams destination
SANDBOX_DESTINATION = "sandbox"
BACKLOG = 128
STARTED_SECONDS = 60.0  # how long the bot may take to answer /healthz before the sandbox gives up waiting


class SandboxError(NotifbotError):
    """The sandbox cannot start: its port is taken or its address cannot be had."""


@dataclass(frozen=True)
class Options:
    """The command line of `notifbot sandbox`."""

    config: str | None = None
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    db: str | None = None
    open_browser: bool = False
    marketo: bool = False  # a fake Marketo instance (sandbox/marketo.py) the bot's pollers read


@dataclass(frozen=True)
class Derived:
    """The bot's settings for the sandbox, and each chat channel's name on the page (its destination's)."""

    settings: Settings
    channels: dict[str, str]


def _free(name: str, taken: Mapping[str, object]) -> str:
    """`name`, or `name-2`, `name-3`… whichever no destination has."""
    found, n = name, 1
    while found in taken:
        n += 1
        found = f"{name}-{n}"
    return found


def derive(
    base: Settings,
    services: Services,
    *,
    port: int,
    db_path: str,
    marketo: MarketoInstance | None = None,
) -> Derived:
    """`base` rewritten for the sandbox: chat destinations on the chat server, a Teams twin for every Slack
    destination on the same routes, SQLite at `db_path`, the bot on loopback, nothing that reaches the outside.

    Routes, noise, groups, digests, templates and languages stay yours; the console at /ui is on. Marketo, Adobe
    I/O and mailbox sources and Teams over Graph are left out: the sandbox talks to nothing but itself (and
    `marketo`, the fake instance on the chat server, when given).
    """
    s = base.model_copy(deep=True)
    s.server = s.server.model_copy(
        update={
            "host": BOT_HOST,
            "port": port,
            "proxy_headers": False,
            "forwarded_allow_ips": [],
            "console": True,  # signed in from the page's "Open console" (page.py `/console`)
        }
    )
    s.storage = s.storage.model_copy(update={"url": None, "path": db_path})
    admins = [*s.slack.admins, *([] if YOU in s.slack.admins else [YOU])]
    s.slack = s.slack.model_copy(update={"api_url": services.slack.api_url, "admins": admins})
    s.teams = TeamsSettings()
    s.marketo = s.marketo.model_copy(update={"instances": [marketo] if marketo else []})
    s.adobe_io = None
    s.email = s.email.model_copy(update={"mailboxes": []})

    destinations: dict[str, Destination] = {}
    channels: dict[str, str] = {}
    for name, dest in base.destinations.items():
        if isinstance(dest, SlackDestination):
            destinations[name] = dest
            channels.setdefault(dest.channel, name)
        elif dest.type in ("teams", "teams_workflow"):
            destinations[name] = TeamsWorkflowDestination(
                type="teams_workflow",
                url=services.teams.url(name),
                locale=dest.locale,
                timezone=dest.timezone,
            )
            channels.setdefault(name, name)
        else:
            destinations[name] = dest
    routes = list(s.routes)
    if not channels:  # the embedded default posts to the console only: add a channel that sees everything
        name = _free(SANDBOX_DESTINATION, destinations)
        destinations[name] = SlackDestination(type="slack", channel=SANDBOX_CHANNEL)
        routes.insert(0, Route.model_validate({"to": [name], "continue": True}))
        channels[SANDBOX_CHANNEL] = name
    twins: dict[str, str] = {}
    for name, dest in list(destinations.items()):
        if isinstance(dest, SlackDestination):
            twins[name] = _free(f"{name}-teams", destinations)
            destinations[twins[name]] = TeamsWorkflowDestination(
                type="teams_workflow",
                url=services.teams.url(dest.channel),  # the Slack channel's own page column
                locale=dest.locale,
                timezone=dest.timezone,
            )
    s.destinations = destinations
    s.routes = [
        r.model_copy(update={"to": [t for n in r.to for t in (n, *((twins[n],) if n in twins else ()))]})
        for r in routes
    ]
    problems = semantic_problems(s)
    if problems:
        raise ConfigError([f"sandbox: {p}" for p in problems])
    return Derived(s, channels)


def sandbox_env(
    environ: Mapping[str, str], signing_secret: str, api_url: str, console: ConsoleLink | None = None
) -> Env:
    """The bot's environment: the sandbox's Slack token, signing secret and API URL, its console tokens, your
    webhook token if set, and nothing else (no Socket Mode token, database URL or Graph token reaches the
    sandbox's bot; console tokens of yours neither: the sandbox signs you in with its own)."""
    values = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": signing_secret, "SLACK_API_URL": api_url}
    values.update(console.env() if console is not None else {})
    token = environ.get("NOTIFBOT_WEBHOOK_TOKEN")
    if token:
        values["NOTIFBOT_WEBHOOK_TOKEN"] = token
    return Env(values)


def bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets on every address of host:port (both for localhost); SandboxError if it cannot be had."""
    sockets: list[socket.socket] = []
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
            port = port or int(sock.getsockname()[1])  # localhost's second address takes the first one's port
    except OSError as exc:
        for sock in sockets:
            sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise SandboxError(
                f"port {port} on {host} is already in use: stop the other program, or choose another port with "
                f"`notifbot sandbox --port {port + 1}` or `make sandbox PORT={port + 1}`"
            ) from None
        raise SandboxError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sockets


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((BOT_HOST, 0))
        return int(sock.getsockname()[1])


def page_url(host: str, port: int) -> str:
    literal = f"[{host}]" if ":" in host else host
    return f"http://{literal}:{port}/"


class _ChatServer(uvicorn.Server):
    """uvicorn without its own signal capture: `serve` owns SIGINT/SIGTERM, and its return stops this server."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _announce(
    url: str, bot_url: str, bot: asyncio.Task[int], stdout: TextIO, open_browser: bool
) -> None:
    """Prints the page URL once the bot answers too (both servers bound and started)."""
    async with httpx.AsyncClient(timeout=2.0) as client:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTED_SECONDS
        while not bot.done() and loop.time() < deadline:
            try:
                if (await client.get(f"{bot_url}/healthz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
        else:
            return
    print(f"notifbot sandbox: {url}", file=stdout)
    print(f"  the bot: {bot_url} (notifbot send FILE --url {bot_url} posts your own events)", file=stdout)
    print("  Ctrl-C stops both", file=stdout, flush=True)
    if open_browser:
        webbrowser.open(url)


async def run(options: Options, environ: Mapping[str, str], stdout: TextIO) -> int:
    """Runs the sandbox until SIGINT/SIGTERM; the exit code of `serve`."""
    require_loopback(options.host)
    base = load_settings(options.config, environ)
    sockets = bind(options.host, options.port)
    try:
        with tempfile.TemporaryDirectory(prefix="notifbot-sandbox-") as tmp:
            db = options.db or str(Path(tmp) / "sandbox.db")
            return await _run(options, base, sockets, db, environ, stdout)
    finally:
        for sock in sockets:
            sock.close()


async def _run(
    options: Options,
    base: Settings,
    sockets: list[socket.socket],
    db: str,
    environ: Mapping[str, str],
    stdout: TextIO,
) -> int:
    port = int(sockets[0].getsockname()[1])
    services = Services()
    services.bind(options.host, port)
    fake = (
        MarketoApi(MarketoStory(thresholds=tuple(base.marketo.quota_thresholds))) if options.marketo else None
    )
    instance = MarketoInstance.model_validate(fake.instance_entry(services.slack.base_url)) if fake else None
    derived = derive(base, services, port=_free_port(), db_path=db, marketo=instance)
    secret = secrets.token_hex(16)
    console = ConsoleLink(derived.settings.server.port)
    env = sandbox_env(environ, secret, services.slack.api_url, console)
    if (
        fake is not None
    ):  # the story's morning, as the quota poller would have stored it, before the bot starts
        async with open_database(derived.settings.storage, env) as store:
            await store.call(seed_quota_samples, fake.story, datetime.now(UTC))
    bot_url = f"http://{BOT_HOST}:{derived.settings.server.port}"
    link = BotLink(
        services.chat,
        services.slack,
        bot_url=bot_url,
        signing_secret=secret,
        command=derived.settings.slack.command,
        webhook_token=env.webhook_token,
        channel_names=derived.channels,
        email_rules=derived.settings.email.compiled_rules(),
    )
    page = Page(services.chat, link, channels=derived.channels, bot_url=bot_url, console=console)
    routes = [*services.routes(), *page.routes(), *(fake.routes() if fake else [])]
    app = LoopbackHostOnly(Starlette(routes=routes), port)
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=1,
        server_header=False,
    )
    chat = _ChatServer(config)
    chat_task = asyncio.create_task(chat.serve(sockets=sockets))
    try:
        while not chat.started:
            if chat_task.done():
                return 1
            await asyncio.sleep(0.01)
        bot = asyncio.create_task(serve(derived.settings, env))
        announce = asyncio.create_task(
            _announce(page_url(options.host, port), bot_url, bot, stdout, options.open_browser)
        )
        try:
            return await bot
        finally:
            announce.cancel()
    finally:
        chat.should_exit = True
        await chat_task
        await link.aclose()
