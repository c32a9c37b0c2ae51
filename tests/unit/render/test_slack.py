"""render_slack: layout per kind, escaping of untrusted text, and staying within every Block Kit limit."""

from __future__ import annotations

import json
from typing import Any

import pytest

from notifbot.kinds import load_samples
from notifbot.model import Kind
from notifbot.render.limits import slack_limit_problems
from notifbot.render.slack import fit, render_slack
from notifbot.sources.events import parse_event
from tests.unit.render.helpers import (
    T,
    all_text,
    assert_valid,
    dynamics_digest,
    many_campaigns,
    note,
    raw_note,
    strings,
)

EVIL = "<!channel> <https://evil|click> <@U123>"
SAMPLES = load_samples()


def blocks_of(message: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [b for b in message["blocks"] if b["type"] == kind]


def button_urls(message: dict[str, Any]) -> list[str]:
    return [el["url"] for b in blocks_of(message, "actions") for el in b["elements"]]


@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_sample_renders_within_limits(name: str) -> None:
    message = render_slack(parse_event(SAMPLES[name], now=T))
    assert_valid(message)
    types = [b["type"] for b in message["blocks"]]
    assert types[0] == "header" and types[-1] == "context"
    assert "What to do" in all_text(message)
    assert message["text"] and "\n" not in message["text"]


def test_salesforce_sample_layout() -> None:
    message = render_slack(parse_event(SAMPLES["crm_sync"], now=T))
    assert message["blocks"][0]["text"]["text"] == ":red_circle: Salesforce sync failing: expired credentials"
    assert message["text"].startswith("Salesforce sync failing: expired credentials")
    fields = [f["text"] for f in blocks_of(message, "section")[1]["fields"]]
    assert "*CRM*\nSalesforce" in fields and "*Problem*\nExpired credentials" in fields
    assert button_urls(message) == ["https://app-ab12.marketo.com/#SF0A1"]
    assert message["blocks"][-2]["elements"][0]["action_id"] == "open_in_marketo"


def test_context_has_instance_times_kind_and_key() -> None:
    message = render_slack(parse_event(SAMPLES["campaign_failure"], now=T))
    context = " ".join(el["text"] for el in message["blocks"][-1]["elements"])
    for part in (
        "123-ABC-456",
        "Nov 28, 2026 10:00 UTC",
        "4:00 AM CT",
        "campaign_failure",
        "sample-campaign_failure-1",
    ):
        assert part in context


def test_web_services_shows_reset_in_central_time() -> None:
    message = render_slack(parse_event(SAMPLES["web_services"], now=T))
    text = all_text(message)
    assert "*Resets*\nNov 29, 12:00 AM CT" in text and "50,000" in text and "100%" in text
    # without resets_at, the next midnight US Central after the event is shown
    derived = render_slack(
        note("web_services", {"used": 40000, "quota": 50000}, occurred_at="2026-11-28T19:45:00Z")
    )
    assert "*Resets*\nNov 29, 12:00 AM CT" in all_text(derived) and "80%" in all_text(derived)


def test_trigger_cleanup_links_campaigns() -> None:
    message = render_slack(parse_event(SAMPLES["trigger_cleanup"], now=T))
    text = all_text(message)
    assert "<https://app-ab12.marketo.com/#SC1042A1|Form Fill - Contact Us (2019)>" in text
    assert "Nov 28, 2026" in message["blocks"][0]["text"]["text"]


def test_other_kind_shows_its_name_and_fields() -> None:
    message = render_slack(parse_event(SAMPLES["other"], now=T))
    text = all_text(message)
    assert "marketo.observability.status" in message["blocks"][0]["text"]["text"]
    assert "*Queue normal lag seconds*\n610" in text and "*Quota used*\n41250" in text


def test_ab_test_result_shows_program_test_and_winner() -> None:
    message = render_slack(parse_event(SAMPLES["ab_test_result"], now=T))
    text = all_text(message)
    assert message["blocks"][0]["text"]["text"] == ":large_blue_circle: A/B test result: 2026-11 Newsletter"
    assert "*Winner*\nVersion B" in text and "*Test*\nSubject line" in text
    assert "*Winning criteria*\nOpen rate" in text and "declare the winner" in text


def test_other_kind_with_many_fields_is_bounded() -> None:
    message = render_slack(note("mystery", {f"k{i}": "v" * 5000 for i in range(40)}))
    assert_valid(message)
    fields = blocks_of(message, "section")[0]["fields"]
    assert len(fields) == 10 and "31 more" in fields[-1]["text"]


EVIL_FIELDS: dict[str, dict[str, Any]] = {
    "campaign_failure": {"campaign_name": EVIL, "program_name": EVIL, "error": EVIL, "url": EVIL},
    "campaign_abort": {"campaign_name": EVIL, "user_id": EVIL, "campaign_id": EVIL},
    "crm_sync": {
        "crm": EVIL,
        "problem": EVIL,
        "error": EVIL,
        "leads": [{"name": EVIL, "email": EVIL, "error": EVIL, "id": EVIL}],
    },
    "engagement": {"program_name": EVIL, "stream_name": EVIL},
    "facebook": {"reason": EVIL, "audience_name": EVIL},
    "trigger_cleanup": {
        "deactivate_on": EVIL,
        "campaigns": [{"name": EVIL, "program_name": EVIL, "url": EVIL}],
    },
    "linkedin": {"operation": EVIL, "audience_name": EVIL},
    "web_services": {"extra": EVIL},
    "audit": {"user_id": EVIL, "action": EVIL, "component_type": EVIL, "component_name": EVIL},
    EVIL: {EVIL: EVIL, "nested": {"x": EVIL}},
}


@pytest.mark.parametrize("kind", list(EVIL_FIELDS))
def test_untrusted_text_is_escaped_everywhere(kind: str) -> None:
    n = note(kind, EVIL_FIELDS[kind], summary=EVIL, instance=EVIL, labels={EVIL: EVIL}, id=EVIL)
    message = render_slack(n)
    assert_valid(message)
    for s in strings(message):
        assert "<!channel>" not in s and "<https://evil" not in s and "<@U123>" not in s, s
    assert "&lt;!channel&gt;" in json.dumps(message)


def test_untrusted_campaign_link_cannot_break_out() -> None:
    campaigns = [
        {"name": "a>b|c", "url": "https://app.marketo.com/p?a=1&b=2"},
        {"name": "n", "url": "https://x|y"},
    ]
    text = all_text(render_slack(note("trigger_cleanup", {"campaigns": campaigns})))
    assert "<https://app.marketo.com/p?a=1&amp;b=2|a&gt;b|c>" in text
    assert "https://x|y" not in text


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "http://evil.example",
        "https://",
        "https://a b",
        " https://a.example",
        "ftp://a",
    ],
)
def test_button_only_for_https_urls(url: str) -> None:
    for kind, key in (("campaign_failure", "url"), ("crm_sync", "errors_url"), ("engagement", "url")):
        message = render_slack(note(kind, {key: url}))
        assert button_urls(message) == []
        assert "<javascript" not in all_text(message)
    campaigns = [{"name": "x", "url": url}]
    message = render_slack(note("trigger_cleanup", {"campaigns": campaigns}))
    assert button_urls(message) == [] and f"<{url}" not in all_text(message)


