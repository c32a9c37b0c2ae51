"""Adobe I/O Events envelopes (webhook or journal, every documented variant) → Notifications; pure functions."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from notifbot.errors import InputError
from notifbot.model import Kind, Notification, Severity
from notifbot.sources.events import parse_event

MARKETO_PREFIX = "com.adobe.platform.marketo."
AUDIT_PREFIX = MARKETO_PREFIX + "audit.user."
AB_TEST_KIND = "ab_test_result"
_SPACE = re.compile(r"[\s\-]+")


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

    @property
    def data(self) -> Mapping[str, Any]:
        """The CloudEvent `data` as a mapping (a JSON string is decoded; anything else is empty)."""
        data = self.cloud_event.get("data")
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                return {}
        return data if isinstance(data, Mapping) else {}


def _text(value: object) -> str | None:
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
        _text(outer.get("eventid"))
        or _text(outer.get("event_id"))
        or _text(outer.get("eventId"))
        or header_event_id
        or _text(ce.get("id"))
    )
    recipient = _text(outer.get("recipientclientid")) or _text(outer.get("recipient_client_id"))
    return Envelope(event_id, recipient, ce, obj)


_OFFSET = re.compile(r"([+-])(\d{1,2}):?(\d{2})?$")


def parse_time(value: object) -> datetime | None:
    """Adobe/Marketo times: RFC 3339, `-5:00` offsets, no zone (UTC), a space separator, epoch s or ms."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000.0 if value > 1e11 else float(value)
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    tz: timezone | None = None
    date_part, sep, clock = text.partition("T")
    if sep and (m := _OFFSET.search(clock)):
        sign = -1 if m.group(1) == "-" else 1
        tz = timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0)))
        text = f"{date_part}T{clock[: m.start()]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if tz is not None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _norm(value: object) -> str:
    return _SPACE.sub("_", value.strip().lower()) if isinstance(value, str) else ""


def _classify_token(token: str) -> tuple[Kind, str | None] | None:
    """A kind (and, for labelled `other`, its name) from a type suffix, componentType or subType."""
    if not token:
        return None
    if "campaign_failure" in token or token in ("campaign_failed", "campaignfailure"):
        return Kind.CAMPAIGN_FAILURE, None
    if "campaign_abort" in token or "campaignabort" in token:
        return Kind.CAMPAIGN_ABORT, None
    if "web_service" in token or token in ("webservices", "dailyquota", "daily_quota", "api_quota"):
        return Kind.WEB_SERVICES, None
    if any(w in token for w in ("nurture", "engagement", "exhausted")):
        return Kind.ENGAGEMENT, None
    if any(w in token for w in ("salesforce", "sfdc", "crm_sync", "sync_failure")):
        return Kind.CRM_SYNC, None
    if "test_group" in token or "ab_test" in token or "a/b" in token or "champion" in token:
        return Kind.OTHER, AB_TEST_KIND
    return None


def classify(envelope: Envelope) -> tuple[Kind, str | None]:
    """Kind from the event `type`, falling back to `data.componentType`, then `data.subType`."""
    etype = envelope.type
    if etype.startswith(AUDIT_PREFIX):
        return Kind.AUDIT, None
    suffix = etype[len(MARKETO_PREFIX) :] if etype.startswith(MARKETO_PREFIX) else etype
    if etype.startswith(MARKETO_PREFIX + "notification."):
        suffix = etype[len(MARKETO_PREFIX + "notification.") :]
    data = envelope.data
    for token in (_norm(suffix), _norm(data.get("componentType")), _norm(data.get("subType"))):
        found = _classify_token(token)
        if found is not None:
            return found
    return Kind.OTHER, None


def _action(data: Mapping[str, Any]) -> Mapping[str, Any]:
    action = data.get("eventAction")
    return action if isinstance(action, Mapping) else {}


def _first(source: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        value = source.get(name)
        if value is not None and value != "":
            return value
    return None


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().rstrip("%"))
        except ValueError:
            return None
    return None


def _count(value: object) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number >= 0 and number == int(number) else None


