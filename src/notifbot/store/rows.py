"""Stored rows back into values: one place that knows how an events row becomes a Notification."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from notifbot.model import Kind, Notification, Severity
from notifbot.store.conn import Row


def notification_from_row(row: Row) -> Notification:
    """Rebuilds the Notification stored in an events row."""
    fields: dict[str, Any] = json.loads(row["fields"])
    labels: dict[str, str] = json.loads(row["labels"])
    return Notification(
        key=row["key"],
        kind=Kind(row["kind"]),
        severity=Severity(row["severity"]),
        occurred_at=datetime.fromisoformat(row["occurred_at"]),
        instance=row["instance"],
        summary=row["summary"],
        fields=fields,
        labels=labels,
        source=row["source"],
        original_kind=row["original_kind"],
        received_at=datetime.fromisoformat(row["received_at"]),
        status=row["status"],
    )
