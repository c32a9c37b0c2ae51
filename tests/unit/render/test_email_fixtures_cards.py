"""Every e-mail fixture, classified as the mailbox reader does, renders to a valid Slack message and Teams card.

Each message must carry the subject and the fields the classifier extracted, stay within Block Kit's limits and
Teams' 28 KB, validate against the Adaptive Card 1.5 schema, escape the mail's own text (the hostile-* fixtures
try Slack mrkdwn, markdown links, Adaptive Card templates, <at> mentions and HTML) and label every link honestly.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from notifbot.config import parse_settings
from notifbot.links import DEFAULT_LINKS, MARKETO_LABEL, host_name, neutral_label
from notifbot.model import Kind, Notification
from notifbot.render.card import card_size, md_safe
from notifbot.render.slack import render_slack
from notifbot.render.teams import render_teams
from notifbot.sources.email.message import MAX_TEXT_CHARS, MailMeta, handle
from notifbot.text import escape_mrkdwn
from tests.unit.render.helpers import all_text, assert_valid, slack_links, strings, teams_links
from tests.unit.render.teams_helpers import TEAMS_LIMIT, assert_valid_card

DATA = Path(__file__).parents[2] / "data" / "email"
FIXTURES = sorted(p.stem for p in DATA.glob("*.eml"))
META = MailMeta("alerts", "999-XYZ-999")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
# what every e-mail notification carries besides the kind's own fields
MAIL_FIELDS = {"subject", "from", "text", "note", "attachments", "mailbox", "message_id"}
URL_FIELDS = {"url", "errors_url"}
# Slack mrkdwn control sequences and Teams markdown/template/mention syntax the hostile fixtures carry
SLACK_RAW = ("<!channel>", "<!here>", "<@U0BADBAD>", "<https://evil.example", "<script>", "<b>")
TEAMS_RAW = ("](https://evil.example", "{{DATE(", "<at>everyone")


def classified(name: str) -> Notification:
    return handle((DATA / f"{name}.eml").read_bytes(), META, now=NOW)


def markdown_texts(card: dict[str, Any]) -> list[str]:
    """The strings Teams renders as markdown: TextBlock texts and Fact values (RichTextBlock runs are literal)."""
    out = [b["text"] for b in card["body"] if b["type"] == "TextBlock"]
    out += [f["value"] for b in card["body"] if b["type"] == "FactSet" for f in b["facts"]]
    return out


def verbatim(value: object) -> list[str]:
    """The strings a field value shows as is: free text and a list's item names (codes, dates and numbers are
    worded or formatted per kind; `altered` proves those reach the message)."""
    if isinstance(value, str) and not re.fullmatch(r"[a-z_]+|\d{4}-\d\d-\d\d.*", value):
        return [value]
    if isinstance(value, list):
        return [str(item["name"]) for item in value if isinstance(item, dict) and "name" in item]
    return []


def altered(n: Notification, key: str) -> Notification:
    """`n` with the value of field `key` changed (a derived field, like percent, may not be left out)."""
    value = n.fields[key]
    if isinstance(value, bool):
        new: object = not value
    elif isinstance(value, int | float):
        new = value + 7
    elif isinstance(value, list):
        new = value[1:]
    else:
        new = f"{value} (changed)"
    return replace(n, fields={**n.fields, key: new})


def assert_honest(links: list[tuple[str, str]]) -> None:
    """A Marketo label only on Marketo's hosts; any other host is named in a neutral label; https, no user info."""
    for label, url in links:
        parts = urlsplit(url)
        assert parts.scheme == "https" and "@" not in parts.netloc, url
        host = host_name(parts.hostname or "")
        assert host is not None, url
        if DEFAULT_LINKS.is_marketo(host):
            continue  # Marketo's own host: any of the renderers' Marketo wordings is honest
        assert label == neutral_label(host), (label, url)
        assert MARKETO_LABEL not in label


def test_the_fixtures_cover_every_kind_read_from_mail_and_the_hostile_ones() -> None:
    kinds = {classified(name).kind for name in FIXTURES}
    assert {Kind.CAMPAIGN_FAILURE, Kind.CRM_SYNC, Kind.TRIGGER_CLEANUP, Kind.OTHER} <= kinds
    assert {"hostile-html-en", "hostile-other-en"} <= set(FIXTURES)


@pytest.mark.parametrize("name", FIXTURES)
def test_a_fixture_renders_valid_within_limits_with_subject_and_fields(name: str) -> None:
    n = classified(name)
    message, card = render_slack(n), render_teams(n)
    assert_valid(message)
    assert_valid_card(card)  # Adaptive Card 1.5 schema, full width, under 28 KB
    slack, teams = all_text(message), "\n".join(strings(card))
    subject = n.fields["subject"]
    assert escape_mrkdwn(subject) in slack
    assert {"type": "TextRun", "text": subject} in card["body"][1]["inlines"]  # literal: never markdown
    extracted = {k: v for k, v in n.fields.items() if k not in MAIL_FIELDS}
    for key, value in extracted.items():
        if key in URL_FIELDS:
            assert value in [u for _, u in slack_links(message)], (key, value)
            assert value in [u for _, u in teams_links(card)], (key, value)
            continue
        # every extracted field is shown in both, however its kind words it: changing it changes them
        assert render_slack(altered(n, key)) != message, key
        assert render_teams(altered(n, key)) != card, key
        for text in verbatim(value):
            assert escape_mrkdwn(text) in slack, (key, text)
            assert text in teams or md_safe(text) in teams, (key, text)
    assert_honest(slack_links(message))
    assert_honest(teams_links(card))


