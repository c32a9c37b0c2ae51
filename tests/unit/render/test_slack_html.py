"""Block Kit → HTML: every value escaped once, mrkdwn as Slack shows it, mentions inert, every sample renders."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifbot.groups import GroupView
from notifbot.i18n import EN, Texts, texts_for
from notifbot.kinds import load_samples
from notifbot.model import Acked, Notification
from notifbot.render.slack import render_slack, render_slack_thread
from notifbot.render.slack_html import EMOJI, mrkdwn_html, render_slack_html, with_names
from notifbot.render.slack_reply import render_reply
from notifbot.replies import Fact, Item, Reply, Section
from notifbot.sources.events import parse_event
from tests.unit.render.helpers import T, note
from tests.unit.render.html_tree import Node, assert_inert, parse

SAMPLES = load_samples()
SV = texts_for("sv", "Europe/Stockholm")
CSS = Path(__file__).resolve().parents[3] / "src" / "notifbot" / "render" / "static" / "chat.css"
XSS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "' onmouseover='alert(1)")


def html(message: dict[str, Any]) -> Node:
    root = parse(str(render_slack_html(message)))
    assert_inert(root)
    return root


def md(text: str) -> Node:
    root = parse(str(mrkdwn_html(text)))
    assert_inert(root)
    return root


def section(text: str) -> dict[str, Any]:
    return {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def shown(text: str) -> str:
    """Plain text as the view shows it: the bot's emoji codes as characters."""
    for code, glyph in EMOJI.items():
        text = text.replace(code, glyph)
    return text


@pytest.mark.parametrize("payload", XSS)
def test_payloads_in_every_slot_stay_text(payload: str) -> None:
    plain = {"type": "plain_text", "text": payload}
    message = {
        "blocks": [
            {"type": "header", "text": plain, "block_id": payload},
            {"type": "section", "text": {"type": "mrkdwn", "text": payload}, "fields": [plain]},
            {
                "type": "context",
                "elements": [plain, {"type": "image", "image_url": payload, "alt_text": payload}],
            },
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": plain, "action_id": payload, "value": payload},
                    {
                        "type": "button",
                        "text": plain,
                        "url": payload,
                        "confirm": {"title": plain, "text": plain},
                    },
                ],
            },
            {"type": "image", "image_url": payload, "alt_text": payload, "title": plain},
            {"type": payload},
        ]
    }
    root = html(message)
    assert not root.find_all("img")  # no image URL here is http(s)
    header = root.find_all("h3")[0]
    assert header.text() == payload and not header.find_all()
    assert header.attr("data-block-id") == payload  # attribute values round-trip exactly: escaped once
    button = root.find_all("button")[0]
    assert button.attr("data-action-id") == payload and button.attr("data-value") == payload
    assert button.text() == payload
    assert f"unsupported block: {payload}" in root.text()


def test_raw_angle_brackets_in_mrkdwn_are_control_sequences_never_tags() -> None:
    root = md("<script>alert(1)</script> <img src=x onerror=alert(1)>")
    assert {n.tag for n in root.find_all()} == {"span"}
    assert all("nb-link-refused" in n.classes() for n in root.find_all())


def test_entities_are_shown_as_the_characters_not_markup() -> None:
    root = md("&lt;b&gt;bold?&lt;/b&gt; &amp;lt; &amp; done")
    assert not root.find_all()
    assert root.text() == "<b>bold?</b> &lt; & done"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:x",
        "data:text/html,x",
        "vbscript:x",
        "//evil",
    ],
)
def test_only_http_links_become_anchors(url: str) -> None:
    root = md(f"see <{url}|the label> and <https://example.com/a?b=1&amp;c=2|ok>")
    (anchor,) = root.find_all("a")
    assert anchor.attr("href") == "https://example.com/a?b=1&c=2" and anchor.text() == "ok"
    (refused,) = root.find_all(cls="nb-link-refused")
    assert refused.text() == "the label"


def test_url_buttons_link_only_to_http() -> None:
    buttons = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": "Open"},
            "url": "https://app-ab12.marketo.com/#SC1",
        },
        {"type": "button", "text": {"type": "plain_text", "text": "Bad"}, "url": "javascript:alert(1)"},
    ]
    root = html({"blocks": [{"type": "actions", "elements": buttons}]})
    (anchor,) = root.find_all("a")
    assert anchor.text() == "Open" and "nb-button" in anchor.classes()
    (refused,) = root.find_all("button")
    assert refused.text() == "Bad" and "nb-link-refused" in refused.classes() and refused.attr("href") is None