def test_dynamics_digest_with_5000_leads_stays_within_limits() -> None:
    n = dynamics_digest(5000)
    message = render_slack(n)
    assert_valid(message)
    text = all_text(message)
    assert "5,000 leads failed to sync" in message["blocks"][0]["text"]["text"]
    assert "Leads that failed to sync (5,000)" in text and " more" in text
    shown = text.count("• Lead Person")
    assert 0 < shown <= 50 and f"… and {5000 - shown:,} more" in text


def test_declared_count_above_listed_leads_is_reported() -> None:
    leads = [{"name": "A"}, {"name": "B"}]
    text = all_text(render_slack(note("crm_sync", {"crm": "dynamics", "failed_leads": 37, "leads": leads})))
    assert "… and 35 more" in text


def test_cleanup_with_400_campaigns_stays_within_limits() -> None:
    campaigns = many_campaigns(400)
    message = render_slack(note("trigger_cleanup", {"stage": "scheduled", "campaigns": campaigns}))
    assert_valid(message)
    text = all_text(message)
    assert "Campaigns (400)" in text and "more" in text
    shown = text.count("• <https://app-ab12.marketo.com/")
    assert f"… and {400 - shown} more" in text


HUGE = "<&>" + "x" * 100_000


@pytest.mark.parametrize("kind", [k.value for k in Kind if k is not Kind.OTHER] + ["huge_kind"])
def test_huge_strings_in_every_field_are_truncated(kind: str) -> None:
    keys = [
        "campaign_id", "campaign_name", "program_name", "error", "url", "user_id", "crm", "problem",
        "failed_leads", "period_start", "period_end", "errors_url", "stream_name", "exhausted_count", "reason",
        "audience_name", "stage", "deactivate_on", "operation", "attempts", "used", "quota", "percent",
        "resets_at", "action", "component_type", "component_id", "component_name",
    ]  # fmt: skip
    fields: dict[str, Any] = dict.fromkeys(keys, HUGE)
    fields["leads"] = [dict.fromkeys(("id", "name", "email", "error"), HUGE)] * 3
    fields["campaigns"] = [dict.fromkeys(("id", "name", "program_name", "url"), HUGE)] * 3
    n = raw_note(kind, fields, summary=HUGE, instance=HUGE, labels={HUGE: HUGE}, key=HUGE)
    message = render_slack(n)
    assert_valid(message)
    assert len(json.dumps(message)) < 40_000


