"""`campaign_failure` and `campaign_abort`: a smart campaign failed, or a user aborted it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import with_config

from notifbot.i18n import EN, Texts
from notifbot.kinds import mail_rules
from notifbot.kinds.parts import Parts, add, get
from notifbot.kinds.spec import OPEN, Ident, KindSpec, OpenFields, ShortText, Text
from notifbot.model import Kind, Notification, Severity


@with_config(OPEN)
class CampaignFailureFields(OpenFields, total=False):
    campaign_id: Ident | None
    campaign_name: ShortText | None
    program_name: ShortText | None
    error: Text | None
    url: ShortText | None


@with_config(OPEN)
class CampaignAbortFields(OpenFields, total=False):
    campaign_id: Ident | None
    campaign_name: ShortText | None
    user_id: ShortText | None
    url: ShortText | None


def _campaign(fields: Mapping[str, Any], verb: str) -> Parts:
    name = get(fields, "campaign_name")
    parts = Parts(f"Campaign {verb}: {name}" if name else f"Smart campaign {verb}").offer(fields.get("url"))
    add(parts.facts, "Campaign", name)
    add(parts.facts, "Program", get(fields, "program_name"))
    add(parts.facts, "Aborted by", get(fields, "user_id"))
    add(parts.facts, "Campaign ID", get(fields, "campaign_id"))
    if error := get(fields, "error"):
        parts.detail = ("Error", error)
    return parts


def describe_failure(n: Notification, fields: Mapping[str, Any], t: Texts = EN) -> Parts:
    """A failed smart campaign: its name, program, id and the error."""
    return _campaign(fields, "failed")


def describe_abort(n: Notification, fields: Mapping[str, Any], t: Texts = EN) -> Parts:
    """An aborted smart campaign: its name, who aborted it, and its id."""
    return _campaign(fields, "aborted")


def advise_failure(fields: Mapping[str, Any], t: Texts = EN) -> str:
    """Fix the cause and reschedule."""
    return (
        "Open the campaign, fix the cause in the error (e.g. approve the asset or fix the flow step), then "
        "reschedule or reactivate it."
    )


def advise_abort(fields: Mapping[str, Any], t: Texts = EN) -> str:
    """Confirm the abort was intended."""
    return (
        "Confirm with the user who aborted it that this was intended; if not, reschedule the batch or "
        "reactivate the trigger campaign."
    )


CAMPAIGN_FAILURE = KindSpec(
    kind=Kind.CAMPAIGN_FAILURE,
    severity=Severity.WARNING,
    schema=CampaignFailureFields,
    salient=("campaign_id", "campaign_name", "error"),
    describe=describe_failure,
    advice=advise_failure,
    samples=("campaign_failure",),
    email_rules=mail_rules.CAMPAIGN_FAILURE,
)

CAMPAIGN_ABORT = KindSpec(
    kind=Kind.CAMPAIGN_ABORT,
    severity=Severity.INFO,
    schema=CampaignAbortFields,
    salient=("campaign_id", "campaign_name", "user_id"),
    describe=describe_abort,
    advice=advise_abort,
    samples=("campaign_abort",),
)
