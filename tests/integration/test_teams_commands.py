"""Commands from Teams end to end: a real uvicorn serving the bot, the fake Graph validating, notifying and replying."""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from notifbot.app import Bot
from notifbot.chatops.teams_subscriptions import SubscriptionManager
from notifbot.commands.quota import TITLE as QUOTA_TITLE
from notifbot.config.env import Env
from notifbot.destinations.teams import UPDATE_RATE_LIMITS
from notifbot.errors import DeliveryError
from notifbot.kinds import load_samples
from notifbot.store.runner import Database
from notifbot.teams.graph import GraphApi
from tests.fakes.graph import BOT_USER, Failure, FakeGraph, Message, Subscription
from tests.integration.conftest import make_settings, wait_for
from tests.unit.render.teams_helpers import assert_valid_card

TEAM = "0a1b2c3d-4e5f-4a5b-8c7d-9e0f1a2b3c4d"
CHANNEL = "19:ops0123456789@thread.tacv2"
TOKEN = "graph-test-token"
ADA = ("aaaaaaaa-0000-0000-0000-000000000001", "Ada Admin")


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph(token=TOKEN, min_interval=0.2) as fake:
        fake.channels.add((TEAM, CHANNEL))
        yield fake


class Served:
    """A started Bot behind a real uvicorn on a loopback port (Graph must reach its notification URL)."""

    def __init__(self, bot: Bot, url: str, server: uvicorn.Server, task: asyncio.Task[None]) -> None:
        self.bot, self.url, self.server, self.task = bot, url, server, task

    def inbox(self) -> list[sqlite3.Row]:
        conn = sqlite3.connect(self.bot.settings.storage.path)
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute("SELECT * FROM teams_inbox ORDER BY id").fetchall()
        finally:
            conn.close()

    def settled(self, at_least: int = 0) -> bool:
        """At least `at_least` notifications stored and none pending, read in one snapshot (a second read could
        see a row that arrived pending after the first said all were done)."""
        rows = self.inbox()
        return len(rows) >= at_least and all(r["status"] != "pending" for r in rows)


@pytest.fixture
async def served(tmp_path: Path, graph: FakeGraph) -> AsyncIterator[Served]:
    async with serve(tmp_path, graph) as started:
        yield started


@contextlib.asynccontextmanager
async def serve(tmp_path: Path, graph: FakeGraph, **ops: Any) -> AsyncIterator[Served]:
    """The bot with one Teams destination (`ops` adds to its settings) listening for commands in its channel."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = make_settings(
        tmp_path,
        destinations={"ops": {"type": "teams", "team_id": TEAM, "channel_id": CHANNEL, **ops}},
        routes=[{"to": ["ops"]}],
        delivery={"teams_interval_seconds": 0.2},
        teams={
            "admins": [ADA[0]],
            "commands": {
                "notification_url": f"{url}/teams/notifications",
                "channels": [{"team_id": TEAM, "channel_id": CHANNEL}],
                "check_seconds": 0.2,
            },
        },
    )
    bot = Bot(
        settings, Env({"GRAPH_ACCESS_TOKEN": TOKEN, "GRAPH_API_URL": graph.graph_url}), stdout=io.StringIO()
    )
    server = uvicorn.Server(uvicorn.Config(bot.asgi, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await wait_for(lambda: server.started)
    await bot.start()
    yield Served(bot, url, server, task)
    await bot.stop()
    server.should_exit = True
    await task
    sock.close()


async def subscription(graph: FakeGraph) -> Subscription:
    """The bot's one Graph subscription, once it has made it."""
    await wait_for(lambda: len(graph.subscriptions) == 1)
    [sub] = graph.subscriptions.values()
    return sub


async def alert_posted(served: Served, graph: FakeGraph) -> Message:
    """Sends a sample event once the subscription exists and returns the alert the bot posted to the channel."""
    await wait_for(lambda: len(graph.subscriptions) == 1)
    async with httpx.AsyncClient() as client:
        r = await client.post(f"{served.url}/hooks/events", json=load_samples()["crm_sync"])
    assert r.status_code == 202
    await wait_for(lambda: len(graph.top_level(TEAM, CHANNEL)) == 1)
    [alert] = graph.top_level(TEAM, CHANNEL)
    return alert


