"""`linkedin`: Marketo could not create an audience, log in, or send leads to LinkedIn after three tries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import with_config

from notifbot.i18n import EN, N_, Texts
from notifbot.kinds import mail_rules
from notifbot.kinds.parts import Parts, add, code, get
from notifbot.kinds.spec import OPEN, Count, KindSpec, OpenFields, ShortText
from notifbot.model import Kind, Notification, Severity
from notifbot.text import humanize

OPERATIONS: Mapping[str, str] = {
    "create_audience": N_("could not create the audience"),
    "login": N_("could not log in"),
    "send_leads": N_("could not send leads"),
}
_ADVICE: Mapping[str, str] = {
    "create_audience": N_(
        "Marketo could not create the LinkedIn audience after 3 tries: check the ad account connection in "
        "Admin → LaunchPoint, then retry."
    ),
    "login": N_(
        "Marketo could not log in to LinkedIn: re-authorize the LinkedIn service in Admin → LaunchPoint."
    ),
    "send_leads": N_(
        "Leads did not reach LinkedIn after 3 tries: check the LinkedIn service in Admin → LaunchPoint and the "
        "audience, then re-run the step."
    ),
}
_ADVICE_DEFAULT = N_(
    "Check the LinkedIn service in Admin → LaunchPoint (login, ad account, audience), then retry."
)


@with_config(OPEN)
class LinkedinFields(OpenFields, total=False):
    operation: ShortText | None
    attempts: Count | None
    audience_name: ShortText | None


def describe(n: Notification, fields: Mapping[str, Any], t: Texts = EN) -> Parts:
    """What Marketo could not do on LinkedIn, after how many tries, for which audience."""
    known = OPERATIONS.get(code(fields.get("operation")))
    op = t._(known) if known else humanize(fields.get("operation"))
    attempts = get(fields, "attempts")
    if op:
        title = (
            t._("LinkedIn: {operation} after {attempts} tries") if attempts else t._("LinkedIn: {operation}")
        )
    else:
        title = (
            t._("LinkedIn sync problem after {attempts} tries") if attempts else t._("LinkedIn sync problem")
        )
    parts = Parts(title.format(operation=op, attempts=attempts))
    add(parts.facts, t.pgettext("fact", "Operation"), humanize(fields.get("operation")) or None)
    add(parts.facts, t.pgettext("fact", "Attempts"), attempts)
    add(parts.facts, t.pgettext("fact", "Audience"), get(fields, "audience_name"))
    return parts


def advise(fields: Mapping[str, Any], t: Texts = EN) -> str:
    """The fix for this operation."""
    return t._(_ADVICE.get(code(fields.get("operation")), _ADVICE_DEFAULT))


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
