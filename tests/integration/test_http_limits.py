"""The real `notifbot serve` process under unauthenticated upload attacks: every body is bounded while it is read."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.fakes.graph import FakeGraph
from tests.integration.process import BotProcess
from tests.integration.raw_http import peak_rss_kib, stream_chunked, stream_headers

pytestmark = pytest.mark.slow

MIB = 1024 * 1024
GRAPH_TOKEN = "graph-limits-token"
TEAM = "0a1b2c3d-4e5f-4a5b-8c7d-9e0f1a2b3c4d"
CHANNEL = "19:limits0123456789@thread.tacv2"
JSON = {"Content-Type": "application/json"}
# every public endpoint that reads a body, with the headers a sender would use
ENDPOINTS: list[tuple[str, dict[str, str]]] = [
    ("/slack/events", {"Content-Type": "application/x-www-form-urlencoded"}),
    ("/teams/notifications", JSON),
    ("/hooks/events", JSON),
    ("/hooks/adobe-io", JSON),
]


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph(token=GRAPH_TOKEN, min_interval=0.0) as fake:
        fake.channels.add((TEAM, CHANNEL))
        yield fake


def every_endpoint_bot(tmp: Path, graph: FakeGraph, server: dict[str, Any] | None = None) -> BotProcess:
    """A bot with Slack (HTTP mode), Teams commands and Adobe I/O on, so all four body-reading endpoints exist."""
    env = {
        "SLACK_BOT_TOKEN": "xoxb-limits",
        "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "GRAPH_ACCESS_TOKEN": GRAPH_TOKEN,
        "GRAPH_API_URL": graph.graph_url,
        "ADOBE_CLIENT_ID": "limits-client",
    }
    bot = BotProcess(tmp, {}, env)
    config = {
        "storage": {"path": str(tmp / "notifbot.db")},
        "server": server or {},
        "teams": {
            "commands": {
                "notification_url": f"{bot.url}/teams/notifications",
                "channels": [{"team_id": TEAM, "channel_id": CHANNEL}],
            }
        },
    }
    bot.config_path.write_text(yaml.safe_dump(config))
    return bot


@pytest.fixture
def bot(tmp_path: Path, graph: FakeGraph) -> Iterator[BotProcess]:
    process = every_endpoint_bot(tmp_path, graph)
    process.start()
    yield process
    process.stop()


def test_a_50_mb_chunked_upload_is_refused_with_413_while_reading_on_every_endpoint(bot: BotProcess) -> None:
    assert bot.proc is not None
    before = peak_rss_kib(bot.proc.pid)
    for path, headers in ENDPOINTS:
        upload = stream_chunked(bot.port, path, 50 * MIB, headers)
        assert upload.status == 413, (path, upload.status, upload.answer[:300])
        assert upload.sent < 8 * MIB, f"{path}: the server read {upload.sent} bytes before answering"
    grown = peak_rss_kib(bot.proc.pid) - before
    assert grown < 24 * 1024, f"peak RSS grew by {grown} KiB"
    assert httpx.get(f"{bot.url}/healthz", timeout=5).status_code == 200


def test_four_concurrent_uploads_keep_the_peak_bounded(bot: BotProcess) -> None:
    assert bot.proc is not None
    before = peak_rss_kib(bot.proc.pid)
    jobs = [ENDPOINTS[0], ENDPOINTS[1], ENDPOINTS[0], ENDPOINTS[1]]
    with ThreadPoolExecutor(len(jobs)) as pool:
        uploads = list(pool.map(lambda job: stream_chunked(bot.port, job[0], 50 * MIB, job[1]), jobs))
    assert [u.status for u in uploads] == [413] * len(jobs), [u.answer[:200] for u in uploads]
    grown = peak_rss_kib(bot.proc.pid) - before
    assert grown < 24 * 1024, f"peak RSS grew by {grown} KiB"


def test_endless_headers_are_refused_without_buffering_them(bot: BotProcess) -> None:
    assert bot.proc is not None
    before = peak_rss_kib(bot.proc.pid)
    upload = stream_headers(bot.port, 100 * MIB)
    assert upload.status == 431, upload.answer[:300]
    assert upload.sent < 8 * MIB, f"the server read {upload.sent} bytes of headers before answering"
    grown = peak_rss_kib(bot.proc.pid) - before
    assert grown < 24 * 1024, f"peak RSS grew by {grown} KiB"