def test_mentions_are_inert_pills() -> None:
    root = md(
        "hi <@U0BOB> in <#C123|general>, <!here> <!channel> <!subteam^S1|@ops> <!date^1392734382^{date}|Feb 18>"
    )
    assert not root.find_all("a")
    pills = [(n.text(), n.classes()) for n in root.find_all(cls="nb-mention")]
    assert [p[0] for p in pills] == ["@U0BOB", "#general", "@here", "@channel", "@ops"]
    assert "nb-broadcast" in pills[2][1]
    assert root.text().endswith("Feb 18")


def test_users_named_by_the_caller_are_mentioned_by_name_others_as_before() -> None:
    names = {"U0YOU": "you", "U0ODD": "<b>|&"}
    message = {
        "text": "<@U0YOU> and <@U0BOB>",
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "Acknowledged by <@U0YOU>"}]},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "<@U0ODD> <@U0YOU|label>"}]},
            {"type": "actions", "elements": [{"type": "button", "value": "<@U0YOU>", "text": PLAIN}]},
        ],
    }
    root = parse(str(render_slack_html(message, names)))
    assert_inert(root)
    assert [n.text() for n in root.find_all(cls="nb-mention")] == ["@you", "@<b>|&", "@label"]
    assert root.find_all("button")[0].attr("data-value") == "<@U0YOU>"  # a button's value is no text
    assert with_names(message, {}) == message and message["text"] == "<@U0YOU> and <@U0BOB>"  # a copy
    plain = parse(str(render_slack_html({"text": message["text"]}, names)))
    unnamed = parse(str(render_slack_html({"text": message["text"]})))
    assert [n.text() for n in plain.find_all(cls="nb-mention")] == ["@you", "@U0BOB"]
    assert [n.text() for n in unnamed.find_all(cls="nb-mention")] == ["@U0YOU", "@U0BOB"]


PLAIN = {"type": "plain_text", "text": "Go"}


def test_mrkdwn_markers() -> None:
    root = md("*bold _both_* _it_ ~gone~ `co *de*` snake_case_name 2*3*4 :red_circle: :unknown:")
    (b,) = root.find_all("b")
    assert b.text() == "bold both" and b.find_all("i")[0].text() == "both"
    assert [n.text() for n in root.find_all("i")] == ["both", "it"]
    assert root.find_all("s")[0].text() == "gone"
    code = root.find_all("code")[0]
    assert code.text() == "co *de*" and not code.find_all()
    assert "snake_case_name 2*3*4 🔴 :unknown:" in root.text()


def test_pre_quotes_and_line_breaks() -> None:
    root = md("one\ntwo\n> quoted *b*\n> more\nafter\n```x = *1*\n<https://a.example|l>```")
    assert len(root.find_all("br")) == 3  # one|two, inside the quote, after|```; none around the quote
    (quote,) = root.find_all("blockquote")
    assert quote.text() == "quoted bmore" and quote.find_all("b")[0].text() == "b"
    assert [c for c in root.children if isinstance(c, str)][:3] == ["one", "two", "after"]
    (pre,) = root.find_all("pre")
    assert pre.text() == "x = *1*\nl" and not pre.find_all("b")


def test_escaped_quote_marker_is_text() -> None:
    root = md("&gt; not a quote")
    assert not root.find_all("blockquote") and root.text() == "> not a quote"


def test_unknown_blocks_and_elements_are_visible() -> None:
    message = {
        "blocks": [
            {"type": "rich_text", "elements": []},
            {"type": "actions", "elements": [{"type": "static_select"}]},
            {"type": "section", "text": {"type": "mrkdwn", "text": "x"}, "accessory": {"type": "overflow"}},
            {"type": "section"},
            "not a block",
        ]
    }
    boxes = [n.text() for n in html(message).find_all(cls="nb-unsupported")]
    assert boxes == [
        "unsupported block: rich_text",
        "unsupported element: static_select",
        "unsupported element: overflow",
        "unsupported block: str",
    ]


def test_buttons_carry_action_value_style_and_confirm() -> None:
    message = render_slack(note("campaign_failure", {"campaign_name": "C"}), interactive=True)
    root = html(message)
    ack, mute = [b for b in root.find_all("button") if b.attr("data-action-id")]
    assert ack.attr("data-action-id") == "notifbot_ack" and "nb-primary" in ack.classes()
    (actions,) = [b for b in message["blocks"] if b["type"] == "actions"]
    assert ack.attr("data-value") == actions["elements"][0]["value"]
    assert mute.attr("data-value") == actions["elements"][1]["value"] == "campaign_failure"
    assert mute.attr("data-action-id") == "notifbot_mute_24h"
    (wrapper,) = root.find_all(cls="nb-action")
    (dialog,) = wrapper.find_all("dialog")
    assert dialog.find_all("h4")[0].text() == "Mute for 24 hours?"
    choices = {b.attr("data-confirm"): b.text() for b in dialog.find_all("button")}
    assert choices == {"deny": "Cancel", "confirm": "Mute 24 h"}
    assert dialog.find_all("b")  # the question's *kind* in bold


