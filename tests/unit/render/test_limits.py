"""slack_limit_problems finds every kind of Block Kit violation, with the exact path and figures of each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from notifbot.render.limits import slack_limit_problems

OK_SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}
OK_BUTTON = {"type": "button", "text": {"type": "plain_text", "text": "Ok"}, "action_id": "ok"}


def msg(*blocks: Any, text: Any = "fallback") -> dict[str, Any]:
    return {"text": text, "blocks": list(blocks)}


def second(block: Any) -> dict[str, Any]:
    """A message whose block under test is blocks[1], after a good one (paths must name the index)."""
    return msg(OK_SECTION, block)


def button(**over: Any) -> dict[str, Any]:
    b: dict[str, Any] = {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": "go"}
    b.update(over)
    return b


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def actions(*elements: Any, **over: Any) -> dict[str, Any]:
    """An actions block whose element under test is elements[1], after a good button."""
    return {"type": "actions", "elements": [OK_BUTTON, *elements], **over}


def test_a_good_message_has_no_problems() -> None:
    good = msg(
        {"type": "header", "text": {"type": "plain_text", "text": "Title", "emoji": True}},
        OK_SECTION,
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "*A*\nb"}]},
        {"type": "section", "text": plain("with a button"), "accessory": button(style="danger")},
        {"type": "divider"},
        {"type": "image", "image_url": "https://x.example/i.png", "alt_text": "i"},
        {"type": "actions", "elements": [button(url="https://x.example", style="primary")]},
        {"type": "actions", "elements": [{"type": "static_select", "action_id": "pick"}]},
        {
            "type": "context",
            "elements": [
                mrkdwn("ctx"),
                {"type": "image", "image_url": "https://x.example/i", "alt_text": "a"},
            ],
        },
        {"type": "rich_text", "elements": []},
        {"type": "input", "element": {}},
        {"type": "file"},
        {"type": "video"},
    )
    assert slack_limit_problems(good) == []
    assert slack_limit_problems({"text": "only text"}) == []
    assert slack_limit_problems({"text": "t", "blocks": None}) == []
    assert slack_limit_problems(msg()) == []


BAD: list[tuple[str, Any, list[str]]] = [
    ("no text", msg(OK_SECTION, text=None), ["text: top-level fallback text is missing or empty"]),
    ("empty text", msg(OK_SECTION, text="  "), ["text: top-level fallback text is missing or empty"]),
    ("text not str", msg(OK_SECTION, text=5), ["text: top-level fallback text is missing or empty"]),
    ("blocks not list", {"text": "t", "blocks": {}}, ["blocks: must be a list"]),
    (
        "no text and blocks not list",
        {"blocks": "x"},
        ["text: top-level fallback text is missing or empty", "blocks: must be a list"],
    ),
    ("block not object", second("x"), ["blocks[1]: block must be an object"]),
    ("unknown type", second({"type": "banner"}), ["blocks[1].type: unknown block type 'banner'"]),
    ("no type", second({}), ["blocks[1].type: unknown block type None"]),
    ("empty block_id", second({**OK_SECTION, "block_id": ""}), ["blocks[1].block_id: empty"]),
    ("block_id not str", second({**OK_SECTION, "block_id": 7}), ["blocks[1].block_id: must be a string"]),
    (
        "dup block_id",
        msg(
            {**OK_SECTION, "block_id": "a"}, {**OK_SECTION, "block_id": "b"}, {**OK_SECTION, "block_id": "a"}
        ),
        ["blocks: duplicate block_id 'a'"],
    ),
    (
        "header mrkdwn",
        second({"type": "header", "text": mrkdwn("h")}),
        ["blocks[1].text.type: must be plain_text, got 'mrkdwn'"],
    ),
    (
        "header empty",
        second({"type": "header", "text": plain("")}),
        ["blocks[1].text.text: empty text (Slack rejects it)"],
    ),
    ("header no text", second({"type": "header"}), ["blocks[1].text: text object must be an object"]),
    (
        "header and block_id",
        second({"type": "header", "text": plain(""), "block_id": "b" * 256}),
        ["blocks[1].block_id: 256 chars > 255", "blocks[1].text.text: empty text (Slack rejects it)"],
    ),
    (
        "section empty",
        second({"type": "section", "text": mrkdwn("")}),
        ["blocks[1].text.text: empty text (Slack rejects it)"],
    ),
    ("section bare", second({"type": "section"}), ["blocks[1]: section needs text or fields"]),
    (
        "bad text type",
        second({"type": "section", "text": {"type": "html", "text": "x"}}),
        ["blocks[1].text.type: must be mrkdwn or plain_text, got 'html'"],
    ),
    (
        "text not str",
        second({"type": "section", "text": {"type": "mrkdwn", "text": 5}}),
        ["blocks[1].text.text: must be a string"],
    ),
    (
        "emoji on mrkdwn",
        second({"type": "section", "text": {"type": "mrkdwn", "text": "x", "emoji": True}}),
        ["blocks[1].text.emoji: only allowed on plain_text"],
    ),
    (
        "field empty",
        second({"type": "section", "fields": [mrkdwn("a"), mrkdwn(" ")]}),
        ["blocks[1].fields[1].text: empty text (Slack rejects it)"],
    ),
    (
        "fields empty list",
        second({"type": "section", "fields": []}),
        ["blocks[1].fields: must be a non-empty list"],
    ),
    (
        "fields not list",
        second({"type": "section", "fields": "f"}),
        ["blocks[1].fields: must be a non-empty list"],
    ),
    (
        "section text, fields and accessory",
        second({"type": "section", "text": mrkdwn(""), "fields": [mrkdwn("")], "accessory": button(url="")}),
        [
            "blocks[1].text.text: empty text (Slack rejects it)",
            "blocks[1].fields[0].text: empty text (Slack rejects it)",
            "blocks[1].accessory.url: empty",
        ],
    ),
    (
        "accessory text",
        second({**OK_SECTION, "accessory": button(text=plain(""))}),
        ["blocks[1].accessory.text.text: empty text (Slack rejects it)"],
    ),
    (
        "context empty",
        second({"type": "context", "elements": []}),
        ["blocks[1].elements: must be a non-empty list"],
    ),
    (
        "context not list",
        second({"type": "context", "elements": {}}),
        ["blocks[1].elements: must be a non-empty list"],
    ),
    (
        "context text",
        second({"type": "context", "elements": [mrkdwn("c"), mrkdwn("")]}),
        ["blocks[1].elements[1].text: empty text (Slack rejects it)"],
    ),
    (
        "context not a text",
        second({"type": "context", "elements": [mrkdwn("c"), "c"]}),
        ["blocks[1].elements[1]: text object must be an object"],
    ),
    (
        "context image",
        second(
            {"type": "context", "elements": [mrkdwn("c"), {"type": "image", "image_url": "", "alt_text": 1}]}
        ),
        ["blocks[1].elements[1].image_url: empty", "blocks[1].elements[1].alt_text: must be a string"],
    ),
    (
        "button mrkdwn",
        second(actions(button(action_id="b", text=mrkdwn("b")))),
        ["blocks[1].elements[1].text.type: must be plain_text, got 'mrkdwn'"],
    ),
    (
        "button parts",
        second(actions(button(action_id="", value=1, url=""))),
        [
            "blocks[1].elements[1].action_id: empty",
            "blocks[1].elements[1].value: must be a string",
            "blocks[1].elements[1].url: empty",
        ],
    ),
    (
        "dup action_id",
        second(actions(button(action_id="ok"))),
        ["blocks[1].elements: duplicate action_id 'ok'"],
    ),
    (
        "button style",
        second(actions(button(style="loud"))),
        ["blocks[1].elements[1].style: must be primary or danger"],
    ),
    ("element not object", second(actions(1)), ["blocks[1].elements[1]: element must be an object"]),
    ("element without type", second(actions({"action_id": "x"})), ["blocks[1].elements[1].type: missing"]),
    (
        "select action_id",
        second(actions({"type": "static_select", "action_id": ""})),
        ["blocks[1].elements[1].action_id: empty"],
    ),
    (
        "every element and the block",
        second(actions(button(action_id="a", style="x"), button(action_id="b", style="y"), block_id="")),
        [
            "blocks[1].block_id: empty",
            "blocks[1].elements[1].style: must be primary or danger",
            "blocks[1].elements[2].style: must be primary or danger",
        ],
    ),
]


@pytest.mark.parametrize(("case", "message", "expected"), BAD, ids=[c[0] for c in BAD])
def test_each_violation_is_reported_exactly(case: str, message: Any, expected: list[str]) -> None:
    assert slack_limit_problems(message) == expected


def _text(n: int) -> str:
    return "x" * n


# (name, a message with one quantity at n, limit, the problem at limit + 1)
BOUNDARIES: list[tuple[str, Callable[[int], Any], int, str]] = [
    ("fallback text", lambda n: msg(OK_SECTION, text=_text(n)), 40_000, "text: 40001 chars > 40000"),
    ("blocks", lambda n: msg(*[OK_SECTION] * n), 50, "blocks: 51 blocks > 50"),
    (
        "block_id",
        lambda n: second({**OK_SECTION, "block_id": _text(n)}),
        255,
        "blocks[1].block_id: 256 chars > 255",
    ),
    (
        "header",
        lambda n: second({"type": "header", "text": plain(_text(n))}),
        150,
        "blocks[1].text.text: 151 chars > 150",
    ),
    (
        "section text",
        lambda n: second({"type": "section", "text": mrkdwn(_text(n))}),
        3_000,
        "blocks[1].text.text: 3001 chars > 3000",
    ),
    (
        "fields",
        lambda n: second({"type": "section", "fields": [mrkdwn("f")] * n}),
        10,
        "blocks[1].fields: 11 fields > 10",
    ),
    (
        "field text",
        lambda n: second({"type": "section", "fields": [mrkdwn("f"), mrkdwn(_text(n))]}),
        2_000,
        "blocks[1].fields[1].text: 2001 chars > 2000",
    ),
    (
        "context elements",
        lambda n: second({"type": "context", "elements": [mrkdwn("c")] * n}),
        10,
        "blocks[1].elements: 11 elements > 10",
    ),
    (
        "context text",
        lambda n: second({"type": "context", "elements": [mrkdwn("c"), plain(_text(n))]}),
        3_000,
        "blocks[1].elements[1].text: 3001 chars > 3000",
    ),
    (
        "context image_url",
        lambda n: second(
            {"type": "context", "elements": [mrkdwn("c"), {"type": "image", "image_url": _text(n)}]}
        ),
        3_000,
        "blocks[1].elements[1].image_url: 3001 chars > 3000",
    ),
    (
        "context alt_text",
        lambda n: second(
            {"type": "context", "elements": [mrkdwn("c"), {"type": "image", "alt_text": _text(n)}]}
        ),
        2_000,
        "blocks[1].elements[1].alt_text: 2001 chars > 2000",
    ),
    (
        "actions elements",
        lambda n: second({"type": "actions", "elements": [button(action_id=f"a{i}") for i in range(n)]}),
        25,
        "blocks[1].elements: 26 elements > 25",
    ),
    (
        "button text",
        lambda n: second(actions(button(text=plain(_text(n))))),
        75,
        "blocks[1].elements[1].text.text: 76 chars > 75",
    ),
    (
        "button action_id",
        lambda n: second(actions(button(action_id=_text(n)))),
        255,
        "blocks[1].elements[1].action_id: 256 chars > 255",
    ),
    (
        "button value",
        lambda n: second(actions(button(value=_text(n)))),
        2_000,
        "blocks[1].elements[1].value: 2001 chars > 2000",
    ),
    (
        "button url",
        lambda n: second(actions(button(url=_text(n)))),
        3_000,
        "blocks[1].elements[1].url: 3001 chars > 3000",
    ),
    (
        "accessory url",
        lambda n: second({**OK_SECTION, "accessory": button(url=_text(n))}),
        3_000,
        "blocks[1].accessory.url: 3001 chars > 3000",
    ),
    (
        "select action_id",
        lambda n: second(actions({"type": "static_select", "action_id": _text(n)})),
        255,
        "blocks[1].elements[1].action_id: 256 chars > 255",
    ),
]


@pytest.mark.parametrize(("case", "build", "limit", "problem"), BOUNDARIES, ids=[b[0] for b in BOUNDARIES])
def test_each_limit_holds_exactly_at_its_value(
    case: str, build: Callable[[int], Any], limit: int, problem: str
) -> None:
    assert slack_limit_problems(build(limit - 1)) == []
    assert slack_limit_problems(build(limit)) == []
    assert slack_limit_problems(build(limit + 1)) == [problem]


def test_every_violation_is_listed_not_just_the_first() -> None:
    bad = msg(
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 200}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "s" * 4000}},
        text="",
    )
    assert slack_limit_problems(bad) == [
        "text: top-level fallback text is missing or empty",
        "blocks[0].text.text: 200 chars > 150",
        "blocks[1].text.text: 4000 chars > 3000",
    ]


def test_not_a_message() -> None:
    assert slack_limit_problems([]) == ["message: must be an object"]  # type: ignore[arg-type]


def _confirm_button(**confirm: Any) -> dict[str, Any]:
    dialog = {
        "title": {"type": "plain_text", "text": "Mute for 24 hours?"},
        "text": {"type": "mrkdwn", "text": "New notifications will be stored."},
        "confirm": {"type": "plain_text", "text": "Mute 24 h"},
        "deny": {"type": "plain_text", "text": "Cancel"},
        **confirm,
    }
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": "Mute"},
        "action_id": "m",
        "confirm": dialog,
    }
    return {"text": "x", "blocks": [{"type": "actions", "elements": [button]}]}


def test_a_buttons_confirm_dialog_is_checked() -> None:
    assert slack_limit_problems(_confirm_button()) == []
    at = "blocks[0].elements[0].confirm"
    assert slack_limit_problems(
        _confirm_button(
            title={"type": "plain_text", "text": "t" * 101},
            text={"type": "mrkdwn", "text": "x" * 301},
            confirm={"type": "plain_text", "text": "c" * 31},
            deny={"type": "mrkdwn", "text": "d"},
        )
    ) == [
        f"{at}.title.text: 101 chars > 100",
        f"{at}.text.text: 301 chars > 300",
        f"{at}.confirm.text: 31 chars > 30",
        f"{at}.deny.type: must be plain_text, got 'mrkdwn'",
    ]
    at_limit = _confirm_button(
        title={"type": "plain_text", "text": "t" * 100},
        text={"type": "plain_text", "text": "x" * 300},
        confirm={"type": "plain_text", "text": "c" * 30},
        deny={"type": "plain_text", "text": "d" * 30},
    )
    assert slack_limit_problems(at_limit) == []
    missing = _confirm_button()
    del missing["blocks"][0]["elements"][0]["confirm"]["deny"]
    assert slack_limit_problems(missing) == [f"{at}.deny: text object must be an object"]
    bad = _confirm_button()
    bad["blocks"][0]["elements"][0]["confirm"] = "yes"
    assert slack_limit_problems(bad) == [f"{at}: confirm must be an object"]
