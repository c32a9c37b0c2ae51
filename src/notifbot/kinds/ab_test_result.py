"""`ab_test_result`: an email program's A/B test finished (Marketo's "test group" notification) and its winner."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import with_config

from notifbot.i18n import EN, N_, Texts
from notifbot.kinds.parts import Parts, add, code, get
from notifbot.kinds.spec import OPEN, KindSpec, OpenFields, ShortText, Text
from notifbot.model import Kind, Notification, Severity
from notifbot.text import humanize, to_number

# Marketo's A/B test types of an email program, by code ("Subject Line" and "subject_line" alike)
TEST_TYPES: Mapping[str, str] = {
    "subject_line": N_("Subject line"),
    "from_address": N_("From address"),
    "date_time": N_("Date and time"),
    "date/time": N_("Date and time"),
    "whole_email": N_("Whole email"),
    "whole_emails": N_("Whole email"),
}
# what decides the winner, and the measure a `<measure>_<version>` rate field holds
MEASURES: Mapping[str, str] = {
    "open_rate": N_("Open rate"),
    "click_rate": N_("Click rate"),
    "click_to_open_rate": N_("Click-to-open rate"),
    "opens": N_("Opens"),
    "clicks": N_("Clicks"),
    "engagement_score": N_("Engagement score"),
    "custom_conversion": N_("Custom conversion"),
}
# a rate of one version: `open_rate_a` is version A's open rate, a fraction (0.213 = 21.3%)
RATE_FIELD = re.compile(r"([a-z][a-z0-9_]*_rate)_([a-z])")

Rate = float | ShortText


@with_config(OPEN)
class AbTestResultFields(OpenFields, total=False):
    program_name: ShortText | None
    test_type: ShortText | None
    winner: Text | None
    winning_criteria: ShortText | None
    open_rate_a: Rate | None
    open_rate_b: Rate | None
    click_rate_a: Rate | None
    click_rate_b: Rate | None
    click_to_open_rate_a: Rate | None
    click_to_open_rate_b: Rate | None
    url: ShortText | None


def _words(value: object, known: Mapping[str, str], t: Texts) -> str | None:
    """A code in the reader's words: a known one translated, any other as words ("send_hour" → "Send hour")."""
    message = known.get(code(value))
    if message is not None:
        return t._(message)
    text = humanize(value)
    return text[:1].upper() + text[1:] if text else None


def _share(value: object, t: Texts) -> str:
    """A fraction as a percentage (0.213 → "21.3%"); anything else as it came."""
    number = to_number(value)
    return t.percent(number * 100) if number is not None else t.value(value)


def rates(fields: Mapping[str, Any], t: Texts) -> list[tuple[str, str]]:
    """One fact per measure with each version's rate: ("Open rate", "A 21.3% · B 24.7%")."""
    found: dict[str, list[tuple[str, str]]] = {}
    for key, value in fields.items():
        match = RATE_FIELD.fullmatch(key) if isinstance(key, str) else None
        if match is not None and value is not None and value != "":
            found.setdefault(match[1], []).append((match[2].upper(), _share(value, t)))
    order = list(MEASURES)  # the known measures in their order, then any other by name
    measures = sorted(found, key=lambda m: (order.index(m) if m in order else len(order), m))
    return [
        (_words(m, MEASURES, t) or m, " · ".join(f"{v} {rate}" for v, rate in sorted(found[m])))
        for m in measures
    ]


def describe(n: Notification, fields: Mapping[str, Any], t: Texts = EN) -> Parts:
    """Which program's test finished, what it tested, the winner by which criterion, and each version's rates."""
    program = get(fields, "program_name")
    title = t._("A/B test result: {program}").format(program=program) if program else t._("A/B test result")
    parts = Parts(title).offer(fields.get("url"))
    add(parts.facts, t.pgettext("fact", "Program"), program)
    add(parts.facts, t.pgettext("fact", "Test"), _words(fields.get("test_type"), TEST_TYPES, t))
    add(parts.facts, t.pgettext("fact", "Winner"), get(fields, "winner"))
    add(
        parts.facts,
        t.pgettext("fact", "Winning criteria"),
        _words(fields.get("winning_criteria"), MEASURES, t),
    )
    parts.facts.extend(rates(fields, t))
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