ODD: list[tuple[str, dict[str, Any]]] = [
    ("crm_sync", {"failed_leads": "lots", "leads": "not a list", "period_start": 5, "crm": None}),
    ("crm_sync", {"failed_leads": float("nan"), "leads": [1, None, "x", ["y"], {"name": None}]}),
    ("crm_sync", {"failed_leads": 10**30, "leads": {"name": "single"}}),
    (
        "trigger_cleanup",
        {"campaigns": [1, "two", None, {"url": 5}], "stage": ["scheduled"], "deactivate_on": {}},
    ),
    ("trigger_cleanup", {"campaigns": "just text"}),
    ("web_services", {"used": "many", "quota": 0, "percent": None, "resets_at": "soon"}),
    ("web_services", {"used": True, "quota": [], "percent": "99.5"}),
    ("engagement", {"exhausted_count": -3.7, "stream_name": 12}),
    ("linkedin", {"attempts": {"n": 3}, "operation": 7}),
    ("audit", {"component_id": 1.5, "user_id": ["a", "b"]}),
    ("facebook", {"reason": {"x": 1}}),
    ("campaign_failure", {}),
    ("anything", {"": "", "n": None, "o": object()}),
]


@pytest.mark.parametrize(("kind", "fields"), ODD)
def test_odd_field_types_never_raise(kind: str, fields: dict[str, Any]) -> None:
    assert_valid(render_slack(raw_note(kind, fields)))


def test_list_given_as_string_count_is_shown() -> None:
    text = all_text(render_slack(raw_note("crm_sync", {"crm": "dynamics", "failed_leads": "5000"})))
    assert "5,000 leads failed" in text


def test_fallback_text_is_escaped_and_bounded() -> None:
    message = render_slack(raw_note("campaign_failure", {"campaign_name": EVIL + "y" * 50_000}))
    assert "<!channel>" not in message["text"] and len(message["text"]) <= 3_000


def test_fit_repairs_a_broken_message() -> None:
    broken = {
        "text": "t\n" * 30_000,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 4000}}]
        + [{"type": "section", "text": {"type": "mrkdwn", "text": "ok"}}] * 60,
    }
    fixed = fit(broken)
    assert slack_limit_problems(fixed) == []
    assert len(fixed["blocks"]) == 50
    assert fit({"text": "", "blocks": [{"type": "header"}]}) == {"text": "Marketo notification"}


def test_severity_emoji() -> None:
    assert render_slack(note("audit"))["blocks"][0]["text"]["text"].startswith(":large_blue_circle:")
    assert render_slack(note("facebook"))["blocks"][0]["text"]["text"].startswith(":large_orange_circle:")
    assert render_slack(note("web_services"))["blocks"][0]["text"]["text"].startswith(":red_circle:")


def test_kind_other_from_samples_is_kind_other() -> None:
    assert parse_event(SAMPLES["other"], now=T).kind is Kind.OTHER


def test_odd_envelope_values_never_raise() -> None:
    n = raw_note("audit", {}, instance=12345, summary=["x"], labels={1: 2})
    assert_valid(render_slack(n))


def test_cleanup_of_several_campaigns_links_every_one_and_no_button_opens_just_the_first() -> None:
    campaigns = [{"name": f"C{i}", "url": f"https://app-ab12.marketo.com/#SC{i}A1"} for i in range(3)]
    message = render_slack(note("trigger_cleanup", {"stage": "scheduled", "campaigns": campaigns}))
    assert button_urls(message) == []  # issue #10 item 14: the one button opened only the first campaign
    text = all_text(message)
    for i in range(3):
        assert f"• <https://app-ab12.marketo.com/#SC{i}A1|C{i}>" in text


def test_cleanup_of_one_campaign_or_with_its_own_link_keeps_a_button() -> None:
    one = [{"name": "a", "url": "https://app-ab12.marketo.com/#SC1A1"}]
    assert button_urls(render_slack(note("trigger_cleanup", {"campaigns": one}))) == [one[0]["url"]]
    many = one * 3
    own = "https://app-ab12.marketo.com/#SC0"
    assert button_urls(render_slack(note("trigger_cleanup", {"campaigns": many, "url": own}))) == [own]


def test_dynamics_digest_button_says_it_opens_the_csv() -> None:
    message = render_slack(parse_event(SAMPLES["crm_sync_dynamics"], now=T))
    [button] = [el for b in blocks_of(message, "actions") for el in b["elements"]]
    assert button["text"]["text"] == "See the full list (CSV)"  # issue #10 item 14: was "Open in Marketo"
    assert button["url"] == "https://app-ab12.marketo.com/crm/dynamics/sync-errors-2026-11-25.csv"
    elsewhere = note("crm_sync", {"crm": "dynamics", "errors_url": "https://files.example/x.csv"})
    [button] = [el for b in blocks_of(render_slack(elsewhere), "actions") for el in b["elements"]]
    assert button["text"]["text"] == "Open link (files.example)"


def test_quota_at_80_percent_without_percent_is_orange_not_red() -> None:
    message = render_slack(note("web_services", {"used": 40_000, "quota": 50_000}))
    assert message["blocks"][0]["text"]["text"].startswith(
        ":large_orange_circle: Marketo daily API quota at 80%"
    )


def test_salesforce_errors_link_keeps_the_marketo_label() -> None:
    [button] = [
        el
        for b in blocks_of(render_slack(parse_event(SAMPLES["crm_sync"], now=T)), "actions")
        for el in b["elements"]
    ]
    assert (button["text"]["text"], button["url"]) == (
        "Open in Marketo",
        "https://app-ab12.marketo.com/#SF0A1",
    )
