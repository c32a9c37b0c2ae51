"""Pydantic schema of the generic event JSON (docs/reference.md §Event JSON), with the typed fields of each kind."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, NotRequired, Required

from pydantic import ConfigDict, Field, StringConstraints, TypeAdapter, with_config
from typing_extensions import TypedDict

from notifbot.model import Kind

Text = Annotated[str, StringConstraints(max_length=10_000)]
ShortText = Annotated[str, StringConstraints(max_length=1_000)]
Count = Annotated[int, Field(ge=0)]
Ident = int | ShortText


# TypedDicts validated by TypeAdapter return plain dicts (no model to dump), which keeps ingest fast.
_OPEN = ConfigDict(extra="allow")


@with_config(_OPEN)
class _Open(TypedDict, total=False):
    """Known fields are type-checked; unknown ones are kept as they came."""


@with_config(_OPEN)
class CampaignFailureFields(_Open, total=False):
    campaign_id: Ident | None
    campaign_name: ShortText | None
    program_name: ShortText | None
    error: Text | None
    url: ShortText | None


@with_config(_OPEN)
class CampaignAbortFields(_Open, total=False):
    campaign_id: Ident | None
    campaign_name: ShortText | None
    user_id: ShortText | None
    url: ShortText | None


@with_config(_OPEN)
class FailedLead(_Open, total=False):
    id: Ident | None
    name: ShortText | None
    email: ShortText | None
    error: Text | None


@with_config(_OPEN)
class CrmSyncFields(_Open, total=False):
    crm: ShortText | None
    problem: ShortText | None
    failed_leads: Count | None
    period_start: datetime | None
    period_end: datetime | None
    errors_url: ShortText | None
    leads: list[FailedLead] | None
    error: Text | None


@with_config(_OPEN)
class EngagementFields(_Open, total=False):
    program_name: ShortText | None
    stream_name: ShortText | None
    exhausted_count: Count | None
    url: ShortText | None


@with_config(_OPEN)
class FacebookFields(_Open, total=False):
    reason: ShortText | None
    audience_name: ShortText | None


@with_config(_OPEN)
class CleanupCampaign(_Open, total=False):
    id: Ident | None
    name: ShortText | None
    program_name: ShortText | None
    url: ShortText | None


@with_config(_OPEN)
class TriggerCleanupFields(_Open, total=False):
    stage: Literal["at_risk", "scheduled", "deactivated"] | None
    deactivate_on: datetime | ShortText | None
    campaigns: list[CleanupCampaign] | None


@with_config(_OPEN)
class LinkedinFields(_Open, total=False):
    operation: ShortText | None
    attempts: Count | None
    audience_name: ShortText | None


@with_config(_OPEN)
class WebServicesFields(_Open, total=False):
    used: Count | None
    quota: Count | None
    percent: Annotated[float, Field(ge=0)] | None
    resets_at: datetime | None


@with_config(_OPEN)
class AuditFields(_Open, total=False):
    user_id: ShortText | None
    action: ShortText | None
    component_type: ShortText | None
    component_id: Ident | None
    component_name: ShortText | None


FIELD_MODELS: dict[Kind, Any] = {
    Kind.CAMPAIGN_FAILURE: CampaignFailureFields,
    Kind.CAMPAIGN_ABORT: CampaignAbortFields,
    Kind.CRM_SYNC: CrmSyncFields,
    Kind.ENGAGEMENT: EngagementFields,
    Kind.FACEBOOK: FacebookFields,
    Kind.TRIGGER_CLEANUP: TriggerCleanupFields,
    Kind.LINKEDIN: LinkedinFields,
    Kind.WEB_SERVICES: WebServicesFields,
    Kind.AUDIT: AuditFields,
}


@with_config(ConfigDict(extra="forbid"))
class EventIn(TypedDict):
    """The envelope of one generic event."""

    kind: Required[Annotated[str, StringConstraints(min_length=1, max_length=100)]]
    id: NotRequired[Annotated[str, StringConstraints(min_length=1, max_length=200)] | None]
    instance: NotRequired[Annotated[str, StringConstraints(max_length=100)] | None]
    occurred_at: NotRequired[datetime | None]
    severity: NotRequired[Literal["critical", "warning", "info"] | None]
    summary: NotRequired[Annotated[str, StringConstraints(max_length=3_000)] | None]
    fields: NotRequired[dict[str, Any]]
    labels: NotRequired[dict[str, Annotated[str, StringConstraints(max_length=200)]]]


EVENT = TypeAdapter(EventIn)
FIELD_ADAPTERS: dict[Kind, TypeAdapter[Any]] = {
    kind: TypeAdapter(model) for kind, model in FIELD_MODELS.items()
}
