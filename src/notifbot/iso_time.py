"""Reading ISO 8601 times from text, Marketo's styles included: one reading for the renderers and the store checks."""

from __future__ import annotations

import re
from datetime import datetime

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
