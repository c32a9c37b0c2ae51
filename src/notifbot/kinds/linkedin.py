"""`linkedin`: Marketo could not create an audience, log in, or send leads to LinkedIn after three tries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import with_config

from notifbot.i18n import EN, Texts
from notifbot.kinds import mail_rules
from notifbot.kinds.parts import Parts, add, code, get
from notifbot.kinds.spec import OPEN, Count, KindSpec, OpenFields, ShortText
from notifbot.model import Kind, Notification, Severity
from notifbot.text import humanize

OPERATIONS: Mapping[str, str] = {
    "create_audience": "could not create the audience",
    "login": "could not log in",
    "send_leads": "could not send leads",
}
_ADVICE: Mapping[str, str] = {
    "create_audience": "Marketo could not create the LinkedIn audience after 3 tries: check the ad account "
    "connection in Admin → LaunchPoint, then retry.",
    "login": "Marketo could not log in to LinkedIn: re-authorize the LinkedIn service in Admin → LaunchPoint.",
    "send_leads": "Leads did not reach LinkedIn after 3 tries: check the LinkedIn service in Admin → LaunchPoint "
    "and the audience, then re-run the step.",
}
_ADVICE_DEFAULT = (
    "Check the LinkedIn service in Admin → LaunchPoint (login, ad account, audience), then retry."
)


@with_config(OPEN)
class LinkedinFields(OpenFields, total=False):
    operation: ShortText | None
    attempts: Count | None
    audience_name: ShortText | None


def describe(n: Notification, fields: Mapping[str, Any], t: Texts = EN) -> Parts:
    """What Marketo could not do on LinkedIn, after how many tries, for which audience."""
    op = OPERATIONS.get(code(fields.get("operation"))) or humanize(fields.get("operation"))
    attempts = get(fields, "attempts")
    title = f"LinkedIn: {op}" if op else "LinkedIn sync problem"
    title += f" after {attempts} tries" if attempts else ""
    parts = Parts(title)
    add(parts.facts, "Operation", humanize(fields.get("operation")) or None)
    add(parts.facts, "Attempts", attempts)
    add(parts.facts, "Audience", get(fields, "audience_name"))
    return parts


def advise(fields: Mapping[str, Any], t: Texts = EN) -> str:
    """The fix for this operation."""
    return _ADVICE.get(code(fields.get("operation")), _ADVICE_DEFAULT)


LINKEDIN = KindSpec(
    kind=Kind.LINKEDIN,
    severity=Severity.WARNING,
    schema=LinkedinFields,
    salient=("operation", "audience_name", "attempts"),
    describe=describe,
    advice=advise,
    samples=("linkedin",),
    email_rules=mail_rules.LINKEDIN,
)
