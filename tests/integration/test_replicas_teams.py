"""Teams commands with two replicas on one PostgreSQL: one replica keeps the subscription, a notification landing on
the other is accepted, and each command is answered once."""

from __future__ import annotations

import asyncio
import io
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from notifbot.app import Bot
from notifbot.config.env import Env
from tests.fakes.graph import FakeGraph
from tests.integration.conftest import make_settings, wait_for

TEAM = "0a1b2c3d-4e5f-4a5b-8c7d-9e0f1a2b3c4d"
CHANNEL = "19:ops0123456789@thread.tacv2"
TOKEN = "graph-test-token"
ADA = ("aaaaaaaa-0000-0000-0000-000000000001", "Ada Admin")

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph(token=TOKEN, min_interval=0.2) as fake:
        fake.channels.add((TEAM, CHANNEL))
        yield fake


class Replica:
    """A Bot behind a real uvicorn on its own socket; Graph notifies `notify_url` (the balancer's choice)."""

    def __init__(
        self, tmp_path: Path, storage: dict[str, Any], graph: FakeGraph, name: str, notify_url: str
    ) -> None:
        (tmp_path / name).mkdir()
        settings = make_settings(
            tmp_path / name,
            # both replicas share this test's event loop: a long lease, so one's start-up cannot starve the other's
            # heartbeat (separate processes: tests/integration/test_replicas_process.py, lease 1 s)
            storage={**storage, "lease_seconds": 5},
            destinations={"ops": {"type": "teams", "team_id": TEAM, "channel_id": CHANNEL}},
            routes=[{"to": ["ops"]}],
            teams={
                "admins": [ADA[0]],
                "commands": {
                    "notification_url": notify_url,
                    "channels": [{"team_id": TEAM, "channel_id": CHANNEL}],
                    "check_seconds": 0.2,
                },
            },
        )
        env = Env(
            {"GRAPH_ACCESS_TOKEN": TOKEN, "GRAPH_API_URL": graph.graph_url, "NOTIFBOT_REPLICA_ID": name}
        )
        self.bot = Bot(settings, env, stdout=io.StringIO())
        self.server = uvicorn.Server(uvicorn.Config(self.bot.asgi, log_level="warning", lifespan="off"))
        self.task: asyncio.Task[None] | None = None

    async def listen(self, sock: socket.socket) -> None:
        self.task = asyncio.create_task(self.server.serve(sockets=[sock]))
        await wait_for(lambda: self.server.started)

    async def close(self) -> None:
        if not self.bot.stopping:
            await self.bot.stop()
        if self.task is not None:
            self.server.should_exit = True
            await self.task


def _stored_subscriptions(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM teams_subscriptions").fetchone()
        return int(row[0]) if row else 0


def _socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


async def test_one_replica_keeps_the_subscription_and_each_command_is_answered_once(
    tmp_path: Path, storage: dict[str, Any], graph: FakeGraph
) -> None:
    sock_a, sock_b = _socket(), _socket()
    # the balancer sends every Graph notification to B, while A (started first) holds both Teams leases
    notify_url = f"http://127.0.0.1:{sock_b.getsockname()[1]}/teams/notifications"
    a = Replica(tmp_path, storage, graph, "a", notify_url)
    b = Replica(tmp_path, storage, graph, "b", notify_url)
    try:
        await a.listen(sock_a)
        await b.listen(sock_b)  # answers Graph's validation of the URL; its bot is not started yet
        await a.bot.start()
        await b.bot.start()  # before A made the subscription: B learns it when a notification names it
        await wait_for(lambda: len(graph.subscriptions) == 1)
        await wait_for(
            lambda: _stored_subscriptions(storage["url"]) == 1
        )  # A recorded it, after Graph made it
        messages = []
        for text in ("quota", "help", "status"):
            message, statuses = await graph.user_posts(
                TEAM, CHANNEL, f'<p><at id="0">notifbot</at>&nbsp;{text}</p>', user=ADA
            )
            assert statuses == [202]  # B knew the subscription A made (read from the database)
            messages.append(message)
        await wait_for(lambda: all(len(graph.replies(m.id)) == 1 for m in messages), timeout=15)
        await asyncio.sleep(1.0)  # a second answer from the other replica would arrive now
        assert [len(graph.replies(m.id)) for m in messages] == [1, 1, 1]
        assert len(graph.subscriptions) == 1  # B never made its own
    finally:
        await b.close()
        await a.close()
        for sock in (sock_a, sock_b):
            sock.close()
