"""`notifbot sandbox` as a child process (its `serve` installs signal handlers, so never in a test's thread).

Started as a user would start it, on a free port with its own database file; `delivery` paced at 0 so a test's
posts show at once. The child inherits the test's environment but no SLACK_* or NOTIFBOT_* variable.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from notifbot.sandbox.slack_api import TOKEN
from tests.integration.process import free_port, query, wait_until

CONFIG = "delivery: {slack_interval_seconds: 0, teams_workflow_interval_seconds: 0}\n"


class SandboxProcess:
    """One `notifbot sandbox` child: its page URL, the bot's URL it printed, its database, its output files."""

    def __init__(self, tmp: Path, *, marketo: bool = True, config: str = CONFIG) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = tmp / "s.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NOTIFBOT_"))}
        config_file = tmp / "notifbot.yaml"
        config_file.write_text(config)
        args = ["--port", str(self.port), "--db", str(self.db), "--config", str(config_file)]
        self.out = open(tmp / "stdout.txt", "wb")  # noqa: SIM115 - lives as long as the child
        self.err = open(tmp / "stderr.txt", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "notifbot", "sandbox", *args, *(["--marketo"] if marketo else [])],
            stdout=self.out,
            stderr=self.err,
            env=env,
            cwd=tmp,
        )

    def stderr(self) -> str:
        return (self.tmp / "stderr.txt").read_text(errors="replace")

    def started(self) -> bool:
        """True once the sandbox printed its page URL (both servers answer); fails if the child has exited."""
        assert self.proc.poll() is None, self.stderr()
        return f"notifbot sandbox: {self.url}/" in (self.tmp / "stdout.txt").read_text()

    @property
    def bot_url(self) -> str:
        """The bot's base URL, as the sandbox printed it."""
        found = re.search(r"the bot: (http://127\.0\.0\.1:\d+)", (self.tmp / "stdout.txt").read_text())
        assert found is not None
        return found.group(1)

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """What the bot stored: one statement on its database (committed rows; a connection of its own)."""
        return query(self.db, sql, *params)

    def wait_for_quota_sample(self) -> None:
        """Waits for the bot's first quota sample: in the first 15 minutes after 00:00 CT the story seeds none, and
        the quota poller's first run comes a few seconds after the start."""
        wait_until(lambda: self.rows("SELECT 1 FROM quota_samples LIMIT 1"), timeout=15)

    def history(self, channel: str) -> list[dict[str, Any]]:
        """What the bot posted in `channel`, as Slack's conversations.history answers it (newest first)."""
        response = httpx.post(
            f"{self.url}/slack/api/conversations.history",
            data={"channel": channel, "limit": "999"},
            headers={"authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )
        body = response.json()
        assert body["ok"], body
        messages: list[dict[str, Any]] = body["messages"]
        return messages

    def stop(self) -> int:
        """SIGINT, as Ctrl-C; the child's exit code."""
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(15)
        finally:
            self.out.close()
            self.err.close()
