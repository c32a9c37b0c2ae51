"""The one notification model every source produces and every renderer consumes; pure values, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from notifbot.scopes import scope_text, star_match


class Kind(StrEnum):
    """Marketo notification types notifbot understands (each described in `notifbot.kinds`); anything else is `other`."""

    CAMPAIGN_FAILURE = "campaign_failure"
    CAMPAIGN_ABORT = "campaign_abort"
    CRM_SYNC = "crm_sync"
    ENGAGEMENT = "engagement"
    FACEBOOK = "facebook"
    TRIGGER_CLEANUP = "trigger_cleanup"
    LINKEDIN = "linkedin"
    WEB_SERVICES = "web_services"
    AUDIT = "audit"
    AB_TEST_RESULT = "ab_test_result"
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

    @property
    def priority(self) -> int:
        """Delivery order within a channel: higher goes first (the outbox's `priority` column)."""
        return _PRIORITY[self]


_PRIORITY = {Severity.CRITICAL: 2, Severity.WARNING: 1, Severity.INFO: 0}


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
    status: str = "firing"  # or "resolved": the problem this notification is about is over

    def values_for(self, key: str) -> list[Any]:
        """Its values for a match key: envelope (kind, severity, instance) first, then fields, then labels."""
        if key == "kind":
            return [self.kind.value, self.kind_label]
        if key == "severity":
            return [self.severity.value]
        if key == "instance":
            return [self.instance] if self.instance is not None else []
        for source in (self.fields, self.labels):
            value = source.get(key) if isinstance(source, Mapping) else None
            if value is not None:
                return [value]
        return []

    @property
    def resolved(self) -> bool:
        """True when this notification says its problem is over."""
        return self.status == "resolved"

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
        if self.resolved:
            out["status"] = "resolved"
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
    matchers: tuple[tuple[str, str], ...] = ()  # key=value scopes; `*` matches any text (case-insensitive)

    def covers(self, n: Notification, now: datetime) -> bool:
        """True when this mute silences `n` at `now`: its kind (`all`: any) and every one of its matchers."""
        if now >= self.until:
            return False
        if self.kind != "all" and not any(
            star_match(self.kind.lower(), str(v).lower()) for v in n.values_for("kind")
        ):
            return False
        return all(
            any(star_match(pattern.lower(), match_text(v).lower()) for v in n.values_for(key))
            for key, pattern in self.matchers
        )

    @property
    def scope(self) -> str:
        """The mute's scope as `mute` and `unmute` take it (`crm_sync`, `kind=crm_sync campaign_name="Q4 *"`)."""
        return scope_text(self.kind, self.matchers)


@dataclass(frozen=True)
class Acked:
    """Who acknowledged a posted alert, and when (shown in place of the Acknowledge button)."""

    user_id: str
    at: datetime


def match_text(value: Any) -> str:
    """A value as match text: booleans as true/false, whole floats without `.0` (as routes compare them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
