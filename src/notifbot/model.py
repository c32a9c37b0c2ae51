"""The one notification model every source produces and every renderer consumes; pure values, no I/O."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """Marketo notification types notifbot understands (docs/reference.md §Event JSON); anything else is `other`."""

    CAMPAIGN_FAILURE = "campaign_failure"
    CAMPAIGN_ABORT = "campaign_abort"
    CRM_SYNC = "crm_sync"
    ENGAGEMENT = "engagement"
    FACEBOOK = "facebook"
    TRIGGER_CLEANUP = "trigger_cleanup"
    LINKEDIN = "linkedin"
    WEB_SERVICES = "web_services"
    AUDIT = "audit"
    OTHER = "other"

    @classmethod
    def parse(cls, value: str) -> Kind:
        """The kind for `value`, or `other` when it is not one we know."""
        try:
            return cls(value)
        except ValueError:
            return cls.OTHER


class Severity(StrEnum):
    """How loudly a notification should be announced."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


DEFAULT_SEVERITY: Mapping[Kind, Severity] = {
    Kind.CAMPAIGN_FAILURE: Severity.WARNING,
    Kind.CAMPAIGN_ABORT: Severity.INFO,
    Kind.CRM_SYNC: Severity.CRITICAL,
    Kind.ENGAGEMENT: Severity.WARNING,
    Kind.FACEBOOK: Severity.WARNING,
    Kind.TRIGGER_CLEANUP: Severity.WARNING,
    Kind.LINKEDIN: Severity.WARNING,
    Kind.WEB_SERVICES: Severity.CRITICAL,
    Kind.AUDIT: Severity.INFO,
    Kind.OTHER: Severity.INFO,
}

# Fields that distinguish one occurrence from another when the sender gave no `id`.
SALIENT_FIELDS: Mapping[Kind, tuple[str, ...]] = {
    Kind.CAMPAIGN_FAILURE: ("campaign_id", "campaign_name", "error"),
    Kind.CAMPAIGN_ABORT: ("campaign_id", "campaign_name", "user_id"),
    Kind.CRM_SYNC: ("crm", "problem", "failed_leads", "period_start", "period_end"),
    Kind.ENGAGEMENT: ("program_name", "stream_name", "exhausted_count"),
    Kind.FACEBOOK: ("reason", "audience_name"),
    Kind.TRIGGER_CLEANUP: ("stage", "deactivate_on", "campaigns"),
    Kind.LINKEDIN: ("operation", "audience_name", "attempts"),
    Kind.WEB_SERVICES: ("used", "quota", "percent", "resets_at"),
    Kind.AUDIT: ("user_id", "action", "component_type", "component_id"),
}


def finite_number(value: object) -> float | None:
    """A finite number from an int, float or numeric string ("40,000"); None for anything else or out of range."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value.strip().replace(",", "")) if isinstance(value, str) else float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def quota_percent(fields: Mapping[str, Any]) -> float | None:
    """Percent of the daily API quota used: `percent`, else `used` / `quota`, else the `threshold` crossed."""
    percent = finite_number(fields.get("percent"))
    if percent is None:
        used, quota = finite_number(fields.get("used")), finite_number(fields.get("quota"))
        if used is not None and quota:
            percent = used * 100 / quota
    if percent is None or not math.isfinite(percent):
        percent = finite_number(fields.get("threshold"))
    return percent


def default_severity(kind: Kind, fields: Mapping[str, Any]) -> Severity:
    """Severity when the sender gave none: by kind, refined where a field says more."""
    if kind is Kind.WEB_SERVICES:
        percent = quota_percent(fields)
        if percent is not None and percent < 100:
            return Severity.WARNING
    if kind is Kind.TRIGGER_CLEANUP and fields.get("stage") == "at_risk":
        return Severity.INFO
    return DEFAULT_SEVERITY[kind]


def dedupe_key(
    kind: Kind, instance: str | None, fields: Mapping[str, Any], occurred_at: datetime, original_kind: str
) -> str:
    """A stable key for an event without an `id`: same occurrence, same key, across restarts."""
    names = SALIENT_FIELDS.get(kind)
    salient = {k: fields.get(k) for k in names} if names is not None else dict(fields)
    material = {
        "kind": original_kind,
        "instance": instance,
        "fields": salient,
        "occurred_at": occurred_at.astimezone(UTC).isoformat(),
    }
    digest = hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()
    return f"nb-{digest[:32]}"


@dataclass(frozen=True)
class Notification:
    """One Marketo notification, whatever source brought it."""

    key: str
    kind: Kind
    severity: Severity
    occurred_at: datetime
    instance: str | None = None
    summary: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    source: str = "events"
    original_kind: str | None = None
    received_at: datetime | None = None

    @property
    def kind_label(self) -> str:
        """The kind as the sender named it (differs from `kind` only for `other`); always text."""
        if isinstance(self.original_kind, str) and self.original_kind:
            return self.original_kind
        return self.kind.value if self.original_kind is None else repr(self.original_kind)[:100]

    def as_event_dict(self) -> dict[str, Any]:
        """The event JSON form of this notification (docs/reference.md §Event JSON)."""
        out: dict[str, Any] = {
            "kind": self.kind_label,
            "id": self.key,
            "occurred_at": self.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "severity": self.severity.value,
            "fields": dict(self.fields),
            "labels": dict(self.labels),
        }
        if self.instance is not None:
            out["instance"] = self.instance
        if self.summary is not None:
            out["summary"] = self.summary
        return out


@dataclass(frozen=True)
class Mute:
    """A kind silenced until a time: its notifications are stored but not posted."""

    id: int
    kind: str
    until: datetime
    author: str
    reason: str | None = None
    created_at: datetime | None = None

    def covers(self, n: Notification, now: datetime) -> bool:
        """True when this mute silences `n` at `now` (`all` silences every kind)."""
        return now < self.until and self.kind in ("all", n.kind.value, n.kind_label)


@dataclass(frozen=True)
class Acked:
    """Who acknowledged a posted alert, and when (shown in place of the Acknowledge button)."""

    user_id: str
    at: datetime
