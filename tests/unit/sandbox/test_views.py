"""The page's message fragments: buttons as forms that work without JavaScript, confirm dialogs, threads, escaping."""

from __future__ import annotations

from typing import Any

from notifbot.kinds import load_samples
from notifbot.model import Acked
from notifbot.render.slack import ACK_ACTION, MUTE_ACTION, OPEN_ACTION, render_slack
from notifbot.render.teams import render_teams
from notifbot.sandbox.chat import Chat
from notifbot.sandbox.slack_api import VIEWER, YOU
from notifbot.sandbox.views import Views, templates
from notifbot.sources.events import parse_event
from tests.unit.render.helpers import T
from tests.unit.render.html_tree import Node, parse

XSS = '"><script>alert(1)</script>'


def _alert() -> dict[str, Any]:
    return render_slack(parse_event(load_samples()["campaign_failure"], now=T), interactive=True)


def _fields(form: Node) -> dict[str, str]:
    return {i.attr("name") or "": i.attr("value") or "" for i in form.find_all("input")}


def test_each_button_is_a_form_posting_the_click_and_open_stays_a_link() -> None:
    chat, views = Chat(), Views(templates())
    message = chat.post("C1", **_alert())
    root = parse(str(views.message(message)))
    forms = root.find_all("form", "sb-act")
    assert [(f.attr("method"), f.attr("action")) for f in forms] == [("post", "/act")] * 2
    ack, mute = (_fields(f) for f in forms)
    assert ack == {"channel": "C1", "ts": message.ts, "action_id": ACK_ACTION, "value": ack["value"]}
    assert mute["action_id"] == MUTE_ACTION and mute["value"]
    [submit] = forms[0].find_all("button")
    assert (submit.attr("type"), submit.text()) == ("submit", "Acknowledge")
    [link] = [a for a in root.find_all("a") if a.attr("data-action-id") == OPEN_ACTION]
    assert (link.attr("href") or "").startswith("https://") and link.attr("target") == "_blank"


def test_a_confirm_is_a_closed_dialog_whose_confirm_button_submits_confirmed() -> None:
    chat, views = Chat(), Views(templates())
    root = parse(str(views.message(chat.post("C1", **_alert()))))
    mute = root.find_all("form", "sb-act")[1]
    assert ("data-confirm", None) in mute.attrs
    [dialog] = mute.find_all("dialog")
    assert "open" not in dict(dialog.attrs) and "Mute for 24 hours?" in dialog.text()
    assert dialog.attr("aria-labelledby") == dialog.find_all("h4")[0].attr("id")
    deny, yes = dialog.find_all("button")
    assert (deny.attr("type"), deny.attr("data-confirm")) == ("button", "deny")
    assert (yes.attr("type"), yes.attr("name"), yes.attr("value"), yes.text()) == (
        "submit",
        "confirmed",
        "1",
        "Mute 24 h",
    )


def test_values_are_escaped_in_attributes_and_text() -> None:
    chat, views = Chat(), Views(templates())
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": XSS}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": XSS,
                    "value": XSS,
                    "text": {"type": "plain_text", "text": XSS},
                }
            ],
        },
    ]
    message = chat.post(f"C{XSS}", XSS, blocks)
    html = str(views.message(message))
    root = parse(html)
    assert "<script>" not in html and not root.find_all("script")
    form = root.find_all("form", "sb-act")[0]
    assert _fields(form) == {"channel": f"C{XSS}", "ts": message.ts, "action_id": XSS, "value": XSS}
    assert root.find_all("article")[0].attr("data-channel") == f"C{XSS}"


def test_an_actions_block_with_other_elements_is_drawn_as_slack_html_does() -> None:
    chat, views = Chat(), Views(templates())
    select = {"type": "static_select", "action_id": "pick"}
    root = parse(str(views.message(chat.post("C1", "x", [{"type": "actions", "elements": [select]}]))))
    assert not root.find_all("form", "sb-act") and root.find_all(None, "nb-unsupported")


def test_the_sandbox_users_are_mentioned_by_their_names_as_slack_shows_them() -> None:
    chat, views = Chat(), Views(templates())
    n = parse_event(load_samples()["campaign_failure"], now=T)
    acked = chat.post("C1", **render_slack(n, interactive=True, acked=Acked(YOU, T)))
    context = parse(str(views.message(acked))).find_all(None, "nb-context")
    assert any("Acknowledged by @you" in c.text() for c in context)
    assert "U0SANDBOX" not in parse(str(views.message(acked))).text()
    answer = chat.ephemeral("C1", VIEWER, f"<@{VIEWER}>, <@U0ELSE> is an admin")
    assert "@viewer, @U0ELSE is an admin" in parse(str(views.ephemeral(answer))).text()


def test_a_text_only_message_and_an_edit_show_as_slack_does() -> None:
    chat, views = Chat(), Views(templates())
    message = chat.post("C1", "*bold* text")
    assert parse(str(views.message(message))).find_all("b")[0].text() == "bold"
    edited = chat.update("C1", message.ts, "*new* text", None)
    root = parse(str(views.message(edited)))
    assert root.find_all("span", "sb-edited") and root.find_all("b")[0].text() == "new"
    assert views.body(edited) is views.body(edited)  # rendered once per version


def test_thread_replies_sit_under_their_parent_and_a_lone_message_hides_its_thread() -> None:
    chat, views = Chat(), Views(templates())
    parent = chat.post("C1", "parent")
    lone = parse(str(views.message(parent)))
    assert ("hidden", None) in lone.find_all("details", "sb-thread")[0].attrs
    replies = [chat.post("C1", f"reply {i}", thread_ts=parent.ts) for i in range(2)]
    root = parse(str(views.message(parent, replies)))
    [thread] = root.find_all("details", "sb-thread")
    assert "hidden" not in dict(thread.attrs) and "2 replies" in thread.find_all("summary")[0].text()
    assert [a.attr("data-ts") for a in thread.find_all("article")] == [r.ts for r in replies]
    assert not parse(str(views.message(replies[0]))).find_all("details")  # a reply has no thread of its own


def test_a_teams_card_shows_as_the_card_and_an_ephemeral_only_to_its_user() -> None:
    chat, views = Chat(), Views(templates())
    card = render_teams(parse_event(load_samples()["crm_sync"], now=T))
    root = parse(str(views.message(chat.card("C1", card))))
    [article] = root.find_all("article")
    assert article.attr("data-source") == "teams" and root.find_all(None, "nb-card")
    assert not root.find_all("details")  # a workflow cannot reply in a thread
    answer = parse(str(views.ephemeral(chat.ephemeral("C1", "U1", "only _you_"))))
    [article] = answer.find_all("article")
    assert article.attr("data-user") == "U1" and "Only visible to you" in article.text()
    [dismiss] = answer.find_all("form", "sb-dismiss")
    assert dismiss.attr("action") == "/dismiss" and _fields(dismiss)["channel"] == "C1"
