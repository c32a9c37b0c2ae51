"""`campaign_failure` and `campaign_abort`: a smart campaign failed, or a user aborted it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import with_config

from notifbot.i18n import EN, N_, Texts
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


def _campaign(fields: Mapping[str, Any], titled: str, untitled: str, t: Texts) -> Parts:
    """The parts of both campaign kinds: `titled` names the campaign ({name}), `untitled` is for when none is given."""
    name = get(fields, "campaign_name")
    parts = Parts(t._(titled).format(name=name) if name else t._(untitled)).offer(fields.get("url"))
    add(parts.facts, t.pgettext("fact", "Campaign"), name)
    add(parts.facts, t.pgettext("fact", "Program"), get(fields, "program_name"))
    add(parts.facts, t.pgettext("fact", "Aborted by"), get(fields, "user_id"))
    add(parts.facts, t.pgettext("fact", "Campaign ID"), get(fields, "campaign_id"))
    if error := get(fields, "error"):
        parts.detail = (t.pgettext("heading", "Error"), error)
    return parts


def describe_failure(n: Notification, fields: Mapping[str, Any], t: Texts = EN) -> Parts:
    """A failed smart campaign: its name, program, id and the error."""
    return _campaign(fields, N_("Campaign failed: {name}"), N_("Smart campaign failed"), t)


def describe_abort(n: Notification, fields: Mapping[str, Any], t: Texts = EN) -> Parts:
    """An aborted smart campaign: its name, who aborted it, and its id."""
    return _campaign(fields, N_("Campaign aborted: {name}"), N_("Smart campaign aborted"), t)


def advise_failure(fields: Mapping[str, Any], t: Texts = EN) -> str:
    """Fix the cause and reschedule."""
    return t._(
        "Open the campaign, fix the cause in the error (e.g. approve the asset or fix the flow step), then "
        "reschedule or reactivate it."
    )


def advise_abort(fields: Mapping[str, Any], t: Texts = EN) -> str:
    """Confirm the abort was intended."""
    return t._(
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
