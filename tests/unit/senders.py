"""Sender tests' scaffolding: a fresh outbox row, and one sample sent to a Swedish, an English and a console target."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Mapping
from typing import Any

from notifbot.destinations import build_senders
from notifbot.destinations.spec import SenderContext
from notifbot.model import Notification
from notifbot.store.outbox import OutboxRow
from tests.fakes.slack import FakeSlack


def outbox_row(row_id: int, name: str, dest_type: str, target: str) -> OutboxRow:
    """A row as the worker would hand it over the first time."""
    return OutboxRow(
        id=row_id,
        event_id=row_id,
        destination=name,
        dest_type=dest_type,
        target=target,
        attempts=0,
        provider_message_id=None,
        created_at=time.time(),
    )


async def send_in_two_languages(
    destinations: Mapping[str, Any], n: Notification, **context: Any
) -> tuple[str, str, str]:
    """`n` sent to destinations `svenska` (C0SWEDISH), `english` (C0ENGLISH) and `log` (the console) through the real
    senders against a fake Slack: each Slack channel's blocks as JSON, and the console's text."""
    stream = io.StringIO()
    with FakeSlack(token="xoxb-test", min_interval=0.0) as slack:
        ctx = SenderContext(slack_token="xoxb-test", slack_api_url=slack.api_url, stdout=stream, **context)
        senders = build_senders(destinations, ctx)
        try:
            await senders["slack"].send(outbox_row(1, "svenska", "slack", "C0SWEDISH"), n)
            await senders["slack"].send(outbox_row(2, "english", "slack", "C0ENGLISH"), n)
            await senders["console"].send(outbox_row(3, "log", "console", "stdout"), n)
        finally:
            for sender in senders.values():
                await sender.close()
        swedish = json.dumps(slack.messages_for("C0SWEDISH")[0].blocks, ensure_ascii=False)
        english = json.dumps(slack.messages_for("C0ENGLISH")[0].blocks, ensure_ascii=False)
    return swedish, english, stream.getvalue()
