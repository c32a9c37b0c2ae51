"""`trigger_cleanup`: Marketo's quarterly deactivation of trigger campaigns idle for 6 months (at risk, scheduled, done)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import with_config

from notifbot.i18n import EN, N_, Texts
from notifbot.iso_time import parse_time
from notifbot.kinds import mail_rules
from notifbot.kinds.parts import Listing, Parts, add, as_list, code
from notifbot.kinds.spec import OPEN, Ident, KindSpec, OpenFields, ShortText
from notifbot.model import Kind, Notification, Severity
from notifbot.text import humanize

STAGES: Mapping[str, str] = {
    "at_risk": N_("At risk (nearing 6 months idle)"),
    "scheduled": N_("Scheduled for deactivation"),
    "deactivated": N_("Deactivated"),
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


def _title(stage: str, count: int, date: str | None, t: Texts) -> str:
    """The stage's headline, naming how many campaigns (when known) and the date (when scheduled)."""
    if stage == "scheduled":
        if count and date:
            text = t.ngettext(
                "Cleanup scheduled: {n} idle trigger campaign will be deactivated on {date}",
                "Cleanup scheduled: {n} idle trigger campaigns will be deactivated on {date}",
                count,
            )
        elif count:
            text = t.ngettext(
                "Cleanup scheduled: {n} idle trigger campaign will be deactivated",
                "Cleanup scheduled: {n} idle trigger campaigns will be deactivated",
                count,
            )
        elif date:
            text = t._("Cleanup scheduled: Idle trigger campaigns will be deactivated on {date}")
        else:
            text = t._("Cleanup scheduled: Idle trigger campaigns will be deactivated")
    elif stage == "deactivated":
        text = (
            t.ngettext(
                "Cleanup done: {n} idle trigger campaign deactivated",
                "Cleanup done: {n} idle trigger campaigns deactivated",
                count,
            )
            if count
            else t._("Cleanup done: Idle trigger campaigns deactivated")
        )
    else:
        text = (
            t.ngettext(
                "{n} idle trigger campaign at risk of automatic cleanup",
                "{n} idle trigger campaigns at risk of automatic cleanup",
                count,
            )
            if count
            else t._("Idle trigger campaigns at risk of automatic cleanup")
        )
    return text.format(n=count, date=date)


def at_risk_summary(instance: str | None, fields: Mapping[str, Any], t: Texts = EN) -> str | None:
    """The at-risk watch's sentence (sources/marketo/at_risk.py stores only its numbers), or None without them."""
    campaigns = [c for c in as_list(fields.get("campaigns")) if isinstance(c, Mapping)]
    eligible = parse_time(fields.get("eligible_from"))
    idle = [d for c in campaigns if isinstance(d := c.get("idle_days"), int) and not isinstance(d, bool)]
    if not campaigns or eligible is None or len(idle) < len(campaigns):
        return None
    text = t.ngettext(
        "{n} active trigger campaign on {instance} had no one qualify for {days}+ days; Marketo's quarterly "
        "cleanup deactivates trigger campaigns idle for 6 months (the first is eligible from {date} at the "
        "latest).",
        "{n} active trigger campaigns on {instance} had no one qualify for {days}+ days; Marketo's quarterly "
        "cleanup deactivates trigger campaigns idle for 6 months (the first is eligible from {date} at the "
        "latest).",
        len(campaigns),
    ).format(n=len(campaigns), instance=instance, days=min(idle), date=t.date(eligible))
    bounded = [c for c in campaigns if c.get("idle_at_least") and parse_time(c.get("idle_since")) is not None]
    if bounded:
        since = t.date(max(d for c in bounded if (d := parse_time(c.get("idle_since"))) is not None))
        if len(campaigns) == 1:
            more = t._(
                "It had no activity since at least {date} (as far back as notifbot looked): it may have been "
                "idle longer."
            ).format(date=since)
        else:
            more = t._(
                "{n} of them had no activity since at least {date} (as far back as notifbot looked): they may "
                "have been idle longer."
            ).format(n=len(bounded), date=since)
        text = f"{text} {more}"
    return text


def describe(n: Notification, fields: Mapping[str, Any], t: Texts = EN) -> Parts:
    """The stage, the deactivation date and the campaigns concerned (each linked)."""
    stage = code(fields.get("stage"))
    campaigns = as_list(fields.get("campaigns"))
    count = len(campaigns)
    when = fields.get("deactivate_on")
    date = t.date(when) if when else None
    parts = Parts(_title(stage, count, date, t)).offer(fields.get("url"))
    if stage == "at_risk":
        parts.summary = at_risk_summary(n.instance, fields, t)
    if count == 1 and isinstance(campaigns[0], Mapping):  # several campaigns are each linked in the list
        parts.offer(campaigns[0].get("url"))
    known = STAGES.get(stage)
    add(parts.facts, t.pgettext("fact", "Stage"), t._(known) if known else humanize(fields.get("stage")))
    deactivated = stage == "deactivated"
    label = t.pgettext("fact", "Deactivated on") if deactivated else t.pgettext("fact", "Deactivation date")
    add(parts.facts, label, date)
    add(parts.facts, t.pgettext("fact", "Campaigns"), t.count(count) if count else None)
    if campaigns:
        title = (
            t.pgettext("heading", "Deactivated campaigns")
            if deactivated
            else t.pgettext("heading", "Campaigns")
        )
        parts.listing = Listing("campaigns", title, campaigns, count)
    return parts


def advise(fields: Mapping[str, Any], t: Texts = EN) -> str:
    """Reactivate what is still needed, or reset the 6-month clock before the date."""
    if code(fields.get("stage")) == "deactivated":
        return t._("Reactivate the campaigns still needed; the others can stay off or be archived.")
    when = fields.get("deactivate_on")
    if parse_time(when) is not None:
        return t._(
            "To keep a campaign, a person must qualify, or deactivate and reactivate it to reset the 6-month "
            "clock before {date}."
        ).format(date=t.date(when))
    return t._(
        "To keep a campaign, a person must qualify, or deactivate and reactivate it to reset the 6-month "
        "clock before the cleanup date."
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
