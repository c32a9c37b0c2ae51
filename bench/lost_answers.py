"""Lost Slack answers: N events, a share of whose posts Slack stores but answers too late, never, or with a 500.

    .venv/bin/python bench/lost_answers.py                          # 229 events, 15 % of answers lost
    .venv/bin/python bench/lost_answers.py --events 1000 --rate 0.3 --channels 10

A real notifbot Bot (SQLite file, delivery worker, slack_sdk client) in this process posts to the fake Slack
(tests/fakes/slack.py, on loopback in a thread). The fake stores every post it accepts; for a seeded random
`rate` of them it then answers after 2.5 × the client timeout (`late`), closes the connection without a byte
(`drop`) or answers an HTML 500 (`500`). Reported: events accepted, delivered exactly once, duplicated (posted 2+
times, and the extra posts), lost (never posted), the rows' final status, history reads, and the wall time.
Run it against another checkout's `src` (PYTHONPATH=…/src:.) to compare versions.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))

TOKEN = "xoxb-bench-lost-answers"


async def _run(
    workdir: Path,
    events: int,
    rate: float,
    channels: int,
    timeout: float,
    kinds: list[str],
    seed: int,
    history_scopes: bool,
) -> dict[str, Any]:
    import httpx
    from bench.ingest import outbox_status
    from tests.fakes.slack import FakeSlack

    from notifbot.app import Bot
    from notifbot.config import parse_settings
    from notifbot.config.env import Env

    chans = [f"C{i:02d}" for i in range(1, channels + 1)]
    with FakeSlack(token=TOKEN, min_interval=0.0) as slack:
        slack.lose_answers(rate, kinds=kinds, delay=timeout * 2.5, seed=seed)  # type: ignore[arg-type]
        if not history_scopes:  # an app installed from a manifest older than the history check
            slack.scopes -= {"channels:history", "groups:history"}
        settings = parse_settings(
            {
                "storage": {"path": str(workdir / "notifbot.db")},
                "slack": {"api_url": slack.api_url, "interactive": False, "timeout_seconds": timeout},
                "destinations": {c.lower(): {"type": "slack", "channel": c} for c in chans},
                "routes": [{"match": {"bench_channel": c}, "to": [c.lower()]} for c in chans]
                + [{"to": [chans[0].lower()]}],
                "delivery": {
                    "poll_seconds": 0.05,
                    "backoff_base_seconds": 0.1,
                    "backoff_max_seconds": 2.0,
                    "slack_interval_seconds": 0.0,
                    "max_attempts": 12,
                },
            },
            source="bench",
        )
        bot = Bot(settings, Env({"SLACK_BOT_TOKEN": TOKEN}), stdout=io.StringIO())
        await bot.start()
        started = time.monotonic()
        try:
            batch = [
                {"kind": "audit", "id": f"lost-{i:05d}", "labels": {"bench_channel": chans[i % channels]}}
                for i in range(events)
            ]
            transport = httpx.ASGITransport(app=bot.asgi, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://notifbot.bench") as client:
                for i in range(0, events, 50):
                    answer = await client.post("/hooks/events", json=batch[i : i + 50])
                    answer.raise_for_status()
            deadline = time.monotonic() + 600
            db = workdir / "notifbot.db"
            while outbox_status(db).get("pending", 0) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            wall = time.monotonic() - started
        finally:
            await bot.stop()
        posts = Counter(
            m.metadata["event_payload"]["key"] for m in slack.messages if m.metadata and m.channel in chans
        )
        lost_kinds = Counter(kind for kind, _ in slack.lost_answers)
        history = sum(1 for method, _ in slack.calls if method == "conversations.history")
    keys = [e["id"] for e in batch]
    return {
        "events": events,
        "lost_answer_rate": rate,
        "timeout_seconds": timeout,
        "answers_lost": dict(lost_kinds),
        "delivered_once": sum(1 for k in keys if posts[k] == 1),
        "duplicated": sum(1 for k in keys if posts[k] > 1),
        "extra_posts": sum(posts[k] - 1 for k in keys if posts[k] > 1),
        "most_posts_of_one_event": max((posts[k] for k in keys), default=0),
        "lost": sum(1 for k in keys if posts[k] == 0),
        "outbox": outbox_status(workdir / "notifbot.db"),
        "history_scopes": history_scopes,
        "history_reads": history,
        "wall_seconds": round(wall, 1),
    }


def run_lost_answers(
    *,
    events: int = 229,
    rate: float = 0.15,
    channels: int = 5,
    timeout: float = 0.5,
    kinds: list[str] | None = None,
    seed: int = 1,
    history_scopes: bool = True,
) -> dict[str, Any]:
    """Runs the scenario in a fresh temp dir and returns its counts."""
    kinds = kinds or ["late", "drop", "500"]
    with tempfile.TemporaryDirectory(prefix="notifbot-lost-answers-") as tmp:
        return asyncio.run(_run(Path(tmp), events, rate, channels, timeout, kinds, seed, history_scopes))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench/lost_answers.py", description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=229)
    ap.add_argument("--rate", type=float, default=0.15, help="share of accepted posts whose answer is lost")
    ap.add_argument("--channels", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=0.5, help="slack.timeout_seconds")
    ap.add_argument("--kinds", default="late,drop,500", help="comma-separated: late, drop, 500")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--without-history-scopes",
        action="store_true",
        help="the app lacks channels:history/groups:history (the documented fallback: post again)",
    )
    args = ap.parse_args(argv)
    result = run_lost_answers(
        events=args.events,
        rate=args.rate,
        channels=args.channels,
        timeout=args.timeout,
        kinds=args.kinds.split(","),
        seed=args.seed,
        history_scopes=not args.without_history_scopes,
    )
    print(json.dumps(result))
    print(
        f"{result['events']} events, {sum(result['answers_lost'].values())} answers lost "
        f"({result['answers_lost']}): delivered once {result['delivered_once']}, duplicated {result['duplicated']} "
        f"(+{result['extra_posts']} posts, up to {result['most_posts_of_one_event']} of one), lost {result['lost']}; "
        f"outbox {result['outbox']}; {result['history_reads']} history reads; {result['wall_seconds']} s"
    )
    return 0 if result["duplicated"] == 0 and result["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
