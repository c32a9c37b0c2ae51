"""Every sample in Swedish: Slack within Block Kit limits, Teams a valid card under the size limit, our words in sv."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from notifbot.groups import MESSAGE_ITEMS, GroupView, ThreadItems
from notifbot.i18n import EN, texts_for
from notifbot.kinds import load_samples
from notifbot.model import Acked, Notification, Severity
from notifbot.render.card import MAX_CARD_BYTES, card_size
from notifbot.render.limits import CONFIRM_BUTTON, CONFIRM_TEXT, CONFIRM_TITLE, slack_limit_problems
from notifbot.render.slack import render_slack, render_slack_thread
from notifbot.render.slack_reply import render_reply
from notifbot.render.teams import render_teams, render_teams_thread
from notifbot.render.teams_reply import render_teams_reply
from notifbot.replies import Item, Reply, Section
from notifbot.sources.events import parse_event
from tests.unit.render.helpers import all_text, assert_valid, note
from tests.unit.render.teams_helpers import assert_valid_card

T = datetime(2026, 11, 28, 10, tzinfo=UTC)
SV = texts_for("sv", "Europe/Stockholm")
SAMPLES = load_samples()


def sample(name: str) -> Notification:
    return parse_event(SAMPLES[name], now=T)


def group_of(n: Notification, count: int, state: str = "firing", digest: str | None = None) -> GroupView:
    items = tuple(f"Händelse {i} <x>" for i in range(min(count, MESSAGE_ITEMS)))
    return GroupView(
        n, count, T, T + timedelta(minutes=5), items, Severity.CRITICAL, state, "kind=x", digest=digest
    )


def variants(n: Notification) -> list[dict[str, Any]]:
    """single, interactive, acknowledged, resolved, group (firing, resolved), a digest."""
    acked = Acked("U0123ABCD", T + timedelta(minutes=3))
    return [
        render_slack(n, texts=SV),
        render_slack(n, interactive=True, texts=SV),
        render_slack(n, interactive=True, acked=acked, texts=SV),
        render_slack(replace(n, status="resolved"), texts=SV),
        render_slack(n, interactive=True, group=group_of(n, 42), texts=SV),
        render_slack(n, interactive=True, group=group_of(n, 3, "resolved"), texts=SV),
        render_slack(n, group=group_of(n, 300, digest="sammanfattning kind=x · 1 dec. 08:00"), texts=SV),
    ]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_in_swedish_fits_slack(name: str) -> None:
    for message in variants(sample(name)):
        assert_valid(message)
        text = all_text(message)
        assert "Vad du gör nu" in text and "What to do" not in text
        assert "Instance " not in text and "Kind " not in text


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_in_swedish_is_a_valid_teams_card(name: str) -> None:
    n = sample(name)
    acked = Acked("someone@example.com", T)
    for card in (
        render_teams(n, texts=SV),
        render_teams(n, acked=acked, texts=SV),
        render_teams(replace(n, status="resolved"), texts=SV),
        render_teams(n, group=group_of(n, 42), texts=SV),
        render_teams(n, group=group_of(n, 3, "resolved"), texts=SV),
    ):
        assert_valid_card(card)
        assert card_size(card) <= MAX_CARD_BYTES
        assert "Vad du gör nu" in all_text(card)


def test_swedish_buttons_dialog_and_context() -> None:
    message = render_slack(
        note("campaign_failure", {"campaign_name": "X"}, instance="prod"), interactive=True
    )
    sv = render_slack(
        note("campaign_failure", {"campaign_name": "X"}, instance="prod"), interactive=True, texts=SV
    )
    buttons = [e for b in sv["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons][:2] == ["Kvittera", "Tysta den här typen 24 h"]
    confirm = buttons[1]["confirm"]
    assert confirm["title"]["text"] == "Tysta i 24 timmar?"
    assert (confirm["confirm"]["text"], confirm["deny"]["text"]) == ("Tysta 24 h", "Avbryt")
    assert confirm["text"]["text"].startswith("Nya *campaign_failure*-aviseringar sparas")
    context = " ".join(e["text"] for e in sv["blocks"][-1]["elements"])
    assert "Instans prod" in context and "Typ campaign_failure" in context and "Nyckel " in context
    assert "28 nov. 2026 11:00 CET (04:00 CT)" in context  # the zone's time with US Central beside it
    assert "Acknowledge" in all_text(message) and "Kvittera" not in all_text(message)


def test_swedish_confirm_dialogs_stay_within_their_limits_for_a_long_group_key() -> None:
    n = note("campaign_failure", {"campaign_name": "X"})
    group = GroupView(
        n, 2, T, T, ("a", "b"), Severity.CRITICAL, "firing", 'campaign_name="' + "\\u00e5" * 300 + '"'
    )
    for t in (EN, SV):
        message = render_slack(n, interactive=True, group=group, texts=t)
        assert not slack_limit_problems(message)
        actions = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
        button = next(e for e in actions if "confirm" in e)
        confirm = button["confirm"]
        assert len(confirm["title"]["text"]) <= CONFIRM_TITLE and len(confirm["text"]["text"]) <= CONFIRM_TEXT
        assert (
            len(confirm["confirm"]["text"]) <= CONFIRM_BUTTON
            and len(confirm["deny"]["text"]) <= CONFIRM_BUTTON
        )
    assert button["text"]["text"] == "Tysta larmgruppen 24 h"


def test_resolved_groups_and_threads_in_swedish() -> None:
    n = note("campaign_failure", {"campaign_name": "X"})
    resolved = render_slack(n, group=group_of(n, 42, "resolved"), texts=SV)
    assert resolved["blocks"][0]["text"]["text"].startswith(":white_check_mark: Löst: ")
    text = all_text(resolved)
    assert "*42 händelser*" in text and "första 28 nov. 2026 11:00 CET" in text and "senaste " in text
    assert "… och 32 till (listade i tråden)" in text and "*Löst*" in text
    one = all_text(render_slack(n, group=group_of(n, 1), texts=SV))
    assert "*1 händelse*" in one
    thread = render_slack_thread(ThreadItems(("a", "b"), 11, 1_200), texts=SV)
    assert_valid(thread)
    assert "*Händelser 11–12 av 1\u00a0200*" in all_text(thread)
    assert render_slack_thread(ThreadItems((), 3, 3, resolved=True), texts=SV)["text"] == "Löst"
    card = render_teams_thread(ThreadItems(("a",), 1, 2), texts=SV)
    assert_valid_card(card)
    assert "Händelser 1–1 av 2" in all_text(card)
    assert "✅ Löst" in all_text(render_teams_thread(ThreadItems((), 2, 2, resolved=True), texts=SV))


def test_neutral_links_and_untitled_items_in_swedish() -> None:
    reply = Reply(
        "Svar",
        sections=(Section(items=(Item("", url="https://example.com/a"),) * 3, more=5),),
    )
    slack = render_reply(reply, texts=SV)
    assert not slack_limit_problems(slack)
    assert "(utan titel)" in all_text(slack) and "Öppna länk (example.com)" in all_text(slack)
    assert "… och 5 till" in all_text(slack)
    card = render_teams_reply(reply, texts=SV)
    assert_valid_card(card)
    assert "(utan titel)" in all_text(card) and "… och 5 till" in all_text(card)


def test_a_marketo_link_button_is_swedish() -> None:
    n = sample("campaign_failure")
    message = render_slack(n, texts=SV)
    buttons = [e["text"]["text"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons and all(b.startswith("Öppna") for b in buttons)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_english_is_what_it_was_without_texts(name: str) -> None:
    n = sample(name)
    assert render_slack(n, interactive=True, texts=EN) == render_slack(n, interactive=True)
    assert render_teams(n, texts=EN) == render_teams(n)
