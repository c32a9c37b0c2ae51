"""The teams_workflow destination through the real worker and httpx to a loopback Workflows receiver."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from notifbot.app import Bot
from notifbot.config.env import Env, settings_secrets
from notifbot.kinds import load_samples
from notifbot.logs import setup_logging
from tests.fakes.workflow import FakeWorkflow
from tests.integration.conftest import BotFactory, client_for, outbox_rows, post_events, wait_for
from tests.unit.render.teams_helpers import assert_valid_card


@pytest.fixture
def flow() -> Iterator[FakeWorkflow]:
    with FakeWorkflow() as fake:
        yield fake


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The root logger and httpx's level come back as they were after a test calls setup_logging."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("httpx").level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    logging.getLogger("httpx").setLevel(saved[2])


def capture_app_logs(secrets: list[str]) -> io.StringIO:
    """The app's real log set-up (redactor included), writing JSON lines into a buffer."""
    setup_logging(secrets, log_format="json")
    buffer = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    return buffer


async def start(bot_factory: BotFactory, url: str, **delivery: Any) -> Bot:
    bot: Bot = await bot_factory(
        env={"TEAMS_WORKFLOW_URL": url},
        destinations={"flow": {"type": "teams_workflow", "url": url}},
        routes=[{"to": ["flow"]}],
        delivery={"teams_workflow_interval_seconds": 0.25, "max_attempts": 2, **delivery},
    )
    return bot


async def test_every_sample_arrives_as_a_card_object_within_four_per_second(
    bot_factory: BotFactory, flow: FakeWorkflow
) -> None:
    bot = await start(bot_factory, flow.url)
    samples = list(load_samples().values())
    await post_events(bot, samples)
    await wait_for(lambda: len(flow.posts) == len(samples))
    assert flow.rejected == []  # paced under the 4 req/s throttle, so no 429 at all
    for post in flow.posts:
        attachment = post.body["attachments"][0]
        assert post.body["type"] == "message" and attachment["contentUrl"] is None
        assert_valid_card(attachment["content"])
    gaps = [b.arrived - a.arrived for a, b in zip(flow.posts, flow.posts[1:], strict=False)]
    assert min(gaps) >= 0.2
    await wait_for(lambda: all(r["status"] == "delivered" for r in outbox_rows(bot)))


async def test_throttle_and_5xx_are_retried(bot_factory: BotFactory, flow: FakeWorkflow) -> None:
    flow.fail_next = [429, 503]
    bot = await start(bot_factory, flow.url, max_attempts=3)
    await post_events(bot, [load_samples()["crm_sync"]])
    await wait_for(lambda: len(flow.posts) == 1)
    assert flow.rejected == [429, 503]
    await wait_for(lambda: outbox_rows(bot)[0]["status"] == "delivered")


async def test_the_url_is_redacted_from_logs_errors_and_routes(
    bot_factory: BotFactory, flow: FakeWorkflow, restore_logging: None
) -> None:
    wrong = flow.url.replace(flow.sig, "wrong-signature-value")
    bot = await start(bot_factory, wrong)
    captured = capture_app_logs(Env({}).secrets() + settings_secrets(bot.settings))
    logging.getLogger("httpx").setLevel(logging.DEBUG)  # even a verbose client log must not show it
    await post_events(bot, [load_samples()["crm_sync"]])
    await wait_for(lambda: outbox_rows(bot)[0]["status"] == "dead")
    error = outbox_rows(bot)[0]["last_error"]
    assert "HTTP 401" in error and "TEAMS_WORKFLOW_URL" in error
    target = outbox_rows(bot)[0]["target"]
    async with client_for(bot) as client:
        status = (await client.get("/metrics")).text
    logs = captured.getvalue()
    assert "delivery dead" in logs and "HTTP Request" in logs
    for text in (error, target, logs, status):
        assert "wrong-signature-value" not in text and "/workflows/abc123" not in text


async def test_unreachable_workflow_error_has_no_url(bot_factory: BotFactory) -> None:
    with FakeWorkflow() as gone:
        url = gone.url
    bot = await start(bot_factory, url, max_attempts=1)
    await post_events(bot, [load_samples()["audit"]])
    await wait_for(lambda: outbox_rows(bot)[0]["status"] == "dead")
    error = outbox_rows(bot)[0]["last_error"]
    assert "cannot reach Teams workflow flow" in error and "s3cr3t" not in error and "127.0.0.1" not in error
