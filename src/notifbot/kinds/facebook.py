"""`facebook`: leads could not be sent to a Facebook custom audience (terms not accepted, app removed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import with_config

from notifbot.i18n import EN, N_, Texts
from notifbot.kinds import mail_rules
from notifbot.kinds.parts import Parts, add, code, get
from notifbot.kinds.spec import OPEN, KindSpec, OpenFields, ShortText
from notifbot.model import Kind, Notification, Severity
from notifbot.text import humanize

REASONS: Mapping[str, str] = {
    "terms_not_accepted": N_("Terms of Service not accepted"),
    "app_removed": N_("Marketo app removed"),
}
_ADVICE: Mapping[str, str] = {
    "terms_not_accepted": N_(
        "Accept Facebook's Custom Audience Terms of Service for the ad account, then resend the leads to the "
        "audience."
    ),
    "app_removed": N_(
        "The Marketo app was removed from Facebook: reconnect it in Admin → LaunchPoint, then resend the leads."
    ),
}
_ADVICE_DEFAULT = N_(
    "Check the Facebook connection in Admin → LaunchPoint and the ad account, then resend the leads."
)


@with_config(OPEN)
class FacebookFields(OpenFields, total=False):
    reason: ShortText | None
    audience_name: ShortText | None


def describe(n: Notification, fields: Mapping[str, Any], t: Texts = EN) -> Parts:
    """Why the audience sync is blocked, and which audience."""
    known = REASONS.get(code(fields.get("reason")))
    reason = t._(known) if known else humanize(fields.get("reason"))
    parts = Parts(
        t._("Facebook audience sync blocked: {reason}").format(reason=reason)
        if reason
        else t._("Facebook audience sync blocked")
    )
    add(parts.facts, t.pgettext("fact", "Reason"), reason)
    add(parts.facts, t.pgettext("fact", "Audience"), get(fields, "audience_name"))
    return parts


def advise(fields: Mapping[str, Any], t: Texts = EN) -> str:
    """The fix for this reason."""
    return t._(_ADVICE.get(code(fields.get("reason")), _ADVICE_DEFAULT))


FACEBOOK = KindSpec(
    kind=Kind.FACEBOOK,
    severity=Severity.WARNING,
    schema=FacebookFields,
    salient=("reason", "audience_name"),
    describe=describe,
    advice=advise,
    samples=("facebook",),
    email_rules=mail_rules.FACEBOOK,
)
