"""Loopback trust without a webhook token never extends to a reverse proxy's clients (issue #10 item 5)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import BotFactory, client_for
from tests.integration.process import BotProcess

EVENT = {"kind": "campaign_failure", "id": "proxy-1"}
FORWARDED = [
    {"X-Forwarded-For": "203.0.113.7"},
    {"X-Forwarded-For": "127.0.0.1"},
    {"Forwarded": "for=203.0.113.7;proto=https"},
    {"X-Real-IP": "203.0.113.7"},
]


@pytest.mark.parametrize("headers", FORWARDED)
async def test_a_proxied_request_is_not_trusted_as_loopback(
    bot_factory: BotFactory, headers: dict[str, str]
) -> None:
    bot = await bot_factory()
    async with client_for(bot) as client:
        r = await client.post("/hooks/events", json=EVENT, headers=headers)
        assert r.status_code == 401, r.text
        assert "NOTIFBOT_WEBHOOK_TOKEN" in r.json()["error"] and "proxy" in r.json()["error"]
        assert (await client.post("/hooks/events", json=EVENT)).status_code == 202  # a direct local client


async def test_with_a_token_proxied_requests_are_judged_by_the_token(bot_factory: BotFactory) -> None:
    bot = await bot_factory(env={"NOTIFBOT_WEBHOOK_TOKEN": "t0ken-for-proxy"})
    async with client_for(bot) as client:
        good = {"Authorization": "Bearer t0ken-for-proxy", **FORWARDED[0]}
        assert (await client.post("/hooks/events", json=EVENT, headers=good)).status_code == 202
        assert (await client.post("/hooks/events", json=EVENT, headers=FORWARDED[0])).status_code == 401


def run_notifbot(
    tmp: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`notifbot ARGS`, which must exit by itself within 30 s (a `serve` that starts is a test failure)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFBOT_", "FORWARDED_"))}
    try:
        return subprocess.run(
            [sys.executable, "-m", "notifbot", *args],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=tmp,
            env={**clean, **(env or {})},
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`notifbot {' '.join(args)}` kept running: it should have refused to start")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "notifbot.yaml"
    path.write_text(f"storage: {{path: {tmp_path / 'n.db'}}}\n")
    return path


@pytest.mark.parametrize(
    ("args", "env", "names"),
    [
        (["--proxy-headers"], {}, "server.proxy_headers"),
        (["--forwarded-allow-ips", "10.0.0.0/8"], {}, "server.forwarded_allow_ips"),
        ([], {"FORWARDED_ALLOW_IPS": "*"}, "env.FORWARDED_ALLOW_IPS"),
    ],
)
def test_serve_refuses_proxy_settings_without_a_token(
    tmp_path: Path, config: Path, args: list[str], env: dict[str, str], names: str
) -> None:
    run = run_notifbot(tmp_path, "serve", "--config", str(config), "--port", "0", *args, env=env)
    assert run.returncode == 1, run.stderr
    assert names in run.stderr and "NOTIFBOT_WEBHOOK_TOKEN" in run.stderr, run.stderr


def test_check_config_reports_proxy_headers_in_the_config_without_a_token(
    tmp_path: Path, config: Path
) -> None:
    config.write_text(
        config.read_text() + "server: {proxy_headers: true, forwarded_allow_ips: ['10.1.2.3']}\n"
    )
    run = run_notifbot(tmp_path, "check-config", "--config", str(config))
    assert run.returncode == 1
    assert "server.proxy_headers" in run.stdout and "NOTIFBOT_WEBHOOK_TOKEN" in run.stdout, run.stdout


def test_a_bad_forwarded_allow_ips_entry_is_a_config_error(tmp_path: Path, config: Path) -> None:
    config.write_text(config.read_text() + "server: {forwarded_allow_ips: ['proxy.example']}\n")
    run = run_notifbot(tmp_path, "check-config", "--config", str(config))
    assert run.returncode == 1 and "server.forwarded_allow_ips" in run.stdout, run.stdout


@pytest.fixture
def procs() -> Iterator[list[BotProcess]]:
    started: list[BotProcess] = []
    yield started
    for p in started:
        p.stop()


@pytest.mark.slow
def test_serve_with_a_token_behind_a_proxy_starts(tmp_path: Path, procs: list[BotProcess]) -> None:
    bot = BotProcess(
        tmp_path, {"storage": {"path": str(tmp_path / "n.db")}}, {"NOTIFBOT_WEBHOOK_TOKEN": "abcd1234"}
    )
    bot.args += ["--proxy-headers", "--forwarded-allow-ips", "127.0.0.1"]
    procs.append(bot)
    bot.start()
    r = httpx.post(
        f"{bot.url}/hooks/events",
        json=EVENT,
        headers={"Authorization": "Bearer abcd1234", "X-Forwarded-For": "203.0.113.7"},
        timeout=10,
    )
    assert r.status_code == 202, r.text
