"""`ab_test_result`: an email program's A/B test finished (Marketo's "test group" notification) and its winner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import with_config

from notifbot.i18n import EN, Texts
from notifbot.kinds.parts import Parts, add, get
from notifbot.kinds.spec import OPEN, KindSpec, OpenFields, ShortText, Text
from notifbot.model import Kind, Notification, Severity
from notifbot.text import humanize


@with_config(OPEN)
class AbTestResultFields(OpenFields, total=False):
    program_name: ShortText | None
    test_type: ShortText | None
    winner: Text | None
    winning_criteria: ShortText | None
    url: ShortText | None


def _words(value: object) -> str | None:
    text = humanize(value)
    return text[:1].upper() + text[1:] if text else None


def describe(n: Notification, fields: Mapping[str, Any], t: Texts = EN) -> Parts:
    """Which program's test finished, what it tested, and the winner by which criterion."""
    program = get(fields, "program_name")
    title = t._("A/B test result: {program}").format(program=program) if program else t._("A/B test result")
    parts = Parts(title).offer(fields.get("url"))
    add(parts.facts, t.pgettext("fact", "Program"), program)
    add(parts.facts, t.pgettext("fact", "Test"), _words(fields.get("test_type")))
    add(parts.facts, t.pgettext("fact", "Winner"), get(fields, "winner"))
    add(parts.facts, t.pgettext("fact", "Winning criteria"), _words(fields.get("winning_criteria")))
    return parts


def advise(fields: Mapping[str, Any], t: Texts = EN) -> str:
    """Nothing to fix; declare the winner when the program does not send it on its own."""
    return t._(
        "No action needed if the email program sends the winner automatically; otherwise review the test "
        "results on the program's dashboard and declare the winner so the rest of the audience gets it."
    )


AB_TEST_RESULT = KindSpec(
    kind=Kind.AB_TEST_RESULT,
    severity=Severity.INFO,
    schema=AbTestResultFields,
    salient=("program_name", "test_type", "winner"),
    describe=describe,
    advice=advise,
    samples=("ab_test_result",),
)
