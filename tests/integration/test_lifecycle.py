"""One lifecycle: every component starts in order and stops in reverse; a failed start leaves nothing running."""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from notifbot.app import Bot
from notifbot.config import Env
from tests.fakes.adobe_io import JOURNAL_PATH, FakeAdobeIO
from tests.fakes.graph import FakeGraph
from tests.fakes.marketo import FakeMarketo
from tests.fakes.slack import FakeSlack
from tests.integration.conftest import make_settings

pytestmark = pytest.mark.backends
TEAM = "0a1b2c3d-4e5f-4a5b-8c7d-9e0f1a2b3c4d"
CHANNEL = "19:ops0123456789@thread.tacv2"
SLACK_TOKEN, GRAPH_TOKEN = "xoxb-lifecycle", "graph-lifecycle"
ADOBE_CLIENT, ADOBE_SECRET = "adobe-client-1", "adobe-s3cret-xyz"
MARKETO_ID, MARKETO_SECRET = "cid-1", "s3cret-marketo"
STARTS = [
    "graph",
    "marketo",
    "adobe_io",
    "replica",  # its leases are released after the worker and the pollers stop
    "delivery",
    "retention",  # prunes while the worker runs; stops first of the two (no batch after the drain)
    "mutes",
    "pollers",
    "teams_commands",
    "slack_socket_mode",
    "slack_token_check",
]


def starts(storage: dict[str, Any]) -> list[str]:
    """STARTS on the test's backend: on PostgreSQL the listener for the other replicas' changes, after the mutes."""
    if "url" not in storage:
        return STARTS
    return [*STARTS[: STARTS.index("pollers")], "listener", *STARTS[STARTS.index("pollers") :]]


@pytest.fixture
def fakes() -> Iterator[tuple[FakeSlack, FakeGraph, FakeMarketo, FakeAdobeIO]]:
    with (
        FakeSlack(token=SLACK_TOKEN, min_interval=0.0) as slack,
        FakeGraph(token=GRAPH_TOKEN, min_interval=0.0) as graph,
        FakeMarketo(MARKETO_ID, MARKETO_SECRET) as marketo,
        FakeAdobeIO(ADOBE_CLIENT, ADOBE_SECRET) as adobe,
    ):
        graph.channels.add((TEAM, CHANNEL))
        yield slack, graph, marketo, adobe


def every_component_bot(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeGraph, FakeMarketo, FakeAdobeIO], storage: dict[str, Any]
) -> Bot:
    """A bot with every subsystem on: Slack (HTTP and Socket Mode), Teams commands, Marketo, the Adobe journal."""
    slack, graph, marketo, adobe = fakes
    env = {
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": "slack-signing-secret",
        "SLACK_APP_TOKEN": "xapp-1-lifecycle",
        "GRAPH_ACCESS_TOKEN": GRAPH_TOKEN,
        "GRAPH_API_URL": graph.graph_url,
        "ADOBE_CLIENT_ID": ADOBE_CLIENT,
        "ADOBE_CLIENT_SECRET": ADOBE_SECRET,
        "ADOBE_IO_KEYS_URL": adobe.base_url,
        "ADOBE_IMS_URL": f"{adobe.base_url}/ims/token/v3",
    }
    settings = make_settings(
        tmp_path,
        storage=storage,
        slack={"api_url": slack.api_url},
        destinations={
            "ops": {"type": "slack", "channel": "C1"},
            "teams": {"type": "teams", "team_id": TEAM, "channel_id": CHANNEL},
        },
        routes=[{"to": ["ops", "teams"]}],
        teams={
            "commands": {
                "notification_url": "http://127.0.0.1:9/teams/notifications",
                "channels": [{"team_id": TEAM, "channel_id": CHANNEL}],
            }
        },
        marketo={
            "instances": [
                {
                    "munchkin_id": "123-ABC-456",
                    "base_url": marketo.base_url,
                    "client_id": MARKETO_ID,
                    "client_secret": MARKETO_SECRET,
                }
            ]
        },
        adobe_io={"journal_url": adobe.base_url + JOURNAL_PATH},
    )
    return Bot(settings, Env(env), stdout=io.StringIO())


