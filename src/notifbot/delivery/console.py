"""The built-in console destination: prints each rendered message to stdout."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TextIO

from notifbot.links import DEFAULT_LINKS, LinkPolicy
from notifbot.model import Notification
from notifbot.render.console import render_console, render_console_json
from notifbot.render.slack import render_slack
from notifbot.store.outbox import OutboxRow


class ConsoleDelivery:
    """Writes messages as readable text (or JSON) so `make run` shows what Slack would get."""

    dest_type = "console"

    def __init__(
        self, formats: Mapping[str, str], stream: TextIO | None = None, *, links: LinkPolicy = DEFAULT_LINKS
    ) -> None:
        self._formats = formats
        self._stream = stream
        self._links = links

    async def send(self, row: OutboxRow, n: Notification) -> str | None:
        message = render_slack(n, links=self._links)
        if self._formats.get(row.destination, "text") == "json":
            text = render_console_json(message)
        else:
            text = render_console(message)
        stream = self._stream or sys.stdout
        stream.write(f"── notifbot → {row.destination} ──\n{text}\n\n")
        stream.flush()
        return None

    async def close(self) -> None:
        return None
