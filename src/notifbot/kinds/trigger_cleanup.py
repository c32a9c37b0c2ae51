"""`trigger_cleanup`: Marketo's quarterly deactivation of trigger campaigns idle for 6 months (at risk, scheduled, done)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import with_config

from notifbot.i18n import EN, Texts
from notifbot.iso_time import parse_time
from notifbot.kinds import mail_rules
from notifbot.kinds.parts import Listing, Parts, add, as_list, code
from notifbot.kinds.spec import OPEN, Ident, KindSpec, OpenFields, ShortText
from notifbot.model import Kind, Notification, Severity
from notifbot.text import format_count, format_date, humanize

STAGES: Mapping[str, str] = {
    "at_risk": "At risk (nearing 6 months idle)",
    "scheduled": "Scheduled for deactivation",
    "deactivated": "Deactivated",
}


@with_config(OPEN)
class CleanupCampaign(OpenFields, total=False):
    id: Ident | None
    name: ShortText | None
    program_name: ShortText | None
    url: ShortText | None


@with_config(OPEN)
class TriggerCleanupFields(OpenFields, total=False):
    stage: Literal["at_risk", "scheduled", "deactivated"] | None
    deactivate_on: datetime | ShortText | None
    campaigns: list[CleanupCampaign] | None


def describe(n: Notification, fields: Mapping[str, Any], t: Texts = EN) -> Parts:
    """The stage, the deactivation date and the campaigns concerned (each linked)."""
    stage = code(fields.get("stage"))
    campaigns = as_list(fields.get("campaigns"))
    count = len(campaigns)
    when = fields.get("deactivate_on")
    date = format_date(when) if when else None
    noun = f"{count} idle trigger campaign{'' if count == 1 else 's'}" if count else "Idle trigger campaigns"
    if stage == "scheduled":
        title = f"Cleanup scheduled: {noun} will be deactivated" + (f" on {date}" if date else "")
    elif stage == "deactivated":
        title = f"Cleanup done: {noun} deactivated"
    else:
        title = f"{noun} at risk of automatic cleanup"
    parts = Parts(title).offer(fields.get("url"))
    if count == 1 and isinstance(campaigns[0], Mapping):  # several campaigns are each linked in the list
        parts.offer(campaigns[0].get("url"))
    add(parts.facts, "Stage", STAGES.get(stage) or humanize(fields.get("stage")))
    add(parts.facts, "Deactivated on" if stage == "deactivated" else "Deactivation date", date)
    add(parts.facts, "Campaigns", format_count(count) if count else None)
    if campaigns:
        label = "Deactivated campaigns" if stage == "deactivated" else "Campaigns"
        parts.listing = Listing("campaigns", label, campaigns, count)
    return parts


def advise(fields: Mapping[str, Any], t: Texts = EN) -> str:
    """Reactivate what is still needed, or reset the 6-month clock before the date."""
    if code(fields.get("stage")) == "deactivated":
        return "Reactivate the campaigns still needed; the others can stay off or be archived."
    when = fields.get("deactivate_on")
    by = f" before {format_date(when)}" if parse_time(when) is not None else " before the cleanup date"
    return (
        "To keep a campaign, a person must qualify, or deactivate and reactivate it to reset the 6-month "
        f"clock{by}."
    )


def refine_severity(fields: Mapping[str, Any]) -> Severity | None:
    """A warning of the cleanup to come (`at_risk`) is only `info`."""
    return Severity.INFO if fields.get("stage") == "at_risk" else None


TRIGGER_CLEANUP = KindSpec(
    kind=Kind.TRIGGER_CLEANUP,
    severity=Severity.WARNING,
    schema=TriggerCleanupFields,
    salient=("stage", "deactivate_on", "campaigns"),
    describe=describe,
    advice=advise,
    samples=("trigger_cleanup",),
    refine_severity=refine_severity,
    email_rules=mail_rules.TRIGGER_CLEANUP,
)