async def test_a_command_is_answered_in_its_thread_from_the_command_core(
    served: Served, graph: FakeGraph
) -> None:
    sub = await subscription(graph)  # created only after the fake validated our endpoint
    assert sub.resource == f"/teams/{TEAM}/channels/{CHANNEL}/messages" and sub.client_state
    message, statuses = await graph.user_posts(
        TEAM, CHANNEL, '<p><at id="0">notifbot</at>&nbsp;quota</p>', user=ADA
    )
    # answered with 202 before any Graph work (Graph's 3 s deadline is a latency, measured in bench/, not here)
    assert statuses == [202]
    await wait_for(lambda: len(graph.replies(message.id)) == 1)
    [reply] = graph.replies(message.id)
    card = reply.card()
    assert_valid_card(card)
    assert card["body"][0]["inlines"][0]["text"] == QUOTA_TITLE
    # the bot's own reply was notified too, and ignored; so is a message not addressed to the bot
    plain, _ = await graph.user_posts(TEAM, CHANNEL, "notifbot help", user=ADA)
    chatter, _ = await graph.user_posts(TEAM, CHANNEL, "<p>hello team, notifbot is great</p>", user=ADA)
    await wait_for(lambda: len(graph.replies(plain.id)) == 1 and served.settled(at_least=5))
    assert graph.replies(chatter.id) == []
    assert "@notifbot quota" in str(graph.replies(plain.id)[0].card())
    statuses_by_resource = {r["resource"]: r["status"] for r in served.inbox()}
    own = [res for res, st in statuses_by_resource.items() if "/replies(" in res]
    assert own and all(statuses_by_resource[res] == "ignored" for res in own)
    assert len(graph.replies(message.id)) == 1


async def test_a_reply_that_went_through_despite_a_503_is_not_posted_again(
    served: Served, graph: FakeGraph
) -> None:
    await wait_for(lambda: len(graph.subscriptions) == 1)
    graph.fail_next.append(Failure(503, commit=True))  # Graph stores the reply, then answers 503
    message, statuses = await graph.user_posts(TEAM, CHANNEL, "@notifbot help", user=ADA)
    assert statuses == [202]
    await wait_for(lambda: any(r["status"] == "answered" for r in served.inbox()), timeout=20.0)
    assert len(graph.replies(message.id)) == 1, "the retry found the earlier reply instead of posting twice"
    [row] = [r for r in served.inbox() if r["status"] == "answered"]
    assert row["attempts"] == 2, "answered on the retry, after the 503"
    assert row["reply_id"] == graph.replies(message.id)[0].id


async def test_wrong_client_state_is_rejected_and_nothing_queued(served: Served, graph: FakeGraph) -> None:
    await wait_for(lambda: len(graph.subscriptions) == 1)
    message, statuses = await graph.user_posts(
        TEAM, CHANNEL, "@notifbot quota", client_state="forged", user=ADA
    )
    assert statuses == [401]
    await asyncio.sleep(0.3)
    assert served.inbox() == [] and graph.replies(message.id) == []


async def test_messages_from_the_service_account_itself_are_ignored(served: Served, graph: FakeGraph) -> None:
    await wait_for(lambda: len(graph.subscriptions) == 1)
    me = (BOT_USER["id"], BOT_USER["displayName"])
    message, statuses = await graph.user_posts(TEAM, CHANNEL, "@notifbot help", user=me)
    assert statuses == [202]
    await wait_for(lambda: served.settled(at_least=1))
    assert [r["status"] for r in served.inbox()] == ["ignored"] and graph.replies(message.id) == []


async def test_ack_in_an_alert_thread_edits_the_alert_in_place(served: Served, graph: FakeGraph) -> None:
    alert = await alert_posted(served, graph)
    assert alert.user["id"] == BOT_USER["id"]
    await graph.user_posts(TEAM, CHANNEL, "@notifbot ack", user=ADA, reply_to=alert.id)
    await wait_for(lambda: alert.edits == 1 and len(graph.replies(alert.id)) == 2)
    assert "Acknowledged by Ada Admin" in str(alert.card())
    assert_valid_card(alert.card())
    await graph.user_posts(TEAM, CHANNEL, "@notifbot ack", user=("bbbb", "Bob"), reply_to=alert.id)
    await wait_for(lambda: len(graph.replies(alert.id)) == 4)
    assert alert.edits == 1 and "Only notifbot admins" in str(graph.replies(alert.id)[-1].card())