def _drop_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _web_services(data: Mapping[str, Any], action: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    percent = _number(_first(action, "percent", "percentage"))
    quota = _count(_first(action, "dailyQuota", "quota"))
    services = action.get("serviceNames")
    used = _count(_first(action, "used", "callsUsed"))
    if used is None and percent is not None and quota is not None:
        used = round(quota * percent / 100.0)
    fields = _drop_none(
        {
            "percent": percent if percent is not None and percent >= 0 else None,
            "quota": quota,
            "used": used,
            "service_names": [str(s) for s in services] if isinstance(services, list) else None,
        }
    )
    pct = f"{percent:g} %" if percent is not None else "a threshold"
    summary = f"Marketo web services reached {pct} of the daily API quota"
    if quota is not None:
        summary += f" ({quota:,} calls)"
    if fields.get("service_names"):
        summary += ": " + ", ".join(fields["service_names"])[:300]
    return fields, summary


def _campaign(data: Mapping[str, Any], action: Mapping[str, Any], verb: str) -> tuple[dict[str, Any], str]:
    name = _text(_first(action, "campaignName", "name"))
    fields = _drop_none(
        {
            "campaign_id": _first(action, "campaignId", "campaignID", "id"),
            "campaign_name": name,
            "program_name": _text(_first(action, "programName")),
            "user_id": _text(_first(action, "userId", "user")),
            "error": _text(_first(action, "error", "errorMessage", "reason", "message", "failureReason")),
        }
    )
    cid = fields.get("campaign_id")
    what = f'"{name}"' if name else (f"{cid}" if cid is not None else "")
    summary = f"Smart campaign {what} {verb}".replace("  ", " ")
    if fields.get("user_id"):
        summary += f" by {fields['user_id']}"
    return fields, summary


def _engagement(data: Mapping[str, Any], action: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    fields = _drop_none(
        {
            "program_name": _text(_first(action, "programName", "program", "name")),
            "stream_name": _text(_first(action, "streamName", "stream")),
            "exhausted_count": _count(
                _first(action, "exhaustedCount", "exhaustedLeads", "leadCount", "count")
            ),
            "url": _text(_first(action, "url")),
        }
    )
    where = fields.get("stream_name") or fields.get("program_name")
    return fields, f"Nurture content exhausted: {where}" if where else "Nurture program content exhausted"


def _crm_sync(data: Mapping[str, Any], action: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    problem = _text(_first(action, "problem", "errorType", "errorCode", "reason")) or _text(
        data.get("subType")
    )
    fields = _drop_none(
        {
            "crm": "salesforce",
            "problem": _norm(problem) or None,
            "failed_leads": _count(_first(action, "failedLeads", "failedCount", "count")),
            "error": _text(_first(action, "error", "errorMessage", "message")),
        }
    )
    return fields, "Salesforce sync failed" + (f": {problem}" if problem else "")


def _ab_test(data: Mapping[str, Any], action: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    program = _text(_first(action, "programName", "program", "name"))
    fields = _drop_none({"program_name": program, "winner": _text(_first(action, "winner", "winningTest"))})
    return fields, "A/B test result" + (f" for {program}" if program else "")


_SEVERE_AUDIT = ("deactivat", "delete", "fail", "lock", "abort", "revoke", "remove", "unapprove")


def _audit(envelope: Envelope, data: Mapping[str, Any]) -> tuple[dict[str, Any], str, Severity]:
    action_value = data.get("eventAction")
    action = _text(action_value) or _text(_first(_action(data), "action", "name"))
    component = _text(data.get("componentType")) or envelope.type[len(AUDIT_PREFIX) :] or None
    fields = _drop_none(
        {
            "user_id": _text(_first(data, "userId", "user", "userEmail")),
            "action": action,
            "component_type": component,
            "component_id": _first(data, "componentId", "assetId"),
            "component_name": _text(_first(data, "componentName", "assetName", "name")),
        }
    )
    words = " ".join(
        str(w) for w in (fields.get("user_id"), action, component, fields.get("component_name")) if w
    )
    severe = action is not None and any(w in action.lower() for w in _SEVERE_AUDIT)
    return (
        fields,
        f"Marketo audit: {words}" if words else "Marketo audit event",
        (Severity.WARNING if severe else Severity.INFO),
    )


def event_key(envelope: Envelope) -> str:
    """The dedupe key: the Adobe event id (same on every retry and in the journal), else a hash of the event."""
    if envelope.event_id:
        return f"adobe-io-{envelope.event_id}"[:200]
    material = json.dumps(envelope.cloud_event, sort_keys=True, default=str).encode()
    return "adobe-io-h" + hashlib.sha256(material).hexdigest()[:32]


def _other_kind(envelope: Envelope) -> str:
    return (envelope.type or "adobe_io_event")[:100]


def _stream(etype: str) -> str:
    rest = etype[len(MARKETO_PREFIX) :] if etype.startswith(MARKETO_PREFIX) else ""
    return rest.split(".", 1)[0] if rest else "unknown"


def to_notification(envelope: Envelope, *, now: datetime, source: str = "adobe_io") -> Notification:
    """One envelope → one Notification; never fails (unreadable or unknown events become `other`, raw kept)."""
    kind, label = classify(envelope)
    data, action = envelope.data, _action(envelope.data)
    occurred = parse_time(envelope.cloud_event.get("time")) or now
    instance = _text(data.get("munchkinId"))
    severity: Severity | None = None
    fields: dict[str, Any]
    if kind is Kind.WEB_SERVICES:
        fields, summary = _web_services(data, action)
    elif kind is Kind.CAMPAIGN_FAILURE:
        fields, summary = _campaign(data, action, "failed")
    elif kind is Kind.CAMPAIGN_ABORT:
        fields, summary = _campaign(data, action, "aborted")
    elif kind is Kind.ENGAGEMENT:
        fields, summary = _engagement(data, action)
    elif kind is Kind.CRM_SYNC:
        fields, summary = _crm_sync(data, action)
    elif kind is Kind.AUDIT:
        fields, summary, severity = _audit(envelope, data)
    elif label == AB_TEST_KIND:
        fields, summary = _ab_test(data, action)
    else:
        fields, summary = {}, f"Unrecognised Adobe I/O event {envelope.type or '(no type)'}"
    fields["adobe_event_type"] = envelope.type or None
    if data.get("subType") is not None:
        fields["sub_type"] = data.get("subType")
    if action:
        fields["event_action"] = dict(action)
    if kind is Kind.OTHER and label is None:
        fields["payload"] = dict(envelope.raw)
    event: dict[str, Any] = {
        "kind": label or (kind.value if kind is not Kind.OTHER else _other_kind(envelope)),
        "id": event_key(envelope),
        "instance": instance[:100] if instance else None,
        "occurred_at": occurred,
        "summary": summary[:3000],
        "fields": _drop_none(fields),
        "labels": {"adobe_stream": _stream(envelope.type)},
    }
    if severity is not None:
        event["severity"] = severity.value
    try:
        n = parse_event(event, now=now, source=source)
    except InputError:  # a field of an unexpected shape: keep everything as `other` rather than lose it
        event.update(kind=_other_kind(envelope), fields={"payload": dict(envelope.raw)})
        event.pop("severity", None)
        n = parse_event(event, now=now, source=source)
    return n
