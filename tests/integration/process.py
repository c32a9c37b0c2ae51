"""Runs `notifbot serve` as a real subprocess for crash, signal and end-to-end tests."""

from __future__ import annotations

import os
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml


def wait_until(predicate: Any, timeout: float = 30.0) -> None:
    """Polls `predicate` every 50 ms until it is truthy; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def query(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """The rows of one statement on a bot's database file (committed; a connection of its own), as tuples."""
    conn = sqlite3.connect(db)
    try:
        with conn:
            return [tuple(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BotProcess:
    """A `python -m notifbot serve` child with its own config file, stdout and stderr captured to files."""

    def __init__(
        self,
        tmp: Path,
        config: dict[str, Any] | None,
        env: dict[str, str] | None = None,
        nofile: tuple[int, int] | None = None,
    ) -> None:
        self.tmp = tmp
        self.nofile = (
            nofile  # (soft, hard) open-file limit of the child, as LimitNOFILE or `ulimit -n` would set
        )
        self.port = free_port()
        self.args = ["--port", str(self.port)]
        if config is not None:  # None: no config file at all, the embedded default
            self.config_path = tmp / "bot-config.yaml"
            self.config_path.write_text(yaml.safe_dump(config))
            self.args += ["--config", str(self.config_path)]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NOTIFBOT_"))}
        self.env.update(env or {})
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0

    def start(self, timeout: float = 20.0) -> None:
        self.spawn()
        self.wait_ready(timeout)

    def spawn(self) -> None:
        """Starts the child without waiting for it (several then start side by side; `wait_ready` after)."""
        self.runs += 1
        out = open(self.tmp / f"stdout-{self.runs}.txt", "wb")  # noqa: SIM115 - lives as long as the child
        err = open(self.tmp / f"stderr-{self.runs}.txt", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "notifbot", "serve", *self.args, "--log-format", "json"],
            stdout=out,
            stderr=err,
            env=self.env,
            cwd=self.tmp,
            preexec_fn=self._limits if self.nofile else None,
        )

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Returns once /readyz answers 200; raises if the child exits or is not ready within `timeout` s."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"notifbot exited early: {self.stderr()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"notifbot did not become ready: {self.stderr()}")

    def _limits(self) -> None:
        assert self.nofile is not None
        resource.setrlimit(resource.RLIMIT_NOFILE, self.nofile)

    def post(self, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.post(f"{self.url}/hooks/events", json=body, headers=headers, timeout=10)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stdout(self) -> str:
        return (self.tmp / f"stdout-{self.runs}.txt").read_text(errors="replace")

    def stderr(self) -> str:
        return (self.tmp / f"stderr-{self.runs}.txt").read_text(errors="replace")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
