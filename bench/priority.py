"""A critical alert behind a storm: how long after its 202 it is visible in Slack, at Slack's real pace.

    PYTHONPATH=$PWD/src .venv/bin/python bench/priority.py [--storm 100] [--timeout 150]

One channel, notifbot's default pacing (delivery.slack_interval_seconds 1.0) against the fake Slack Web API
(tests/fakes/slack.py, 429 for a second post within 1 s in a channel). A storm of `campaign_failure` events
(warning) is accepted; once the first of them has reached the fake, one `web_services` event (quota reached:
critical) is posted. Printed: the seconds from the critical event's 202 to its arrival at the fake, and how many
storm messages were still queued at that moment. Runs whichever notifbot PYTHONPATH points to (for a before/after).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from tests.fakes.slack import FakeSlack, Message  # noqa: E402

from notifbot.app import Bot  # noqa: E402
from notifbot.config import parse_settings  # noqa: E402
from notifbot.config.env import Env  # noqa: E402

TOKEN = "xoxb-bench-token"
CRITICAL = {"kind": "web_services", "id": "quota-reached", "fields": {"used": 50000, "quota": 50000}}
critical_key = "quota-reached"


def _key(m: Message) -> str:
    return str((m.metadata or {}).get("event_payload", {}).get("key"))


async def measure(storm: int, timeout: float) -> dict[str, float | int]:
    """Runs the scenario once and returns the critical event's latency and the storm left behind it."""
    with FakeSlack(token=TOKEN, min_interval=1.0) as slack, tempfile.TemporaryDirectory() as tmp:
        settings = parse_settings(
            {
                "storage": {"path": str(Path(tmp) / "notifbot.db")},
                "slack": {"api_url": slack.api_url, "interactive": False},
                "destinations": {"ops": {"type": "slack", "channel": "C1"}},
                "routes": [{"to": ["ops"]}],
            },
            source="bench",
        )
        bot = Bot(settings, Env({"SLACK_BOT_TOKEN": TOKEN}), stdout=io.StringIO())
        await bot.start()
        try:
            transport = httpx.ASGITransport(app=bot.asgi, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://notifbot.test") as client:
                events = [{"kind": "campaign_failure", "id": f"storm-{i}"} for i in range(storm)]
                assert (await client.post("/hooks/events", json=events)).status_code == 202
                await slack.wait_for_messages_async(1, timeout=10)
                r = await client.post("/hooks/events", json=CRITICAL)
                accepted = time.time()
                assert r.status_code == 202, r.text
                deadline = time.monotonic() + timeout
                while (
                    critical := next((m for m in slack.messages if _key(m) == critical_key), None)
                ) is None:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"the critical event was not posted within {timeout} s")
                    await asyncio.sleep(0.02)
                before = [_key(m) for m in slack.messages].index(critical_key)
                return {
                    "critical_latency_s": round(critical.arrived - accepted, 2),
                    "storm_posted_before_it": before,
                    "storm_still_queued": storm - before,
                    "count_429": slack.count_429,
                }
        finally:
            await bot.stop()


def main(argv: list[str] | None = None) -> int:
    """Prints the figures as one JSON line."""
    ap = argparse.ArgumentParser(prog="bench/priority.py", description=__doc__.splitlines()[0])
    ap.add_argument("--storm", type=int, default=100)
    ap.add_argument("--timeout", type=float, default=150.0)
    args = ap.parse_args(argv)
    print(json.dumps(asyncio.run(measure(args.storm, args.timeout))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