class Observed(logging.Handler):
    """Records each component's start and stop line with what could be seen of the bot at that moment."""

    def __init__(self, bot: Bot) -> None:
        super().__init__(logging.DEBUG)
        self.bot = bot
        self.steps: list[tuple[str, dict[str, Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        component = getattr(record, "component", None)
        if component is None:
            return
        verb = record.getMessage().split()[0]
        self.steps.append(
            (
                f"{verb} {component}",
                {
                    "stopping": self.bot.stopping,
                    "worker": self.bot.worker.running,
                    "pollers": self.bot.pollers.running,
                    "teams_inbox": self.bot.teams is not None
                    and self.bot.teams.inbox._task is not None
                    and not self.bot.teams.inbox._task.done(),
                },
            )
        )


@contextmanager
def observe(bot: Bot) -> Iterator[Observed]:
    handler = Observed(bot)
    logger = logging.getLogger("notifbot.app")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def nothing_left_running() -> tuple[list[str], list[str]]:
    """The notifbot threads still alive and the asyncio tasks still pending (other than the test's own)."""
    threads = [t.name for t in threading.enumerate() if t.name.startswith("notifbot")]
    tasks = [t.get_name() for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    return threads, tasks


async def test_components_start_in_order_and_stop_in_reverse_draining_before_clients_close(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeGraph, FakeMarketo, FakeAdobeIO], storage: dict[str, Any]
) -> None:
    bot = every_component_bot(tmp_path, fakes, storage)
    expected = starts(storage)
    assert [name for name, c in bot.components if c is not None] == expected  # every subsystem is on
    with observe(bot) as seen:
        await bot.start()
        assert await bot.not_ready_reason() is None
        await bot.stop()
        steps = [step for step, _ in seen.steps]
        assert steps == [f"started {n}" for n in expected] + [f"stopping {n}" for n in reversed(expected)] + [
            "stopping database"
        ]
        state = dict(seen.steps)
    # the worker runs before the pollers and commands can hand it work; mutes are loaded before any poll
    assert state["started pollers"]["worker"] and not state["started marketo"]["worker"]
    # stopping: readiness says so from the first step; commands stop before the pollers, pollers before the drain
    assert all(s["stopping"] for step, s in seen.steps if step.startswith("stopping"))
    assert state["stopping pollers"]["pollers"] and not state["stopping pollers"]["teams_inbox"]
    assert state["stopping delivery"]["worker"] and not state["stopping delivery"]["pollers"]
    # clients close only after the worker has drained; the database last
    assert not state["stopping adobe_io"]["worker"] and not state["stopping graph"]["worker"]
    assert await bot.db.write_problem() == "the database is closed"
    assert await bot.not_ready_reason() == "shutting down"
    assert nothing_left_running() == ([], [])
    await bot.stop()  # again: a no-op


class Broken:
    """A component that cannot start."""

    async def __aenter__(self) -> Broken:
        raise RuntimeError("cannot start")

    async def __aexit__(self, *exc: object) -> None:
        raise AssertionError("a component that did not start is not stopped")


async def test_a_failed_start_stops_what_started_and_closes_the_database(
    tmp_path: Path, fakes: tuple[FakeSlack, FakeGraph, FakeMarketo, FakeAdobeIO], storage: dict[str, Any]
) -> None:
    bot = every_component_bot(tmp_path, fakes, storage)
    names = [name for name, _ in bot.components]
    bot.components.insert(names.index("teams_commands"), ("broken", Broken()))
    with observe(bot) as seen:
        with pytest.raises(RuntimeError, match="cannot start"):
            await bot.start()
        expected = starts(storage)
        started = expected[: expected.index("teams_commands")]
        assert [step for step, _ in seen.steps] == [f"started {n}" for n in started] + [
            f"stopping {n}" for n in reversed(started)
        ] + ["stopping database"]
    assert bot.stopping and not bot.worker.running and not bot.pollers.running
    assert await bot.db.write_problem() == "the database is closed"
    assert nothing_left_running() == ([], [])
