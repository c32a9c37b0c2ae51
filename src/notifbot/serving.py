"""`notifbot serve`: runs the composed bot behind uvicorn until SIGINT/SIGTERM, then drains and exits."""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import uvicorn

from notifbot import __version__
from notifbot.app import Bot
from notifbot.config import Env, Settings
from notifbot.errors import NotifbotError
from notifbot.http_server import ensure_open_files, uvicorn_config
from notifbot.store.open import describe

log = logging.getLogger("notifbot.app")

BACKLOG = 2048  # uvicorn's default (its create_server listens on our sockets again with its own)


class _Server(uvicorn.Server):
    """uvicorn without its own signal capture: `serve` handles signals so it can drain and exit 0."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class PortUnavailable(NotifbotError):
    """The address `serve` was told to listen on cannot be had: taken, not this machine's, or not allowed."""


def _taken(host: str, port: int) -> str:
    return (
        f"port {port} on {host} is already in use (another notifbot or another program is listening there): "
        f"stop it, or choose another port with `make run PORT={port + 1}`, `notifbot serve --port {port + 1}` "
        "or server.port in the config"
    )


def listen(host: str, port: int, backlog: int) -> list[socket.socket]:
    """Sockets listening on every address of host:port, as uvicorn would bind them; PortUnavailable if not.

    Bound before the bot starts so that a taken port stops `serve` at once with what to do, and "serving" is
    logged only for a port that is ours.
    """
    sockets: list[socket.socket] = []
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:  # as asyncio does: "::" is IPv6 only, 0.0.0.0 binds IPv4 itself
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(backlog)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortUnavailable(_taken(host, port)) from None
        raise PortUnavailable(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} (server.host, server.port, "
            "`notifbot serve --host/--port`)"
        ) from None
    return sockets


async def serve(settings: Settings, env: Env, *, stdout: TextIO | None = None) -> int:
    """Runs the bot until SIGINT/SIGTERM, then drains and returns the exit code (1 if the port is unavailable)."""
    ensure_open_files(settings.server.max_connections)
    host, port = settings.server.host, settings.server.port
    try:
        sockets = listen(host, port, BACKLOG)
    except PortUnavailable as exc:
        log.error(str(exc))
        return 1
    try:
        return await _serve(settings, env, sockets, stdout)
    finally:
        for sock in sockets:
            sock.close()


async def _serve(settings: Settings, env: Env, sockets: list[socket.socket], stdout: TextIO | None) -> int:
    """Runs the bot on sockets already listening, until SIGINT/SIGTERM."""
    host, port = settings.server.host, int(sockets[0].getsockname()[1])
    bot = Bot(settings, env, stdout=stdout)

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
            "url": f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}",
            "config": settings.source,
            "database": describe(settings.storage, env),
            "destinations": sorted(settings.destinations),
        },
    )
    try:
        await server.serve(sockets=sockets)
    finally:
        await bot.stop()
        log.info("notifbot stopped")
    return 0 if server.started or bot.stopping else 1