def test_danger_style() -> None:
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": "Delete"},
        "style": "danger",
        "value": "v",
    }
    (b,) = html({"blocks": [{"type": "actions", "elements": [button]}]}).find_all("button")
    assert b.classes() == {"nb-button", "nb-danger"} and b.attr("type") == "button"


def test_a_long_text_cut_by_the_bot_stays_visibly_cut() -> None:
    message = render_slack(note("campaign_failure", {"campaign_name": "C", "error": "word " * 2_000}))
    (cut,) = [b["text"]["text"] for b in message["blocks"] if "Error" in b.get("text", {}).get("text", "")]
    assert cut.endswith("…")
    assert cut.partition("\n")[2][-40:] in html(message).text()
    css = re.sub(r"/\*.*?\*/", "", CSS.read_text(encoding="utf-8"), flags=re.DOTALL)  # rules, not comments
    assert "overflow: hidden" not in css and "text-overflow" not in css and "display: none" not in css


def test_text_only_message_is_mrkdwn() -> None:
    root = html({"text": "*hi* <@U1>"})
    assert root.find_all("b")[0].text() == "hi" and root.find_all(cls="nb-mention")


def test_css_classes_are_prefixed() -> None:
    message = render_slack(parse_event(SAMPLES["campaign_abort"], now=T), interactive=True)
    classes = {c for n in html(message).walk() for c in n.classes()}
    assert classes and all(c.startswith("nb-") for c in classes)
    css = CSS.read_text(encoding="utf-8")
    assert {c for c in classes if f".{c}" not in css} <= {
        "nb-slack",
        "nb-text",
        "nb-field",
        "nb-context-item",
        "nb-confirm-text",
    }


def _group(n: Notification, state: str = "firing") -> GroupView:
    items = tuple(f"Item <{i}> & *x*" for i in range(3))
    return GroupView(
        n, 12, T, T + timedelta(minutes=25), items, n.severity, state, key=f"kind={n.kind_label}"
    )


def _variants(n: Notification, t: Texts) -> dict[str, dict[str, Any]]:
    acked = Acked("U0BOB", T + timedelta(minutes=7))
    return {
        "plain": render_slack(n, texts=t),
        "interactive": render_slack(n, interactive=True, texts=t),
        "acknowledged": render_slack(n, interactive=True, acked=acked, texts=t),
        "group": render_slack(n, interactive=True, group=_group(n), texts=t),
        "resolved": render_slack(replace(n, status="resolved"), texts=t),
        "group_resolved": render_slack(n, interactive=True, group=_group(n, "resolved"), texts=t),
    }


def _labels(message: dict[str, Any]) -> list[str]:
    """Every button's label and every confirm dialog's words."""
    out = []
    for block in message["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            out.append(element["text"]["text"])
            confirm = element.get("confirm", {})
            out += [confirm[k]["text"] for k in ("title", "confirm", "deny") if k in confirm]
    return out


@pytest.mark.parametrize("locale", ["en", "sv"])
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_and_variant_renders(name: str, locale: str) -> None:
    t = EN if locale == "en" else SV
    for variant, message in _variants(parse_event(SAMPLES[name], now=T), t).items():
        root = html(message)
        title = message["blocks"][0]["text"]["text"]
        assert root.find_all("h3")[0].text() == shown(title), variant
        text = root.text()
        assert all(shown(label) in text for label in _labels(message)), variant
        assert not root.find_all(cls="nb-unsupported"), variant
        buttons = root.find_all("button") + root.find_all("a", cls="nb-button")
        assert len([b for b in buttons if b.attr("data-confirm") is None]) == len(
            [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
        )


def test_thread_replies_and_command_replies_render() -> None:
    reply = Reply(
        "Quota <today>",
        (
            Section(title="123-ABC-456", text="line *one*\nline two", facts=(Fact("Used", "1 of 2"),)),
            Section(items=(Item("Campaign <x>", "https://app-ab12.marketo.com/#SC1", "idle"),)),
        ),
        footer="as of now",
    )
    root = html(render_reply(reply))
    assert root.find_all("h3")[0].text() == "Quota ‹today›"
    assert root.find_all("a")[0].attr("href") == "https://app-ab12.marketo.com/#SC1"
    assert "Campaign <x>" in root.text() and "as of now" in root.text()
    from notifbot.groups import ThreadItems

    thread = html(render_slack_thread(ThreadItems(("a <b>", "c"), 1, 2)))
    assert "a <b>" in thread.text()


ALPHABET = "ab *_~`>\n<|@#!^&;:/.lt gphtsjavcrip()[]'\"="


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=80))
def test_any_mrkdwn_gives_well_nested_inert_html(text: str) -> None:
    md(text)  # parse() fails on misnesting, assert_inert on any live link or handler
