"""`engagement`: people became exhausted in an engagement program's stream (no more content to send them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import with_config

from notifbot.i18n import EN, Texts
from notifbot.kinds import mail_rules
from notifbot.kinds.parts import Parts, add, get
from notifbot.kinds.spec import OPEN, Count, KindSpec, OpenFields, ShortText
from notifbot.model import Kind, Notification, Severity


@with_config(OPEN)
class EngagementFields(OpenFields, total=False):
    program_name: ShortText | None
    stream_name: ShortText | None
    exhausted_count: Count | None
    url: ShortText | None


def describe(n: Notification, fields: Mapping[str, Any], t: Texts = EN) -> Parts:
    """Which stream (or program) ran out of content, and for how many people."""
    stream = get(fields, "stream_name")
    program = get(fields, "program_name")
    where = stream or program
    parts = Parts(
        t._("Engagement content exhausted: {where}").format(where=where)
        if where
        else t._("Engagement program content exhausted")
    )
    parts.offer(fields.get("url"))
    add(parts.facts, t.pgettext("fact", "Program"), program)
    add(parts.facts, t.pgettext("fact", "Stream"), stream)
    if fields.get("exhausted_count") is not None:
        add(parts.facts, t.pgettext("fact", "Exhausted people"), t.count(fields.get("exhausted_count")))
    return parts


def advise(fields: Mapping[str, Any], t: Texts = EN) -> str:
    """Give exhausted people something next."""
    return t._(
        "Add new content to the stream, or adjust its cadence or transitions, so exhausted people get "
        "something next."
    )


ENGAGEMENT = KindSpec(
    kind=Kind.ENGAGEMENT,
    severity=Severity.WARNING,
    schema=EngagementFields,
    salient=("program_name", "stream_name", "exhausted_count"),
    describe=describe,
    advice=advise,
    samples=("engagement",),
    email_rules=mail_rules.ENGAGEMENT,
)
