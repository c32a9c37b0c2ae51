"""slack_limit_problems finds every kind of Block Kit violation."""

from __future__ import annotations

from typing import Any

import pytest

from notifbot.render.limits import slack_limit_problems

OK_SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}


def msg(*blocks: Any, text: Any = "fallback") -> dict[str, Any]:
    return {"text": text, "blocks": list(blocks)}


def button(**over: Any) -> dict[str, Any]:
    b: dict[str, Any] = {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": "go"}
    b.update(over)
    return b


def test_a_good_message_has_no_problems() -> None:
    good = msg(
        {"type": "header", "text": {"type": "plain_text", "text": "Title", "emoji": True}},
        OK_SECTION,
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "*A*\nb"}]},
        {"type": "divider"},
        {"type": "actions", "elements": [button(url="https://x.example")]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "ctx"}]},
    )
    assert slack_limit_problems(good) == []
    assert slack_limit_problems({"text": "only text"}) == []


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("no text", msg(OK_SECTION, text=None), "text: top-level"),
    ("empty text", msg(OK_SECTION, text="  "), "text: top-level"),
    ("long text", msg(OK_SECTION, text="x" * 40_001), "40001 chars > 40000"),
    ("blocks not list", {"text": "t", "blocks": {}}, "blocks: must be a list"),
    ("51 blocks", msg(*[OK_SECTION] * 51), "51 blocks > 50"),
    ("block not object", msg("x"), "block must be an object"),
    ("unknown type", msg({"type": "banner"}), "unknown block type"),
    ("long block_id", msg({**OK_SECTION, "block_id": "b" * 256}), "block_id: 256 chars > 255"),
    (
        "dup block_id",
        msg({**OK_SECTION, "block_id": "a"}, {**OK_SECTION, "block_id": "a"}),
        "duplicate block_id",
    ),
    (
        "header long",
        msg({"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}),
        "151 chars > 150",
    ),
    ("header mrkdwn", msg({"type": "header", "text": {"type": "mrkdwn", "text": "h"}}), "must be plain_text"),
    ("header empty", msg({"type": "header", "text": {"type": "plain_text", "text": ""}}), "empty text"),
    ("header no text", msg({"type": "header"}), "text object must be an object"),
    (
        "section long",
        msg({"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}),
        "3001 chars > 3000",
    ),
    ("section empty", msg({"type": "section", "text": {"type": "mrkdwn", "text": ""}}), "empty text"),
    ("section bare", msg({"type": "section"}), "needs text or fields"),
    (
        "bad text type",
        msg({"type": "section", "text": {"type": "html", "text": "x"}}),
        "must be mrkdwn or plain_text",
    ),
    ("text not str", msg({"type": "section", "text": {"type": "mrkdwn", "text": 5}}), "must be a string"),
    (
        "emoji on mrkdwn",
        msg({"type": "section", "text": {"type": "mrkdwn", "text": "x", "emoji": True}}),
        "emoji",
    ),
    (
        "11 fields",
        msg({"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}),
        "11 fields > 10",
    ),
    (
        "field long",
        msg({"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}),
        "2001 chars > 2000",
    ),
    ("field empty", msg({"type": "section", "fields": [{"type": "mrkdwn", "text": " "}]}), "empty text"),
    ("fields empty list", msg({"type": "section", "fields": []}), "non-empty list"),
    ("accessory", msg({**OK_SECTION, "accessory": button(url="u" * 3001)}), "url: 3001 chars > 3000"),
    (
        "context 11",
        msg({"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}),
        "11 elements > 10",
    ),
    ("context empty", msg({"type": "context", "elements": []}), "non-empty list"),
    ("context text", msg({"type": "context", "elements": [{"type": "mrkdwn", "text": ""}]}), "empty text"),
    (
        "actions 26",
        msg({"type": "actions", "elements": [button(action_id=f"a{i}") for i in range(26)]}),
        "26 elements",
    ),
    (
        "button text",
        msg({"type": "actions", "elements": [button(text={"type": "plain_text", "text": "b" * 76})]}),
        "76",
    ),
    (
        "button mrkdwn",
        msg({"type": "actions", "elements": [button(text={"type": "mrkdwn", "text": "b"})]}),
        "plain_text",
    ),
    (
        "button value",
        msg({"type": "actions", "elements": [button(value="v" * 2001)]}),
        "value: 2001 chars > 2000",
    ),
    ("button url", msg({"type": "actions", "elements": [button(url="u" * 3001)]}), "url: 3001 chars > 3000"),
    (
        "action_id",
        msg({"type": "actions", "elements": [button(action_id="a" * 256)]}),
        "action_id: 256 chars",
    ),
    ("dup action_id", msg({"type": "actions", "elements": [button(), button()]}), "duplicate action_id"),
    ("button style", msg({"type": "actions", "elements": [button(style="loud")]}), "style"),
    ("element not object", msg({"type": "actions", "elements": [1]}), "element must be an object"),
]


@pytest.mark.parametrize(("case", "message", "expected"), BAD, ids=[c[0] for c in BAD])
def test_each_violation_is_reported(case: str, message: dict[str, Any], expected: str) -> None:
    problems = slack_limit_problems(message)
    assert any(expected in p for p in problems), problems


def test_every_violation_is_listed_not_just_the_first() -> None:
    bad = msg(
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 200}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "s" * 4000}},
        text="",
    )
    assert len(slack_limit_problems(bad)) == 3


def test_not_a_message() -> None:
    assert slack_limit_problems([]) == ["message: must be an object"]  # type: ignore[arg-type]
