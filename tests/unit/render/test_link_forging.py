"""Item 3 (issue #10): only Marketo's own hosts get a Marketo label; userinfo and look-alike tricks never do."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifbot.cli import main
from notifbot.links import LinkPolicy
from notifbot.render.console import render_console
from notifbot.render.slack import render_slack
from notifbot.render.slack_reply import render_reply
from notifbot.render.teams import render_teams
from notifbot.render.teams_reply import render_teams_reply
from notifbot.replies import Item, Reply, Section
from tests.unit.render.helpers import all_text, assert_valid, note, slack_links, teams_links
from tests.unit.render.teams_helpers import assert_valid_card
from tests.unit.test_links import ALLOWED, URLS, allowed, browser_authority

FORGED = "https://app.marketo.com@evil.example/login"
MARKETO = "https://app-ab12.marketo.com/#SC1042A1"
ELSEWHERE = "https://evil.example/login"
# (kind, field) pairs whose URL becomes the message's button / Action.OpenUrl
LINK_FIELDS = [
    ("campaign_failure", "url"),
    ("campaign_abort", "url"),
    ("engagement", "url"),
    ("mystery", "url"),
]


@pytest.mark.parametrize(("kind", "key"), LINK_FIELDS)
def test_userinfo_url_never_becomes_a_button(kind: str, key: str) -> None:
    n = note(kind, {key: FORGED})
    assert slack_links(render_slack(n)) == []
    assert teams_links(render_teams(n)) == []


@pytest.mark.parametrize(("kind", "key"), LINK_FIELDS)
def test_other_hosts_get_a_neutral_button_showing_the_host(kind: str, key: str) -> None:
    n = note(kind, {key: ELSEWHERE})
    assert slack_links(render_slack(n)) == [("Open link (evil.example)", ELSEWHERE)]
    assert teams_links(render_teams(n)) == [("Open link (evil.example)", ELSEWHERE)]
    assert "→ Open link (evil.example): https://evil.example/login" in render_console(render_slack(n))


@pytest.mark.parametrize(("kind", "key"), LINK_FIELDS)
def test_marketo_hosts_keep_the_marketo_button(kind: str, key: str) -> None:
    n = note(kind, {key: MARKETO})
    assert slack_links(render_slack(n)) == [("Open in Marketo", MARKETO)]
    assert teams_links(render_teams(n)) == [("Open in Marketo", MARKETO)]


def test_configured_hosts_reach_the_renderers_as_a_value() -> None:
    n = note("campaign_failure", {"url": "https://go.acme.example/lp/1"})
    policy = LinkPolicy.build(marketo_hosts=["go.acme.example"])
    assert slack_links(render_slack(n, links=policy)) == [("Open in Marketo", "https://go.acme.example/lp/1")]
    assert teams_links(render_teams(n, links=policy))[0][0] == "Open in Marketo"
    assert slack_links(render_slack(n))[0][0] == "Open link (go.acme.example)"  # the built-in set alone


def test_campaign_list_names_link_only_to_marketo_hosts() -> None:
    campaigns = [
        {"name": "Good", "url": MARKETO},
        {"name": "Forged", "url": FORGED},
        {"name": "Elsewhere", "url": ELSEWHERE},
    ]
    n = note("trigger_cleanup", {"stage": "scheduled", "campaigns": campaigns})
    message = render_slack(n)
    assert_valid(message)
    text = all_text(message)
    assert f"<{MARKETO}|Good>" in text
    assert "evil.example/login|Forged" not in text and "evil.example" not in text.split("Forged")[1][:5]
    assert f"• Elsewhere · <{ELSEWHERE}|Open link (evil.example)>" in text
    assert "<https://app.marketo.com@" not in text
    card = render_teams(n)
    assert_valid_card(card)
    links = teams_links(card)
    assert ("• Good", MARKETO) in links and ("Open link (evil.example)", ELSEWHERE) in links
    assert all(url != FORGED for _, url in links) and all("Elsewhere" not in label for label, _ in links)


def test_command_reply_items_follow_the_same_rule() -> None:
    items = (Item("Good", url=MARKETO), Item("Forged", url=FORGED), Item("Elsewhere", url=ELSEWHERE))
    reply = Reply("t", (Section(items=items),))
    text = all_text(render_reply(reply))
    assert f"• <{MARKETO}|Good>" in text
    assert "• Forged" in text and "app.marketo.com@" not in text
    assert f"• Elsewhere · <{ELSEWHERE}|Open link (evil.example)>" in text
    links = teams_links(render_teams_reply(reply))
    assert ("• Good", MARKETO) in links and ("Open link (evil.example)", ELSEWHERE) in links
    assert len(links) == 2


def _marketo_labelled(n_message: dict[str, Any], card: dict[str, Any]) -> list[str]:
    """URLs the messages present as Marketo's: the Marketo button/action and campaign names linked directly."""
    urls = [url for label, url in slack_links(n_message) if not label.startswith("Open link (")]
    text = all_text(n_message)
    urls += [
        m.group(1) for m in re.finditer(r"• <([^|>]+)\|", text)
    ]  # a campaign name that is itself the link
    urls += [url for label, url in teams_links(card) if not label.startswith("Open link (")]
    return [url.replace("&amp;", "&") for url in urls]


@given(st.one_of(URLS, URLS, st.text(max_size=40).map(lambda s: "https://" + s)))
def test_renderers_never_label_a_host_that_is_not_allowed_as_marketo(url: str) -> None:
    campaigns = [{"name": "A", "url": url}, {"name": "B", "url": url}]
    for n in (
        note("campaign_failure", {"url": url[:1_000]}),
        note("trigger_cleanup", {"stage": "scheduled", "campaigns": campaigns}),
    ):
        message, card = render_slack(n, links=ALLOWED), render_teams(n, links=ALLOWED)
        for shown in _marketo_labelled(message, card):
            host = (urlsplit(shown).hostname or "").rstrip(".").lower()
            assert shown == url and allowed(host) and "@" not in browser_authority(shown), shown


def test_render_cli_labels_links_as_the_configured_bot_would(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "notifbot.yaml"
    config.write_text("links:\n  marketo_hosts: [go.acme.example]\n", encoding="utf-8")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"kind": "campaign_failure", "fields": {"url": "https://go.acme.example/c"}}))
    assert main(["render", "--event", str(event)]) == 0
    assert slack_links(json.loads(capsys.readouterr().out)) == [
        ("Open link (go.acme.example)", "https://go.acme.example/c")
    ]
    assert main(["render", "--config", str(config), "--event", str(event), "--format", "teams"]) == 0
    assert teams_links(json.loads(capsys.readouterr().out)) == [
        ("Open in Marketo", "https://go.acme.example/c")
    ]
