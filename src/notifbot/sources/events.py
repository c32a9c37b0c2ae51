"""Parses `POST /hooks/events` bodies (docs/reference.md §Event JSON) into Notifications, or an InputError listing every problem."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from pydantic_core import from_json

from notifbot.errors import Detail, InputError, loc_path
from notifbot.kinds import dedupe_key, default_severity, spec_for
from notifbot.model import Kind, Notification, Severity
from notifbot.sources.event_schema import EVENT
from notifbot.sources.storable import DATE_RANGE_MSG, in_range, time_text_problems
from notifbot.sources.storable import problems as unstorable

MAX_EVENTS_PER_REQUEST = 1_000


def _details(prefix: str, error: ValidationError) -> list[Detail]:
    return [Detail(loc_path(err["loc"], prefix), err["msg"]) for err in error.errors(include_url=False)]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _jsonable(value: Any) -> Any:
    """Fields as they will be stored: datetimes become ISO strings."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, datetime):
        return _aware(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def parse_event(obj: Any, *, prefix: str = "", now: datetime, source: str = "events") -> Notification:
    """One event object → Notification; raises InputError with located details."""
    if not isinstance(obj, dict):
        raise InputError("each event must be a JSON object", [Detail(prefix or "body", "expected an object")])
    try:
        event = EVENT.validate_python(obj)
    except ValidationError as exc:
        raise InputError("invalid event", _details(prefix, exc)) from None
    raw_kind: str = event["kind"]
    kind = Kind.parse(raw_kind)
    fields: dict[str, Any] = event.get("fields") or {}
    adapter = spec_for(kind).adapter
    if adapter is not None:
        try:
            fields = adapter.validate_python(fields)
        except ValidationError as exc:
            raise InputError("invalid event fields", _details(loc_path(["fields"], prefix), exc)) from None
    # Refused here, alone: at the shared commit or at render time such a value would fail other events too.
    # The envelope's strings passed pydantic, which refuses lone surrogates in values but not in label names.
    occurred = event.get("occurred_at")
    where = loc_path(["fields"], prefix)
    found = unstorable(fields, where) + time_text_problems(fields, where)
    found += unstorable(event.get("labels") or {}, loc_path(["labels"], prefix))
    if occurred is not None and not in_range(occurred):
        found.append(Detail(loc_path(["occurred_at"], prefix), DATE_RANGE_MSG))
    if found:
        raise InputError("invalid event values", sorted(found, key=lambda d: d.loc))
    if adapter is not None and any(isinstance(v, datetime | dict | list) for v in fields.values()):
        fields = _jsonable(fields)
    occurred_at = _aware(occurred) if occurred else now
    instance = event.get("instance")
    given_severity = event.get("severity")
    severity = Severity(given_severity) if given_severity else default_severity(kind, fields)
    original = None if kind is not Kind.OTHER else raw_kind
    key = event.get("id") or dedupe_key(kind, instance, fields, occurred_at, raw_kind)
    return Notification(
        key=key,
        kind=kind,
        severity=severity,
        occurred_at=occurred_at,
        instance=instance,
        summary=event.get("summary"),
        fields=fields,
        labels=event.get("labels") or {},
        source=source,
        original_kind=original,
        received_at=now,
        status=event.get("status") or "firing",
    )


def parse_body(body: bytes, *, now: datetime | None = None, source: str = "events") -> list[Notification]:
    """A request body (one object or an array) → Notifications; all-or-nothing."""
    now = now or datetime.now(UTC)
    try:
        data = from_json(body, allow_inf_nan=False)
    except ValueError as exc:
        raise InputError(f"body is not valid JSON: {exc}", [Detail("body", str(exc))]) from None
    if isinstance(data, list):
        if not data:
            raise InputError("empty array: send at least one event", [Detail("body", "empty array")])
        if len(data) > MAX_EVENTS_PER_REQUEST:
            raise InputError(
                f"too many events in one request (max {MAX_EVENTS_PER_REQUEST})",
                [Detail("body", f"{len(data)} events")],
            )
        out: list[Notification] = []
        problems: list[Detail] = []
        for i, item in enumerate(data):
            try:
                out.append(parse_event(item, prefix=f"[{i}]", now=now, source=source))
            except InputError as exc:
                problems.extend(exc.details)
        if problems:
            raise InputError("invalid events", problems)
        return out
    return [parse_event(data, now=now, source=source)]