async def test_a_non_admin_mute_in_teams_is_refused_naming_teams_admins(
    served: Served, graph: FakeGraph
) -> None:
    await wait_for(lambda: len(graph.subscriptions) == 1)
    bob, _ = await graph.user_posts(TEAM, CHANNEL, "@notifbot mute crm_sync 1h", user=("bbbb", "Bob"))
    ada, _ = await graph.user_posts(TEAM, CHANNEL, "@notifbot help", user=ADA)
    await wait_for(lambda: len(graph.replies(bob.id)) == 1 and len(graph.replies(ada.id)) == 1)
    refused = str(graph.replies(bob.id)[0].card())
    assert "Only notifbot admins (`teams.admins`) can mute" in refused and ADA[0] in refused
    assert "slack.admins" not in refused and not served.bot.pipeline._mutes
    assert "need a notifbot admin (`teams.admins`)" in str(graph.replies(ada.id)[0].card())


@pytest.mark.parametrize("throttled", ["PATCH", "POST"])
async def test_the_first_ack_after_a_graph_429_edits_the_alert_and_says_acknowledged(
    served: Served, graph: FakeGraph, throttled: str
) -> None:
    alert = await alert_posted(served, graph)
    graph.min_interval = 0.0  # only the injected 429s throttle
    # PATCH: more 429s than the card edit waits out by itself, so the whole answer is retried; POST: the reply
    times = UPDATE_RATE_LIMITS + 1 if throttled == "PATCH" else 1
    graph.fail_next.extend(Failure(429, retry_after="1", method=throttled) for _ in range(times))
    ack, _ = await graph.user_posts(TEAM, CHANNEL, "@notifbot ack", user=ADA, reply_to=alert.id)
    await wait_for(lambda: len(graph.replies(alert.id)) == 2 and served.settled(), timeout=30.0)
    assert not graph.fail_next, "every injected 429 was met"
    assert alert.edits == 1 and "Acknowledged by Ada Admin" in str(alert.card())
    [answer] = [m for m in graph.replies(alert.id) if m.id != ack.id]
    title = answer.card()["body"][0]["inlines"][0]["text"]
    assert title == "Acknowledged", "a retried ack answers as the first ack it is"
    assert "Ada Admin acknowledged this alert" in str(answer.card())
    # a second ack (another message) is still told it came late, with the first ack's author
    await graph.user_posts(TEAM, CHANNEL, "@notifbot ack", user=ADA, reply_to=alert.id)
    await wait_for(lambda: len(graph.replies(alert.id)) == 4 and served.settled())
    late = graph.replies(alert.id)[-1].card()
    assert late["body"][0]["inlines"][0]["text"] == "Already acknowledged" and "Ada Admin" in str(late)
    assert alert.edits == 1


async def test_subscriptions_are_renewed_before_expiry(tmp_path: Path, graph: FakeGraph) -> None:
    now = [datetime.now(UTC).timestamp()]
    settings = make_settings(
        tmp_path,
        teams={
            "commands": {
                "notification_url": "http://127.0.0.1:9/unused",
                "channels": [{"team_id": TEAM, "channel_id": CHANNEL}],
                "subscription_minutes": 30,
                "renew_before_minutes": 15,
            }
        },
    )
    db = Database(settings.storage.path)
    api = GraphApi(_Token(), graph.graph_url)
    manager = SubscriptionManager(api, db, settings.teams.commands, clock=lambda: now[0])
    graph.subscriptions["sub-old"] = _existing(now[0])
    from notifbot.store import teams as store

    await db.call(
        store.save_subscription,
        store.StoredSubscription("sub-old", _RESOURCE, "state", now[0] + 1500),
        now[0],
    )
    await manager.load()
    await manager.ensure()
    assert graph.subscriptions["sub-old"].renewals == 0  # 25 min left: not yet
    now[0] += 15 * 60  # 10 min left, inside the 15 min window
    await manager.ensure()
    sub = graph.subscriptions["sub-old"]
    assert sub.renewals == 1 and sub.expires > datetime.now(UTC) + timedelta(minutes=40)
    assert manager.client_state("sub-old") == "state"
    del graph.subscriptions["sub-old"]  # Graph dropped it: renewing gets 404, so a new one is created
    now[0] += 25 * 60
    with pytest.raises(DeliveryError, match=r"HTTP 400"):
        await manager.ensure()  # the new subscription needs a reachable notification URL; this one is not
    assert manager.client_state("sub-old") is None
    await api.close()
    db.close()


_RESOURCE = f"/teams/{TEAM}/channels/{CHANNEL}/messages"


def _existing(now: float) -> Any:
    from tests.fakes.graph import Subscription

    return Subscription(
        "sub-old", _RESOURCE, "http://127.0.0.1:9/unused", "state", datetime.fromtimestamp(now + 1500, UTC)
    )


class _Token:
    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(TOKEN, 2**31)
