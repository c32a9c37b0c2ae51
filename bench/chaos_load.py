"""The moving parts of `make chaos`: the notifbot process, a retrying webhook sender, a /readyz sampler, the tally.

The sender behaves like a careful webhook client (Adobe I/O's, or a Marketo relay): one event per request, sent on a
fixed schedule, and re-sent after a retryable answer (503, 502, 504, 429) or no answer at all, until accepted or
`retry_for` seconds after its first try, backing off from 0.25 s to 2 s. notifbot dedupes by event id, so a re-send of an event that was in fact
stored is answered 202 with `duplicate: true` and is never posted twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import yaml
from bench.ingest import clean_env, free_port

RETRYABLE = frozenset({429, 502, 503, 504})


class Bot:
    """`python -m notifbot serve` on a fixed loopback port, restartable; logs per run in the work dir."""

    def __init__(self, workdir: Path, name: str, config: dict[str, Any], env: dict[str, str]) -> None:
        self.workdir, self.name = workdir, name
        self.port = free_port()
        cfg = workdir / f"{name}.yaml"
        cfg.write_text(yaml.safe_dump(config, sort_keys=False))
        self.argv = [
            sys.executable,
            "-m",
            "notifbot",
            "serve",
            "--config",
            str(cfg),
            "--port",
            str(self.port),
        ]
        self.argv += ["--log-format", "json"]
        self.env = clean_env(env)
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, wait_for: str = "/readyz", timeout: float = 30.0) -> str | None:
        """Starts a new run; None once `wait_for` answers 200, else why not (the process may still be up)."""
        self.runs += 1
        self._close_log()
        self._log = open(self.workdir / f"{self.name}-{self.runs}.log", "wb")  # noqa: SIM115 - closed on stop
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.workdir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"exited {self.proc.returncode}: {self.log_tail(300)}"
            if self.probe(wait_for) == 200:
                return None
            time.sleep(0.05)
        return f"{wait_for} not 200 after {timeout:.0f} s"

    def probe(self, path: str, timeout: float = 1.0) -> int | None:
        try:
            return httpx.get(self.url + path, timeout=timeout).status_code
        except httpx.HTTPError:
            return None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (notifbot drains and exits), SIGKILL after `timeout`; the exit code."""
        code = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            code = self.proc.returncode
        self._close_log()
        return code

    def log_tail(self, n: int = 2000) -> str:
        with contextlib.suppress(OSError):
            return (self.workdir / f"{self.name}-{self.runs}.log").read_text(errors="replace")[-n:].strip()
        return ""

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


@dataclass(frozen=True)
class Answer:
    """What one request got: an HTTP status, or None for no answer (refused, reset, timed out)."""

    event_id: str
    at: float  # time.monotonic() when the answer (or the failure) came
    status: int | None
    duplicate: bool = False


