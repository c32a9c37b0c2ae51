"""render_teams: every kind validates against the Adaptive Card 1.5 schema, shares Slack's content, and fits 28 KB."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from notifbot.cli import main
from notifbot.kinds import describe, load_samples, what_to_do
from notifbot.links import link_label
from notifbot.model import Acked, Kind
from notifbot.render.card import MAX_CARD_BYTES, card_size, md_safe
from notifbot.render.teams import render_teams
from notifbot.sources.events import parse_event
from tests.unit.render.helpers import T, dynamics_digest, many_campaigns, note, raw_note, strings
from tests.unit.render.teams_helpers import assert_valid_card, schema_error

SAMPLES = load_samples()


def text_of(card: dict[str, Any]) -> str:
    return "\n".join(strings(card))


@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_sample_validates_and_carries_the_shared_content(name: str) -> None:
    n = parse_event(SAMPLES[name], now=T)
    card = render_teams(n)
    assert_valid_card(card)
    text = text_of(card)
    parts = describe(n)
    assert parts.title in card["body"][0]["inlines"][0]["text"]
    facts = next(b for b in card["body"] if b["type"] == "FactSet")["facts"]
    for label, value in parts.facts:
        assert {"title": label, "value": md_safe(value)} in facts
    assert "What to do" in text and what_to_do(n) in text
    if parts.link is not None:
        title = link_label(parts.link, parts.link_label)
        assert card["actions"] == [{"type": "Action.OpenUrl", "title": title, "url": parts.link.url}]


def test_the_validator_really_checks() -> None:
    card = render_teams(parse_event(SAMPLES["crm_sync"], now=T))
    card["body"][0]["inlines"][0]["bogus"] = 1
    assert schema_error(card) is not None
    assert schema_error({"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "Nope"}]}) is not None


def test_salesforce_card_layout() -> None:
    card = render_teams(parse_event(SAMPLES["crm_sync"], now=T))
    head = card["body"][0]["inlines"][0]
    assert head["text"] == "🔴 Salesforce sync failing: expired credentials"
    assert head["color"] == "Attention" and head["weight"] == "Bolder"
    facts = next(b for b in card["body"] if b["type"] == "FactSet")["facts"]
    assert {"title": "CRM", "value": "Salesforce"} in facts
    assert card["actions"][0]["url"] == "https://app-ab12.marketo.com/#SF0A1"
    assert card["fallbackText"].startswith("Salesforce sync failing")
    context = card["body"][-1]["inlines"][0]["text"]
    assert "123-ABC-456" in context and "sample-crm_sync-1" in context


def test_dynamics_digest_with_5000_leads_fits() -> None:
    n = dynamics_digest(5000)
    card = render_teams(n)
    assert_valid_card(card)
    text = text_of(card)
    shown = text.count("• Lead Person")
    assert 0 < shown <= 50 and f"… and {5000 - shown:,} more" in text
    assert "Leads that failed to sync (5,000)" in text


def test_cleanup_with_400_campaigns_fits_with_links() -> None:
    campaigns = many_campaigns(400)
    card = render_teams(note("trigger_cleanup", {"stage": "scheduled", "campaigns": campaigns}))
    assert_valid_card(card)
    text = text_of(card)
    shown = text.count("https://app-ab12.marketo.com/")
    links = [i["selectAction"]["url"] for b in card["body"] if b["type"] == "RichTextBlock" for i in b["inlines"]
             if "selectAction" in i]  # fmt: skip
    assert links[0] == "https://app-ab12.marketo.com/#SC0A1" and shown >= len(links)
    assert f"… and {400 - len(links)} more" in text and "Campaigns (400)" in text


@pytest.mark.parametrize("kind", [k.value for k in Kind if k is not Kind.OTHER] + ["huge_kind"])
def test_huge_and_multibyte_values_degrade_but_fit(kind: str) -> None:
    huge = "<&>" + "界" * 60_000
    fields = {k: huge for k in ("campaign_name", "program_name", "error", "crm", "problem", "stream_name",
                                "audience_name", "user_id", "action", "component_name", "reason", "operation")}  # fmt: skip
    fields["campaigns"] = [{"name": huge, "url": "https://app-ab12.marketo.com/#SC1A1"}] * 300
    fields["leads"] = [{"name": huge, "email": huge, "error": huge}] * 300
    n = raw_note(kind, fields, summary=huge, labels={"team": huge}, instance=huge)
    card = render_teams(n)
    assert_valid_card(card)
    assert card_size(card) <= MAX_CARD_BYTES


def test_untrusted_text_cannot_spoof_links_or_templates() -> None:
    evil = "[click me](https://evil.example) {{DATE(2017-02-14T06:00:00Z)}} <at>everyone</at>"
    card = render_teams(note("mystery", {"note": evil}, summary=evil))
    facts = next(b for b in card["body"] if b["type"] == "FactSet")["facts"]
    value = facts[0]["value"]
    assert "](" not in value and "{{" not in value and "<at>" not in value
    # rich text runs never interpret markdown, so the summary is shown exactly as sent
    assert card["body"][1]["inlines"][0]["text"] == evil
    for block in card["body"]:
        if block["type"] == "TextBlock":  # markdown-rendering blocks only hold our own wording
            assert "evil" not in block["text"]


def test_acknowledged_card_says_who_and_when() -> None:
    at = datetime(2026, 11, 28, 11, tzinfo=UTC)
    card = render_teams(parse_event(SAMPLES["campaign_failure"], now=T), acked=Acked("Ada Lovelace", at))
    assert_valid_card(card)
    assert "✅ Acknowledged by Ada Lovelace · Nov 28, 2026 11:00 UTC" in text_of(card)


def test_render_cli_prints_the_card(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--kind", "trigger_cleanup", "--format", "teams"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert_valid_card(card)
    assert card["type"] == "AdaptiveCard"


def test_dynamics_digest_action_says_it_opens_the_csv() -> None:
    card = render_teams(parse_event(SAMPLES["crm_sync_dynamics"], now=T))
    assert [a["title"] for a in card["actions"]] == ["See the full list (CSV)"]


def test_cleanup_of_several_campaigns_links_each_and_has_no_first_campaign_action() -> None:
    campaigns = [{"name": f"C{i}", "url": f"https://app-ab12.marketo.com/#SC{i}A1"} for i in range(3)]
    card = render_teams(note("trigger_cleanup", {"stage": "scheduled", "campaigns": campaigns}))
    assert "actions" not in card
    runs = [
        i for b in card["body"] if b["type"] == "RichTextBlock" for i in b["inlines"] if "selectAction" in i
    ]
    assert [r["selectAction"]["url"] for r in runs] == [c["url"] for c in campaigns]
