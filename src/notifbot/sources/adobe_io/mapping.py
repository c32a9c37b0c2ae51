"""Adobe I/O Events envelopes (webhook or journal, every documented variant) → Notifications; pure functions."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from notifbot.errors import InputError
from notifbot.model import Kind, Notification, Severity
from notifbot.sources.adobe_io.envelope import Envelope, is_validation, parse_time, unwrap
from notifbot.sources.adobe_io.envelope import text as _text
from notifbot.sources.events import parse_event
from notifbot.sources.storable import INT_LIMIT, safe_json

__all__ = ["Envelope", "classify", "event_key", "is_validation", "parse_time", "to_notification", "unwrap"]

MARKETO_PREFIX = "com.adobe.platform.marketo."
AUDIT_PREFIX = MARKETO_PREFIX + "audit.user."
_SPACE = re.compile(r"[\s\-]+")


def _norm(value: object) -> str:
    return _SPACE.sub("_", value.strip().lower()) if isinstance(value, str) else ""


def _classify_token(token: str) -> Kind | None:
    """A kind from a type suffix, componentType or subType; None when the token names none."""
    if not token:
        return None
    if "campaign_failure" in token or token in ("campaign_failed", "campaignfailure"):
        return Kind.CAMPAIGN_FAILURE
    if "campaign_abort" in token or "campaignabort" in token:
        return Kind.CAMPAIGN_ABORT
    if "web_service" in token or token in ("webservices", "dailyquota", "daily_quota", "api_quota"):
        return Kind.WEB_SERVICES
    if any(w in token for w in ("nurture", "engagement", "exhausted")):
        return Kind.ENGAGEMENT
    if any(w in token for w in ("salesforce", "sfdc", "dynamics", "crm_sync", "sync_failure")):
        return Kind.CRM_SYNC
    if "test_group" in token or "ab_test" in token or "a/b" in token or "champion" in token:
        return Kind.AB_TEST_RESULT
    return None


def classify(envelope: Envelope) -> Kind:
    """Kind from the event `type`, falling back to `data.componentType`, then `data.subType`."""
    etype = envelope.type
    if etype.startswith(AUDIT_PREFIX):
        return Kind.AUDIT
    suffix = etype[len(MARKETO_PREFIX) :] if etype.startswith(MARKETO_PREFIX) else etype
    if etype.startswith(MARKETO_PREFIX + "notification."):
        suffix = etype[len(MARKETO_PREFIX + "notification.") :]
    data = envelope.data
    for token in (_norm(suffix), _norm(data.get("componentType")), _norm(data.get("subType"))):
        found = _classify_token(token)
        if found is not None:
            return found
    return Kind.OTHER


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
    """A finite number from a number or numeric text (`"80 %"`), else None."""
    number: float | None = None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            number = float(value.strip().rstrip("%"))
    except (ValueError, OverflowError):  # not numeric, or an integer beyond float's range
        return None
    return number if number is not None and math.isfinite(number) else None


def _count(value: object) -> int | None:
    number = _number(value)
    ok = number is not None and 0 <= number < INT_LIMIT and number == int(number)
    return int(number) if ok and number is not None else None


def _drop_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _web_services(data: Mapping[str, Any], action: Mapping[str, Any]) -> dict[str, Any]:
    percent = _number(_first(action, "percent", "percentage"))
    quota = _count(_first(action, "dailyQuota", "quota"))
    services = action.get("serviceNames")
    used = _count(_first(action, "used", "callsUsed"))
    if used is None and percent is not None and quota is not None:
        used = round(quota * percent / 100.0)
    return _drop_none(
        {
            "percent": percent if percent is not None and percent >= 0 else None,
            "quota": quota,
            "used": used,
            "service_names": [str(s) for s in services] if isinstance(services, list) else None,
        }
    )


def _campaign(data: Mapping[str, Any], action: Mapping[str, Any]) -> dict[str, Any]:
    name = _text(_first(action, "campaignName", "name"))
    return _drop_none(
        {
            "campaign_id": _first(action, "campaignId", "campaignID", "id"),
            "campaign_name": name,
            "program_name": _text(_first(action, "programName")),
            "user_id": _text(_first(action, "userId", "user")),
            "error": _text(_first(action, "error", "errorMessage", "reason", "message", "failureReason")),
        }
    )


def _engagement(data: Mapping[str, Any], action: Mapping[str, Any]) -> dict[str, Any]:
    return _drop_none(
        {
            "program_name": _text(_first(action, "programName", "program", "name")),
            "stream_name": _text(_first(action, "streamName", "stream")),
            "exhausted_count": _count(
                _first(action, "exhaustedCount", "exhaustedLeads", "leadCount", "count")
            ),
            "url": _text(_first(action, "url")),
        }
    )


_CRM_VENDORS = (
    ("dynamics", ("dynamics", "msd", "mscrm", "microsoft")),
    ("salesforce", ("salesforce", "sfdc")),
)


def crm_vendor(envelope: Envelope, data: Mapping[str, Any], action: Mapping[str, Any]) -> str | None:
    """Which CRM a sync event is about, from its type, componentType, subType or a `crm` value; None if unsaid."""
    said = (
        envelope.type.rsplit(".", 1)[-1],
        data.get("componentType"),
        data.get("subType"),
        _first(action, "crm", "crmType", "system"),
        data.get("crm"),
    )
    tokens = [_norm(v) for v in said]
    for vendor, words in _CRM_VENDORS:
        if any(w in token for token in tokens for w in words):
            return vendor
    return None


def _crm_sync(envelope: Envelope, data: Mapping[str, Any], action: Mapping[str, Any]) -> dict[str, Any]:
    problem = _text(_first(action, "problem", "errorType", "errorCode", "reason")) or _text(
        data.get("subType")
    )
    crm = crm_vendor(envelope, data, action)
    return _drop_none(
        {
            "crm": crm,
            "problem": _norm(problem) or None,
            # the problem as Marketo wrote it, when that is not already its code (shown in the summary)
            "problem_text": problem if problem and problem != _norm(problem) else None,
            "failed_leads": _count(_first(action, "failedLeads", "failedCount", "count")),
            "error": _text(_first(action, "error", "errorMessage", "message")),
        }
    )


def _ab_test(data: Mapping[str, Any], action: Mapping[str, Any]) -> dict[str, Any]:
    program = _text(_first(action, "programName", "program", "name"))
    return _drop_none({"program_name": program, "winner": _text(_first(action, "winner", "winningTest"))})


_SEVERE_AUDIT = ("deactivat", "delete", "fail", "lock", "abort", "revoke", "remove", "unapprove")


def _audit(envelope: Envelope, data: Mapping[str, Any]) -> tuple[dict[str, Any], Severity]:
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
    severe = action is not None and any(w in action.lower() for w in _SEVERE_AUDIT)
    return fields, (Severity.WARNING if severe else Severity.INFO)


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


def _time(envelope: Envelope, now: datetime) -> tuple[datetime, dict[str, Any]]:
    """When the event happened, and (when its `time` cannot be read or converted) the raw value as evidence."""
    raw = envelope.cloud_event.get("time")
    occurred = parse_time(raw)
    if occurred is not None:
        return occurred, {}
    return now, ({} if raw is None or raw == "" else {"time": str(safe_json(raw))[:100]})


def to_notification(envelope: Envelope, *, now: datetime, source: str = "adobe_io") -> Notification:
    """One envelope → one Notification; never fails (unreadable or unknown events become `other`, raw kept)."""
    kind = classify(envelope)
    if envelope.data_problem is not None:
        kind = Kind.OTHER
    data, action = envelope.data, _action(envelope.data)
    occurred, unreadable = _time(envelope, now)
    if envelope.data_problem is not None:
        unreadable["data"] = envelope.data_problem
    instance = _text(data.get("munchkinId"))
    severity: Severity | None = None
    fields: dict[str, Any]
    # no summary: the kind words one from these fields in each reader's language (kinds/adobe_text.py)
    if kind is Kind.WEB_SERVICES:
        fields = _web_services(data, action)
    elif kind in (Kind.CAMPAIGN_FAILURE, Kind.CAMPAIGN_ABORT):
        fields = _campaign(data, action)
    elif kind is Kind.ENGAGEMENT:
        fields = _engagement(data, action)
    elif kind is Kind.CRM_SYNC:
        fields = _crm_sync(envelope, data, action)
    elif kind is Kind.AUDIT:
        fields, severity = _audit(envelope, data)
    elif kind is Kind.AB_TEST_RESULT:
        fields = _ab_test(data, action)
    else:
        fields = {}
    fields["adobe_event_type"] = envelope.type or None
    if data.get("subType") is not None:
        fields["sub_type"] = safe_json(data.get("subType"), text_limit=1_000)
    if action:
        fields["event_action"] = safe_json(dict(action))
    if kind is Kind.OTHER:
        fields["payload"] = safe_json(dict(envelope.raw))
    if unreadable:
        fields["unreadable"] = unreadable
    event: dict[str, Any] = {
        "kind": kind.value if kind is not Kind.OTHER else _other_kind(envelope),
        "id": event_key(envelope),
        "instance": instance[:100] if instance else None,
        "occurred_at": occurred,
        "fields": _drop_none(fields),
        "labels": {"adobe_stream": _stream(envelope.type)[:100]},
    }
    if severity is not None:
        event["severity"] = severity.value
    try:
        return parse_event(event, now=now, source=source)
    except InputError as exc:
        # a value of an unexpected shape: keep everything as `other` rather than lose it
        unreadable["fields"] = "; ".join(f"{d.loc}: {d.msg}" for d in exc.details)[:1_000]
        fields = {
            "payload": dict(envelope.raw),
            "unreadable": unreadable,
            "adobe_event_type": envelope.type or None,
        }
        event.update(kind=_other_kind(envelope), fields=_drop_none(fields))
        event.pop("severity", None)
        return parse_event(safe_json(event), now=now, source=source)  # safe_json: nothing left to refuse
