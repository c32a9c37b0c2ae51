"""Adobe I/O Events envelopes: every documented wrapping unwrapped, `data` decoded, odd times read; pure."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from notifbot.sources.storable import in_range, lenient_json


@dataclass(frozen=True)
class Envelope:
    """One Adobe I/O event, unwrapped: its id, recipient, the CloudEvent and the raw object as delivered."""

    event_id: str | None
    recipient: str | None
    cloud_event: Mapping[str, Any]
    raw: Mapping[str, Any] = field(repr=False)

    @property
    def type(self) -> str:
        """The CloudEvent `type` (event code), or '' when absent."""
        value = self.cloud_event.get("type")
        return value if isinstance(value, str) else ""

    @functools.cached_property
    def _decoded(self) -> tuple[Mapping[str, Any], str | None]:
        data = self.cloud_event.get("data")
        if isinstance(data, str):
            try:
                data = lenient_json(data)
            except ValueError as exc:  # not JSON, or nested deeper than any real event
                return {}, f"data is not readable JSON: {str(exc)[:200]}"
        return (data if isinstance(data, Mapping) else {}), None

    @property
    def data(self) -> Mapping[str, Any]:
        """The CloudEvent `data` as a mapping (a JSON string is decoded; anything else is empty)."""
        return self._decoded[0]

    @property
    def data_problem(self) -> str | None:
        """Why `data` could not be read, when it was a string that is not usable JSON."""
        return self._decoded[1]


def text(value: object) -> str | None:
    """Non-blank text (stripped) or a number as text; None otherwise."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def is_validation(obj: object) -> bool:
    """True for the `{"validationUrl": …}` POST Adobe sends instead of a GET challenge (it is not an event)."""
    return isinstance(obj, Mapping) and isinstance(obj.get("validationUrl"), str) and "event" not in obj


def unwrap(obj: Mapping[str, Any], header_event_id: str | None = None) -> Envelope:
    """The envelope of one delivered (or journaled) event; tolerant of every documented shape."""
    outer: Mapping[str, Any] = obj
    body = obj.get("body")
    if (
        "event" not in obj and isinstance(body, Mapping) and "event" in body
    ):  # {"header": …, "body": envelope}
        outer = body
    event = outer.get("event")
    if isinstance(event, Mapping):
        inner = event.get("body")
        ce: Mapping[str, Any] = inner if isinstance(inner, Mapping) and "type" in inner else event
    else:
        ce = outer  # a flat CloudEvent (e.g. the observability stream)
    event_id = (
        text(outer.get("eventid"))
        or text(outer.get("event_id"))
        or text(outer.get("eventId"))
        or header_event_id
        or text(ce.get("id"))
    )
    recipient = text(outer.get("recipientclientid")) or text(outer.get("recipient_client_id"))
    return Envelope(event_id, recipient, ce, obj)


_OFFSET = re.compile(r"([+-])(\d{1,2}):?(\d{2})?$")


def parse_time(value: object) -> datetime | None:
    """Adobe/Marketo times: RFC 3339, `-5:00` offsets, no zone (UTC), a space separator, epoch s or ms."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            seconds = value / 1000.0 if value > 1e11 else float(value)
            stamp = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
        return stamp if in_range(stamp) else None
    if not isinstance(value, str) or not value.strip():
        return None
    iso = value.strip().replace(" ", "T", 1)
    if iso.endswith(("Z", "z")):
        iso = iso[:-1] + "+00:00"
    tz: timezone | None = None
    date_part, sep, clock = iso.partition("T")
    try:
        if sep and (m := _OFFSET.search(clock)):
            sign = -1 if m.group(1) == "-" else 1
            tz = timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0)))
            iso = f"{date_part}T{clock[: m.start()]}"
        parsed = datetime.fromisoformat(iso)
    except ValueError:  # not a time, or an offset of 24 h or more
        return None
    if tz is not None:
        parsed = parsed.replace(tzinfo=tz)
    parsed = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return parsed if in_range(parsed) else None  # e.g. 0001-01-01T00:00:00+14:00: valid ISO, not convertible
