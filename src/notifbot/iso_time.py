"""Reading ISO 8601 times from text, Marketo's styles included: one reading for the renderers and the store checks."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_MARKETO_TZ = re.compile(r"Z([+-]\d{4})$")  # Marketo's "2024-01-05T10:00:00Z+0000"


def read_iso(text: str) -> datetime | None:
    """The time `text` names ("Z" and "Z+0000" read as offsets), naive if it names no zone; None if it is not one."""
    text = _MARKETO_TZ.sub(r"\1", text.strip())
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def parse_time(value: object) -> datetime | None:
    """A timezone-aware datetime from a datetime or ISO-8601 string (Marketo styles too); None if unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    parsed = read_iso(value)
    if parsed is None:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
