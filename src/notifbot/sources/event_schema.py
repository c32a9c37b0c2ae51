"""Pydantic schema of the generic event JSON (CONTRACT §4), with the typed fields of each kind."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from notifbot.model import Kind

Text = Annotated[str, StringConstraints(max_length=10_000)]
ShortText = Annotated[str, StringConstraints(max_length=1_000)]
Count = Annotated[int, Field(ge=0)]
Ident = int | ShortText


class _Open(BaseModel):
    """Known fields are type-checked; unknown ones are kept as they came."""

    model_config = ConfigDict(extra="allow", strict=False, coerce_numbers_to_str=False)


class CampaignFailureFields(_Open):
    campaign_id: Ident | None = None
    campaign_name: ShortText | None = None
    program_name: ShortText | None = None
    error: Text | None = None
    url: ShortText | None = None


class CampaignAbortFields(_Open):
    campaign_id: Ident | None = None
    campaign_name: ShortText | None = None
    user_id: ShortText | None = None
    url: ShortText | None = None


class FailedLead(_Open):
    id: Ident | None = None
    name: ShortText | None = None
    email: ShortText | None = None
    error: Text | None = None


class CrmSyncFields(_Open):
    crm: ShortText | None = None
    problem: ShortText | None = None
    failed_leads: Count | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    errors_url: ShortText | None = None
    leads: list[FailedLead] | None = None
    error: Text | None = None


class EngagementFields(_Open):
    program_name: ShortText | None = None
    stream_name: ShortText | None = None
    exhausted_count: Count | None = None
    url: ShortText | None = None


class FacebookFields(_Open):
    reason: ShortText | None = None
    audience_name: ShortText | None = None


class CleanupCampaign(_Open):
    id: Ident | None = None
    name: ShortText | None = None
    program_name: ShortText | None = None
    url: ShortText | None = None


class TriggerCleanupFields(_Open):
    stage: Literal["at_risk", "scheduled", "deactivated"] | None = None
    deactivate_on: datetime | ShortText | None = None
    campaigns: list[CleanupCampaign] | None = None


class LinkedinFields(_Open):
    operation: ShortText | None = None
    attempts: Count | None = None
    audience_name: ShortText | None = None


class WebServicesFields(_Open):
    used: Count | None = None
    quota: Count | None = None
    percent: Annotated[float, Field(ge=0)] | None = None
    resets_at: datetime | None = None


class AuditFields(_Open):
    user_id: ShortText | None = None
    action: ShortText | None = None
    component_type: ShortText | None = None
    component_id: Ident | None = None
    component_name: ShortText | None = None


FIELD_MODELS: dict[Kind, type[_Open]] = {
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


class EventIn(BaseModel):
    """The envelope of one generic event."""

    model_config = ConfigDict(extra="forbid")

    kind: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    instance: Annotated[str, StringConstraints(max_length=100)] | None = None
    occurred_at: datetime | None = None
    severity: Literal["critical", "warning", "info"] | None = None
    summary: Annotated[str, StringConstraints(max_length=3_000)] | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    labels: dict[str, Annotated[str, StringConstraints(max_length=200)]] = Field(default_factory=dict)
