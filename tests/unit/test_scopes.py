"""Mute scopes as text: the shlex-like words, quoting that reads back, group keys read back, the short label."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifbot.routing import PROBLEM, group_key, group_values
from notifbot.scopes import quote_value, read_group_key, scope_label, scope_text, star_match, words
from notifbot.sources.events import parse_event

NOW = datetime(2026, 12, 1, tzinfo=UTC)
SAMPLE_KEY = (
    'kind=campaign_failure instance=123-ABC-456 campaign_id=4821 campaign_name="Q4 Webinar Invites" '
    'error="Send Email: email asset \\"Webinar Invite 1\\" is not approved"'
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('error="a \\"b\\" c"', ['error=a "b" c']),  # a quote inside double quotes
        ('x="a  b" y', ["x=a  b", "y"]),  # spaces inside quotes kept as typed
        ('x="C:\\temp\\\\"', ["x=C:\\temp\\"]),  # a backslash escapes only \ and quotes
        ("x='a \"b\" \\c'", ['x=a "b" \\c']),  # single quotes: every character as is
        ("x=a\\ b", ["x=a b"]),  # outside quotes a backslash escapes a space
        ('x="" y=', ["x=", "y="]),
        ("--reason we don't know, it’s odd", ["--reason", "we", "don't", "know,", "it’s", "odd"]),
        ("name=“Q4 invites” 1h", ["name=Q4 invites", "1h"]),  # curly quotes, as Slack may send them
        ("  a\n\tb  ", ["a", "b"]),
    ],
)
def test_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_an_open_quote_is_not_words() -> None:
    assert words('x="open') is None and words("x='a") is None and words('x="a\\"') is None


@given(st.text())
def test_a_quoted_value_reads_back_as_itself(value: str) -> None:
    assert words(f"k={quote_value(value)} next") == [f"k={value}", "next"]


def test_quoting_only_what_needs_it() -> None:
    assert quote_value("123-ABC-456") == "123-ABC-456"
    assert quote_value("Q4*") == "Q4*"
    assert quote_value("Q4 Webinar") == '"Q4 Webinar"'
    assert quote_value('say "hi"') == '"say \\"hi\\""'
    assert quote_value("a\\b") == '"a\\\\b"'
    assert quote_value("") == '""'


def test_scope_text_is_what_unmute_takes() -> None:
    assert scope_text("crm_sync") == "crm_sync"
    assert scope_text("all") == "all"
    assert scope_text("some kind") == 'kind="some kind"'  # not one word: said as kind=
    assert scope_text("crm*") == "kind=crm*"
    assert scope_text("all", (("instance", "123"),)) == "instance=123"
    assert (
        scope_text("campaign_failure", (("campaign_name", "Q4 Webinar"), ("error", 'a "b"')))
        == 'kind=campaign_failure campaign_name="Q4 Webinar" error="a \\"b\\""'
    )


def test_a_group_key_reads_back_into_its_values() -> None:
    assert read_group_key(SAMPLE_KEY) == [
        ("kind", "campaign_failure"),
        ("instance", "123-ABC-456"),
        ("campaign_id", "4821"),
        ("campaign_name", "Q4 Webinar Invites"),
        ("error", 'Send Email: email asset "Webinar Invite 1" is not approved'),
    ]
    # `-` is "no value"; the text "-" is quoted; non-ASCII comes \u-escaped
    assert read_group_key('kind=audit instance=- x="-" y="\\u00e9t\\u00e9"') == [
        ("kind", "audit"),
        ("instance", None),
        ("x", "-"),
        ("y", "été"),
    ]
    for bad in ("", "crm_sync", "kind=", "kind=a  b=c", 'x="open', "x=1 y", 'x="a"b', "two words=1", "x=[1]"):
        assert read_group_key(bad) is None, bad


_FIELD_VALUES = st.one_of(
    st.text(max_size=30),
    st.integers(-(2**53), 2**53),
    st.booleans(),
    st.lists(st.integers(-999, 999), max_size=3),
    st.none(),
)


@given(
    st.dictionaries(
        st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True).filter(
            lambda k: k not in ("kind", "instance")
        ),
        _FIELD_VALUES,
        max_size=4,
    ),
    st.one_of(st.none(), st.text(min_size=1, max_size=20)),
)
def test_every_group_key_reads_back_into_group_values(fields: dict[str, Any], instance: str | None) -> None:
    event: dict[str, Any] = {"kind": "other", "id": "k", "fields": fields}
    if instance is not None:
        event["instance"] = instance
    n = parse_event(event, now=NOW)
    by = ("kind", "instance", *fields)
    assert read_group_key(group_key(n, by)) == list(group_values(n, by).items())
    assert read_group_key(group_key(n, (PROBLEM,))) is not None


def test_the_label_is_short_and_human() -> None:
    pairs = read_group_key(SAMPLE_KEY)
    assert pairs is not None
    assert scope_label(pairs) == "campaign failure · Q4 Webinar Invites"
    assert scope_label([("kind", "crm_sync"), ("instance", "1"), ("problem", "x" * 60)]) == (
        "crm sync · " + "x" * 39 + "…"
    )
    assert scope_label([("instance", "123-ABC-456")]) == "123-ABC-456"
    assert scope_label([("kind", "audit"), ("instance", None)]) == "audit"


def test_star_is_the_only_wildcard() -> None:
    assert star_match("q4*", "q4 webinar") and star_match("*", "") and star_match("a*c", "a\nb\nc")
    assert star_match("bad token [abc]", "bad token [abc]") and not star_match(
        "bad token [abc]", "bad token a"
    )
    assert star_match("what?", "what?") and not star_match("what?", "whatx")
