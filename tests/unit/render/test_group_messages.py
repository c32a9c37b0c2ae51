"""An alert group's message and thread replies, in Slack and Teams: count, span, items, state, within limits."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from notifbot.commands.args import scope_of
from notifbot.groups import MESSAGE_ITEMS, THREAD_ITEMS, GroupView, ThreadItems
from notifbot.model import Severity
from notifbot.render.limits import slack_limit_problems
from notifbot.render.slack import render_slack, render_slack_thread
from notifbot.render.teams import render_teams, render_teams_thread
from tests.unit.render.helpers import all_text, note
from tests.unit.render.teams_helpers import assert_valid_card

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def view(count: int, *, state: str = "firing", item: str = "Campaign <{i}> *bold*") -> GroupView:
    n = note("campaign_failure", {"campaign_name": "First <one>"})
    items = tuple(item.format(i=i) for i in range(min(count, MESSAGE_ITEMS)))
    return GroupView(n, count, T0, T0 + timedelta(seconds=90), items, Severity.CRITICAL, state, "kind=x")


def test_slack_group_message_counts_lists_and_escapes() -> None:
    message = render_slack(view(200).first, group=view(200))
    text = all_text(message)
    assert not slack_limit_problems(message)
    assert message["text"].startswith("200× ") and "×200" in message["blocks"][0]["text"]["text"]
    assert "*200 events*" in text and "… and 190 more (listed in the thread)" in text
    assert "&lt;0&gt;" in text and "<0>" not in text


def test_a_single_event_group_reads_like_a_plain_alert_and_resolved_says_so() -> None:
    one = render_slack(view(1).first, group=view(1))
    assert "×" not in one["blocks"][0]["text"]["text"] and "*1 event*" in all_text(one)
    resolved = render_slack(view(5).first, group=view(5, state="resolved"))
    assert resolved["blocks"][0]["text"]["text"].startswith(":white_check_mark: Resolved: ")
    assert "*Resolved*" in all_text(resolved)


def test_a_full_thread_reply_fits_slack_and_teams_whatever_the_items() -> None:
    items = tuple("x" * 400 + f" <{i}>" for i in range(THREAD_ITEMS))
    message = render_slack_thread(ThreadItems(items, 1, 5_000))
    assert not slack_limit_problems(message) and len(message["blocks"]) <= 50
    assert "Events 1–250 of 5,000" in all_text(message) and all_text(message).count("• ") == THREAD_ITEMS
    card = render_teams_thread(ThreadItems(items, 1, 5_000))
    assert_valid_card(card)
    assert len(json.dumps(card).encode()) < 28_000


def test_teams_group_card_counts_and_keeps_event_text_out_of_markdown() -> None:
    card = render_teams(view(50).first, group=view(50))
    assert_valid_card(card)
    text = json.dumps(card, ensure_ascii=False)
    assert "×50" in text and "50 events" in text and "… and 40 more (listed in the thread)" in text
    resolved = render_teams(view(3).first, group=view(3, state="resolved"))
    assert "✅ Resolved: " in json.dumps(resolved, ensure_ascii=False)


def test_a_group_s_mute_button_mutes_the_group_by_its_key() -> None:
    group = view(20)
    message = render_slack(group.first, interactive=True, group=group)
    buttons = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    mute = next(b for b in buttons if b["action_id"] == "notifbot_mute_24h")
    assert mute["value"] == "kind=x" and mute["text"]["text"] == "Mute this group 24 h"
    single = render_slack(group.first, interactive=True)
    buttons = [e for b in single["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert next(b for b in buttons if b["action_id"] == "notifbot_mute_24h")["value"] == "campaign_failure"


def test_the_mute_dialog_names_the_group_in_a_short_label_escaped() -> None:
    key = (
        'kind=campaign_failure instance=123-ABC-456 campaign_id=4821 campaign_name="<!channel> Q4 & '
        + "x" * 80
        + '" error="Send Email: email asset \\"Webinar Invite 1\\" is not approved"'
    )
    group = GroupView(view(2).first, 2, T0, T0, ("a", "b"), Severity.WARNING, "firing", key)
    message = render_slack(group.first, interactive=True, group=group)
    mute = next(
        e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"] if "confirm" in e
    )
    assert mute["value"] == key and mute["text"]["text"] == "Mute this group 24 h"
    assert mute["confirm"]["text"]["text"] == (
        "New notifications in this group (campaign failure · &lt;!channel&gt; Q4 &amp; "
        + "x" * 23
        + "…) will be stored but not posted for 24 hours."
    )
    # a key the Mute button could not read back is offered as the kind's mute, never as a broken group
    odd = GroupView(group.first, 2, T0, T0, ("a", "b"), Severity.WARNING, "firing", "two words=1")
    message = render_slack(odd.first, interactive=True, group=odd)
    mute = next(
        e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"] if "confirm" in e
    )
    assert (mute["value"], mute["text"]["text"]) == ("campaign_failure", "Mute this kind 24 h")


def test_a_single_alert_s_mute_value_reads_back_as_its_kind_even_with_an_equals_sign() -> None:
    n = replace(note("other", {}), original_kind="Deploy=Prod ✓")
    message = render_slack(n, interactive=True)
    mute = next(
        e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"] if "confirm" in e
    )
    assert scope_of(mute["value"]) == ("deploy=prod ✓", ())
    assert scope_of("campaign_failure") == ("campaign_failure", ())
