"""`audit`: a change a user made in Marketo (the User Audit stream): who did what to which asset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import with_config

from notifbot.i18n import EN, Texts
from notifbot.kinds.parts import Parts, add, get
from notifbot.kinds.spec import OPEN, Ident, KindSpec, OpenFields, ShortText
from notifbot.model import Kind, Notification, Severity


@with_config(OPEN)
class AuditFields(OpenFields, total=False):
    user_id: ShortText | None
    action: ShortText | None
    component_type: ShortText | None
    component_id: Ident | None
    component_name: ShortText | None


def describe(n: Notification, fields: Mapping[str, Any], t: Texts = EN) -> Parts:
    """Who did what to which component."""
    user, action = get(fields, "user_id"), get(fields, "action")
    ctype, cname = get(fields, "component_type"), get(fields, "component_name")
    what = " ".join(w for w in (action, ctype, f'"{cname}"' if cname else None) if w)
    words = " — ".join(w for w in (user, what) if w)
    parts = Parts(t._("Audit: {words}").format(words=words) if words else t._("Marketo audit event"))
    add(parts.facts, t.pgettext("fact", "User"), user)
    add(parts.facts, t.pgettext("fact", "Action"), action)
    add(parts.facts, t.pgettext("fact", "Component"), " ".join(w for w in (ctype, cname) if w) or None)
    add(parts.facts, t.pgettext("fact", "Component ID"), get(fields, "component_id"))
    return parts


def advise(fields: Mapping[str, Any], t: Texts = EN) -> str:
    """Review unexpected changes."""
    return t._(
        "No action needed if the change was expected; otherwise review it with the user in Admin → Audit Trail."
    )


AUDIT = KindSpec(
    kind=Kind.AUDIT,
    severity=Severity.INFO,
    schema=AuditFields,
    salient=("user_id", "action", "component_type", "component_id"),
    describe=describe,
    advice=advise,
    samples=("audit",),
)
