"""Delivery benchmark: N events to 10 Slack channels through the fake Slack Web API, at Slack's real pace.

The fake (tests/fakes/slack.py) runs as its own process and answers 429 + Retry-After to a second post within 1 s
in the same channel; notifbot runs with its default pacing (delivery.slack_interval_seconds 1.0). We count what
the fake accepted (by the `metadata.event_payload.key` notifbot sets), its 429s, and the wall time until the outbox
has no pending row.

`python -m bench.delivery fake-slack --port 0 --min-interval 1.0 --dump FILE` is the fake as a standalone process:
the same FakeSlack class as `python -m tests.fakes.slack`, but its dump also carries the fake's 429 count and call
counts (the tests' standalone dump holds the messages only).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from bench.ingest import REPO, SERVER_CPU, clean_env, notifbot_server, outbox_status, terminate

TOKEN = "xoxb-bench-token"


# -- the fake as a process -------------------------------------------------------------------------------------


def fake_main(argv: list[str]) -> int:
    """Runs FakeSlack until SIGTERM/SIGINT or stdin EOF; writes {messages, count_429, calls} to --dump."""
    from tests.fakes.slack import FakeSlack

    ap = argparse.ArgumentParser(prog="python -m bench.delivery fake-slack")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token", default=TOKEN)
    ap.add_argument("--min-interval", type=float, default=1.0)
    ap.add_argument("--dump", type=Path, required=True)
    args = ap.parse_args(argv)
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    def wait_for_eof() -> None:
        try:
            while os.read(sys.stdin.fileno(), 65536):
                pass
        finally:
            done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with FakeSlack(token=args.token, min_interval=args.min_interval, host=args.host, port=args.port) as slack:
        print(f"READY {slack.api_url}", flush=True)
        threading.Thread(target=wait_for_eof, daemon=True).start()
        while not done.wait(0.2):
            pass
        methods = Counter(method for method, _ in slack.calls)
        dump = {
            "messages": [m.as_dict() for m in slack.messages],
            "count_429": slack.count_429,
            "calls": dict(methods),
        }
    tmp = args.dump.with_name(args.dump.name + ".tmp")
    tmp.write_text(json.dumps(dump))
    os.replace(tmp, args.dump)
    return 0


class FakeSlackProcess:
    """`python -m bench.delivery fake-slack` as a child; stdin stays open (its EOF would stop the fake)."""

    def __init__(self, workdir: Path, min_interval: float) -> None:
        self.dump = workdir / "fake-slack-dump.json"
        self.argv = [sys.executable, "-m", "bench.delivery", "fake-slack", "--port", "0"]
        self.argv += ["--min-interval", str(min_interval), "--token", TOKEN, "--dump", str(self.dump)]
        self.stderr_path = workdir / "fake-slack.stderr.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.api_url = ""

    def start(self, timeout: float = 20.0) -> FakeSlackProcess:
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=REPO,
                env=clean_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
            )
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        buf = b""
        try:
            while time.monotonic() < deadline and b"\n" not in buf:
                if sel.select(timeout=0.2):
                    chunk = os.read(self.proc.stdout.fileno(), 4096)
                    if not chunk:
                        break
                    buf += chunk
        finally:
            sel.close()
        line = buf.decode(errors="replace").strip()
        if not line.startswith("READY "):
            raise RuntimeError(f"fake Slack did not start: {line!r} {self.stderr_path.read_text()[-2000:]}")
        self.api_url = line.split(" ", 1)[1]
        return self

    def stop(self, timeout: float = 20.0) -> dict[str, Any]:
        """SIGTERM (the fake then writes its dump); returns the dump."""
        if self.proc is not None:
            terminate(self.proc, timeout)
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        if not self.dump.exists():
            return {"messages": [], "count_429": None, "calls": {}}
        data = json.loads(self.dump.read_text())
        if isinstance(data, list):  # the tests' standalone format: messages only
            return {"messages": data, "count_429": None, "calls": {}}
        return dict(data)


# -- the benchmark ---------------------------------------------------------------------------------------------


def channel_ids(n: int) -> list[str]:
    return [f"C{i:02d}" for i in range(1, n + 1)]


def delivery_config(db: Path, channels: list[str]) -> dict[str, Any]:
    """10 Slack destinations routed by the `bench_channel` label; delivery settings left at their defaults."""
    destinations: dict[str, Any] = {ch.lower(): {"type": "slack", "channel": ch} for ch in channels}
    destinations["unrouted"] = {"type": "console"}
    routes: list[dict[str, Any]] = [{"match": {"bench_channel": ch}, "to": ch.lower()} for ch in channels]
    routes.append({"to": "unrouted"})
    return {
        "storage": {"path": str(db)},
        "slack": {"interactive": False},
        "destinations": destinations,
        "routes": routes,
    }


def make_event(i: int, channel: str) -> dict[str, Any]:
    return {
        "kind": "campaign_failure",
        "id": f"dlv-{i:05d}",
        "instance": "123-ABC-456",
        "severity": "warning",
        "summary": f'Smart campaign "Bench {i}" stopped on flow step 2 (Send Email).',
        "fields": {
            "campaign_id": 4000 + i,
            "campaign_name": f"Bench {i}",
            "error": "email asset not approved",
        },
        "labels": {"bench_channel": channel, "team": "emea"},
    }


def _metric(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            with contextlib.suppress(ValueError, IndexError):
                total += float(line.rsplit(" ", 1)[1])
    return total


def _pending(db: Path) -> int:
    return outbox_status(db).get("pending", 0)


def run_delivery(
    *, workdir: Path, events: int, channels: int = 10, batch: int = 50, pin: bool, min_interval: float = 1.0
) -> dict[str, Any]:
    from notifbot.delivery.settings import DeliverySettings

    d = workdir / "delivery"
    d.mkdir(parents=True, exist_ok=True)
    db = d / "notifbot.db"
    chans = channel_ids(channels)
    per_channel = events // channels
    timeout = per_channel * min_interval * 3 + 60
    fake = FakeSlackProcess(d, min_interval)
    bot = None
    out: dict[str, Any] = {
        "events": events,
        "channels": channels,
        "batch": batch,
        "fake_min_interval_s": min_interval,
        "notifbot_slack_interval_s": DeliverySettings().slack_interval_seconds,
    }
    accepted: list[str] = []
    try:
        fake.start()
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": fake.api_url}
        bot = notifbot_server(
            "notifbot-delivery", d, delivery_config(db, chans), cpu=SERVER_CPU if pin else None, env=env
        )
        bot.start()
        all_events = [make_event(i, chans[i % channels]) for i in range(events)]
        t0 = time.time()
        with httpx.Client(timeout=30) as client:
            for start in range(0, events, batch):
                resp = client.post(f"{bot.url}/hooks/events", json=all_events[start : start + batch])
                if resp.status_code != 202:
                    raise RuntimeError(f"ingest answered {resp.status_code}: {resp.text[:500]}")
                accepted += [a["id"] for a in resp.json()["accepted"] if not a["duplicate"]]
        out["ingest_s"] = round(time.time() - t0, 3)
        deadline = time.monotonic() + timeout
        timed_out = True
        while time.monotonic() < deadline:
            if _pending(db) == 0:
                timed_out = False
                break
            time.sleep(0.25)
        out["wall_s"] = round(time.time() - t0, 2)
        out["timed_out"] = timed_out
        out["outbox"] = outbox_status(db)
        with contextlib.suppress(httpx.HTTPError):
            metrics = httpx.get(f"{bot.url}/metrics", timeout=10).text
            out["notifbot_metrics"] = {
                "delivered": _metric(metrics, "notifbot_deliveries_total"),
                "retries": _metric(metrics, "notifbot_delivery_retries_total"),
                "failures": _metric(metrics, "notifbot_delivery_failures_total"),
                "dead": _metric(metrics, "notifbot_deliveries_dead_total"),
            }
    finally:
        if bot is not None:
            out["notifbot_exit_code"] = bot.stop()
        dump = fake.stop()

    messages = dump["messages"]
    keys = [((m.get("metadata") or {}).get("event_payload") or {}).get("key") for m in messages]
    counts = Counter(k for k in keys if k is not None)
    per_chan = Counter(m["channel"] for m in messages)
    gaps: list[float] = []
    for ch in chans:
        arrivals = sorted(m["arrived"] for m in messages if m["channel"] == ch)
        gaps += [b - a for a, b in itertools.pairwise(arrivals)]
    arrivals_all = [m["arrived"] for m in messages]
    out.update(
        accepted=len(accepted),
        posted=len(messages),
        posted_unique=len(counts),
        untagged=sum(1 for k in keys if k is None),
        duplicates=sum(c - 1 for c in counts.values() if c > 1),
        lost=len(set(accepted) - set(counts)),
        unexpected=len(set(counts) - set(accepted)),
        count_429=dump.get("count_429"),
        fake_calls=dump.get("calls", {}),
        per_channel_min=min((per_chan.get(c, 0) for c in chans), default=0),
        per_channel_max=max((per_chan.get(c, 0) for c in chans), default=0),
        min_gap_s=round(min(gaps), 3) if gaps else None,
        last_message_s=round(max(arrivals_all) - t0, 2) if arrivals_all else None,
        ideal_s=round((per_channel - 1) * min_interval, 1),
    )
    out["pass"] = bool(
        not out["timed_out"]
        and out["lost"] == 0
        and out["duplicates"] == 0
        and out["accepted"] == events
        and out["count_429"] is not None
        and out["count_429"] <= channels
    )
    print(
        f"  delivery: {out['posted']} posted of {out['accepted']} accepted, {out['duplicates']} duplicates, "
        f"{out['lost']} lost, {out['count_429']} 429s, wall {out['wall_s']} s",
        flush=True,
    )
    return out


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "fake-slack":
        sys.exit(fake_main(sys.argv[2:]))
    print(
        "usage: python -m bench.delivery fake-slack [--port 0] [--min-interval 1.0] --dump FILE",
        file=sys.stderr,
    )
    sys.exit(2)
