"""`other`: any kind notifbot does not know, shown as its name plus its fields; never dropped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notifbot.i18n import EN, Texts
from notifbot.kinds.parts import Parts
from notifbot.kinds.spec import KindSpec
from notifbot.model import Kind, Notification, Severity
from notifbot.text import as_text, humanize, one_line, truncate


def generic(n: Notification, fields: Mapping[str, Any], t: Texts = EN, *, max_facts: int = 10) -> Parts:
    """Any notification as a title plus its fields as a bounded key/value list."""
    parts = Parts(t._("Marketo notification: {kind}").format(kind=n.kind_label)).offer(fields.get("url"))
    items = [(str(k), v) for k, v in fields.items() if v is not None and v != ""]
    shown = items if len(items) <= max_facts else items[: max_facts - 1]
    for key, value in shown:
        label = humanize(key) or key
        parts.facts.append((label[:1].upper() + label[1:], truncate(one_line(as_text(value)), 1_000)))
    if len(items) > len(shown):
        rest = [k for k, _ in items[len(shown) :]]
        more = t.ngettext("{n} more: {names}", "{n} more: {names}", len(rest))
        names = truncate(", ".join(rest), 500)
        parts.facts.append((t.pgettext("fact", "More fields"), more.format(n=len(rest), names=names)))
    return parts


def advise(fields: Mapping[str, Any], t: Texts = EN) -> str:
    """Look in Marketo, and route the kind."""
    return t._(
        "Open the notification in Marketo (the bell) for details, and route this kind to the right team in "
        "notifbot.yaml."
    )


OTHER = KindSpec(
    kind=Kind.OTHER,
    severity=Severity.INFO,
    schema=None,
    salient=None,
    describe=generic,
    advice=advise,
    samples=("other",),
)