class Sender:
    """Sends `events` at `rate`/s from its own thread and event loop, re-sending until accepted (see module doc)."""

    def __init__(
        self,
        url: str,
        events: list[dict[str, Any]],
        *,
        rate: float,
        retry_for: float,
        retry_delay: float = 0.25,
        max_retry_delay: float = 2.0,
        timeout: float = 5.0,
    ) -> None:
        self.url = f"{url}/hooks/events"
        self.events, self.rate, self.retry_for = events, rate, retry_for
        self.retry_delay, self.max_retry_delay, self.timeout = retry_delay, max_retry_delay, timeout
        self.answers: list[Answer] = []
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._run()), name="chaos-sender", daemon=True
        )
        self.started_at = 0.0

    def start(self) -> Sender:
        self.started_at = time.monotonic()
        self._thread.start()
        return self

    def join(self, timeout: float) -> bool:
        """Waits for every event to be accepted or given up; False when still sending after `timeout`."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    async def _run(self) -> None:
        import aiohttp

        connector = aiohttp.TCPConnector(
            limit=200, force_close=True
        )  # no stale pooled connection after a kill
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            tasks = []
            t0 = time.monotonic()
            for i, event in enumerate(self.events):
                delay = t0 + i / self.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(self._one(session, event)))
            await asyncio.gather(*tasks)

    async def _one(self, session: Any, event: dict[str, Any]) -> None:
        import aiohttp

        give_up = time.monotonic() + self.retry_for
        delay = self.retry_delay
        while True:
            status: int | None = None
            duplicate = False
            try:
                async with session.post(self.url, json=event) as resp:
                    status = resp.status
                    body = await resp.json(content_type=None) if 200 <= status < 300 else None
                    if body:
                        duplicate = any(a.get("duplicate") for a in body.get("accepted", []))
            except (aiohttp.ClientError, TimeoutError, ValueError):
                status = None
            self.answers.append(Answer(event["id"], time.monotonic(), status, duplicate))
            if status is not None and (200 <= status < 300 or status not in RETRYABLE):
                return
            if time.monotonic() >= give_up:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_retry_delay)


class ReadySampler:
    """Polls GET /readyz every `every` s in a thread: (monotonic time, status or None)."""

    def __init__(self, bot: Bot, every: float = 0.5) -> None:
        self.bot, self.every = bot, every
        self.samples: list[tuple[float, int | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="readyz-sampler", daemon=True)

    def __enter__(self) -> ReadySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append((time.monotonic(), self.bot.probe("/readyz", timeout=self.every)))


@dataclass
class Timeline:
    """Named fault windows in time.monotonic() seconds."""

    windows: list[tuple[str, float, float]] = field(default_factory=list)
    _open: tuple[str, float] | None = None

    def begin(self, name: str) -> None:
        self.end()
        self._open = (name, time.monotonic())

    def end(self) -> None:
        if self._open is not None:
            self.windows.append((self._open[0], self._open[1], time.monotonic()))
            self._open = None


def _status_name(status: int | None) -> str:
    return "no answer" if status is None else str(status)


def tally(
    events: list[dict[str, Any]],
    answers: list[Answer],
    messages: list[dict[str, Any]],
    outbox: dict[str, int],
    stored: set[str],
    timeline: Timeline,
    readyz: list[tuple[float, int | None]],
) -> dict[str, Any]:
    """The scenario's figures: what was sent, accepted and posted, per event id, and what each fault window saw."""
    sent = [e["id"] for e in events]
    accepted = {a.event_id for a in answers if a.status is not None and 200 <= a.status < 300}
    posted = Counter(((m.get("metadata") or {}).get("event_payload") or {}).get("key") for m in messages)
    statuses = Counter(_status_name(a.status) for a in answers)
    final_refusals = {
        a.event_id: a.status
        for a in answers
        if a.status is not None and not 200 <= a.status < 300 and a.status not in RETRYABLE
    }
    windows = []
    for name, t0, t1 in timeline.windows:
        seen = Counter(_status_name(a.status) for a in answers if t0 <= a.at <= t1)
        ready = Counter(_status_name(s) for t, s in readyz if t0 <= t <= t1)
        windows.append(
            {"window": name, "seconds": round(t1 - t0, 1), "answers": dict(seen), "readyz": dict(ready)}
        )
    return {
        "sent": len(sent),
        "requests": len(answers),
        "accepted": len(accepted),
        "answers": dict(sorted(statuses.items())),
        "retryable_answers": sum(c for s, c in statuses.items() if s.isdigit() and int(s) in RETRYABLE),
        "no_answer": statuses.get("no answer", 0),
        "refused_for_good": len(final_refusals),
        "server_errors_5xx_not_retryable": sum(1 for s in final_refusals.values() if s >= 500),
        "not_accepted": len(set(sent) - accepted),
        "delivered_once": sum(1 for k in accepted if posted[k] == 1),
        "duplicated": sum(1 for k in accepted if posted[k] > 1),
        "extra_posts": sum(c - 1 for k, c in posted.items() if k in accepted and c > 1),
        "lost": sorted(accepted - set(posted)),
        "delivered_unacknowledged": len(set(posted) & (set(sent) - accepted)),
        "stored": len(stored),
        "stored_not_posted": len(stored - set(posted)),
        "outbox": outbox,
        "windows": windows,
    }