@pytest.mark.parametrize("name", [n for n in FIXTURES if n.startswith("hostile-")])
def test_a_hostile_mail_is_escaped_in_both_and_its_links_are_not_offered(name: str) -> None:
    n = classified(name)
    raw = (DATA / f"{name}.eml").read_text()
    assert all(s in raw or s.replace("<", "&lt;").replace(">", "&gt;") in raw for s in SLACK_RAW[:4])
    message, card = render_slack(n), render_teams(n)
    slack = all_text(message)
    for s in SLACK_RAW:
        assert s not in slack, s
    for text in markdown_texts(card):
        for s in TEAMS_RAW:
            assert s not in text, (s, text)
    assert "alert(" not in str(card.get("actions", "")) and "javascript:" not in str(teams_links(card))
    # nothing from the mail is offered as a link: evil.example is not Marketo's, and a forged link has user info
    assert not any("evil.example" in url for _, url in slack_links(message) + teams_links(card))
    assert n.instance == META.instance  # a Munchkin id in a link to another host never names the instance


def test_a_hostile_html_mail_keeps_no_script_and_takes_its_fields_from_the_text() -> None:
    n = classified("hostile-html-en")
    assert n.kind is Kind.CAMPAIGN_FAILURE
    assert "document.location" not in n.fields["text"] and "Ignore me" not in n.fields["text"]
    assert n.fields["program_name"].startswith("[Open in Marketo](https://evil.example/md)")
    card = render_teams(n)
    facts = {f["title"]: f["value"] for b in card["body"] if b["type"] == "FactSet" for f in b["facts"]}
    assert facts["Program"] == md_safe(n.fields["program_name"]) != n.fields["program_name"]


def user_rules(url_pattern: str) -> Any:
    """Config rules (`email.rules`) taking a campaign failure's link from wherever `url_pattern` finds it."""
    rule = {"kind": "campaign_failure", "subject": "campaign failure", "fields": {"url": url_pattern}}
    return parse_settings({"email": {"rules": [rule]}}, source="t").email.compiled_rules()


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (
            r"View the campaign:\s*(\S+)",
            [],
        ),  # https://app.marketo.com@evil.example/login: user info, never a link
        (
            r"\((https://evil\.example/#\S+)\)",
            [("Open link (evil.example)", "https://evil.example/#munchkinId=666-EVL-666")],
        ),
    ],
    ids=["forged-userinfo", "other-host"],
)
def test_a_link_a_users_rule_takes_from_a_hostile_mail_is_labelled_with_its_real_host(
    pattern: str, expected: list[tuple[str, str]]
) -> None:
    raw = (DATA / "hostile-html-en.eml").read_bytes()
    n = handle(raw, META, now=NOW, rules=user_rules(pattern))
    assert n.kind is Kind.CAMPAIGN_FAILURE and "evil.example" in n.fields["url"]
    assert slack_links(render_slack(n)) == expected
    assert teams_links(render_teams(n)) == expected


def big_mail(subject: str, body: str) -> bytes:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["Message-ID"] = subject, "noreply@marketo.com", "<big-1@test>"
    msg.set_content(body)
    return msg.as_bytes()


@pytest.mark.parametrize(
    "subject",
    ["Quarterly newsletter ", "Marketo Campaign Failure: Nurture "],
    ids=["other", "campaign_failure"],
)
def test_the_largest_mail_body_kept_still_fits_both(subject: str) -> None:
    line = (
        "Campaign: ÅÄÖ 💥 [x](https://evil.example) {{DATE(2017-02-14T06:00:00Z)}} <at>a</at> <!channel> & "
    )
    body = "\n".join([line] * (2 * MAX_TEXT_CHARS // len(line)))
    n = handle(big_mail(subject + "Ω" * 900, body), META, now=NOW)
    assert len(n.fields["text"]) >= MAX_TEXT_CHARS - len(line)
    message, card = render_slack(n), render_teams(n)
    assert_valid(message)
    assert_valid_card(card)
    assert card_size(card) < TEAMS_LIMIT
    for text in markdown_texts(card):
        assert "](https://evil" not in text and "{{DATE" not in text and "<at>" not in text
    assert "<!channel>" not in all_text(message)


def test_a_dynamics_digest_mail_naming_thousands_of_leads_fits_both() -> None:
    head = (DATA / "crm_sync_dynamics-en.eml").read_bytes().split(b"\n\n", 1)[0]
    rows = "\n".join(f"- Lead Person {i} <lead{i}@example.com>: duplicate lead" for i in range(3000))
    msg = EmailMessage()
    for key in ("Subject", "From", "Message-ID"):
        msg[key] = next(
            line.split(b":", 1)[1].strip().decode()
            for line in head.splitlines()
            if line.lower().startswith(key.lower().encode() + b":")
        )
    msg.set_content(f"3000 leads failed to sync to Microsoft Dynamics.\n\n{rows}\n")
    n = handle(msg.as_bytes(), META, now=NOW)
    assert n.kind is Kind.CRM_SYNC
    assert_valid(render_slack(n))
    assert_valid_card(render_teams(n))
