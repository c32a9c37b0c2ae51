"""Outbox rows for sender tests: one fresh, never-attempted row to a destination's target."""

from __future__ import annotations

import time

from notifbot.store.outbox import OutboxRow


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
