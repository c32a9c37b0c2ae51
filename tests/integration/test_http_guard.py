"""The ASGI-level request guard in process: per-path body limits while reading, nosniff everywhere."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from notifbot.app import Bot
from tests.integration.conftest import BotFactory, client_for
from tests.integration.test_slack_app import SECRET

MIB = 1024 * 1024
SLACK_ENV = {"SLACK_BOT_TOKEN": "xoxb-guard", "SLACK_SIGNING_SECRET": SECRET}


class Offered:
    """A body streamed 64 KiB at a time (no Content-Length); `pulled` counts what the server asked for."""

    def __init__(self, chunks: int, first: bytes = b"") -> None:
        self.chunks, self.first, self.pulled = chunks, first, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        for _ in range(self.chunks):
            self.pulled += 1
            yield b"x" * 65536


async def test_slack_body_without_length_is_cut_off_while_reading(bot_factory: BotFactory) -> None:
    bot = await bot_factory(env=SLACK_ENV, slack={"api_url": "http://127.0.0.1:9/api/"})
    offered = Offered(64)  # 4 MiB
    async with client_for(bot) as client:
        r = await client.post(
            "/slack/events", content=offered, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
    assert r.status_code == 413 and r.headers["connection"] == "close"
    assert offered.pulled <= 17, f"the server read {offered.pulled} chunks of 64 KiB for a 1 MiB limit"
    assert 'notifbot_requests_rejected_total{status="413"} 1.0' in await metrics(bot)


async def test_declared_oversize_is_refused_before_the_body_is_read(bot_factory: BotFactory) -> None:
    bot = await bot_factory(env=SLACK_ENV, slack={"api_url": "http://127.0.0.1:9/api/"})
    offered = Offered(32)
    headers = {"Content-Length": str(32 * 65536), "Content-Type": "application/x-www-form-urlencoded"}
    async with client_for(bot) as client:
        r = await client.post("/slack/events", content=offered, headers=headers)
    assert r.status_code == 413
    assert offered.pulled <= 1


async def test_slack_and_teams_limits_do_not_follow_a_small_max_body_bytes(bot_factory: BotFactory) -> None:
    """server.max_body_bytes bounds /hooks/events; Slack's button payloads (often several KB) keep their 1 MiB."""
    bot = await bot_factory(
        env=SLACK_ENV, slack={"api_url": "http://127.0.0.1:9/api/"}, server={"max_body_bytes": 2048}
    )
    async with client_for(bot) as client:
        slack = await client.post("/slack/events", content=b"text=" + b"x" * 8000)
        ingest = await client.post("/hooks/events", json={"kind": "other", "x": "y" * 4000})
    assert slack.status_code == 401  # read whole and judged by its signature, not refused for its size
    assert ingest.status_code == 413


async def test_adobe_batches_up_to_2_mb_still_pass(bot_factory: BotFactory) -> None:
    bot = await bot_factory(env={"ADOBE_CLIENT_ID": "guard-client"}, adobe_io={"verify_signatures": False})
    batch = json.dumps([{"event_id": "e", "recipient_client_id": "x", "pad": "p" * int(1.8 * MIB)}])
    async with client_for(bot) as client:
        r = await client.post("/hooks/adobe-io", content=batch, headers={"Content-Type": "application/json"})
        too_big = await client.post(
            "/hooks/adobe-io", content=Offered(48), headers={"Content-Type": "application/json"}
        )
    assert r.status_code != 413, r.text
    assert too_big.status_code == 413


async def test_every_response_says_nosniff(bot_factory: BotFactory) -> None:
    bot = await bot_factory(env=SLACK_ENV, slack={"api_url": "http://127.0.0.1:9/api/"})
    async with client_for(bot) as client:
        answers = [
            await client.get("/healthz"),
            await client.get("/readyz"),
            await client.get("/metrics"),
            await client.get("/nowhere"),
            await client.post("/hooks/events", json={"kind": "other"}),
            await client.post("/hooks/events", content=b"{", headers={"Content-Type": "application/json"}),
            await client.post("/slack/events", content=b"text=x"),
        ]
    for r in answers:
        assert r.headers.get_list("x-content-type-options") == ["nosniff"], (r.request.url, r.headers)


async def metrics(bot: Bot) -> str:
    async with client_for(bot) as client:
        return (await client.get("/metrics")).text
