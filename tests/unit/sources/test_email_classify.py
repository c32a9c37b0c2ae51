"""Marketo notification e-mails (English and Swedish fixtures) classify to their kind with the fields the text gives."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from notifbot.kinds import KINDS, classify_email
from notifbot.kinds.mail import EmailRule, bullets, labelled, marketo_url, munchkin_id, words
from notifbot.model import Kind
from notifbot.render.console import render_console
from notifbot.render.slack import render_slack
from notifbot.sources.email.message import MailMeta, handle
from tests.unit.render.helpers import all_text, assert_valid

DATA = Path(__file__).parents[2] / "data" / "email"
META = MailMeta("alerts", "999-XYZ-999")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CSV = "https://app-ab12.marketo.com/download/dynamics-errors.csv"
LEADS = [
    {"name": "Ann Berg", "email": "ann@example.com"},
    {"name": "Bo Lind", "email": "bo@example.com"},
]

# file → (kind, instance, the extracted fields expected: each must be present with this value)
EXPECTED: dict[str, tuple[Kind, str, dict[str, Any]]] = {
    "campaign_failure-en": (
        Kind.CAMPAIGN_FAILURE,
        "123-ABC-456",
        {
            "campaign_name": "Nurture - Send Welcome",
            "program_name": "2026 Onboarding",
            "error": 'Email asset "Welcome v2" is not approved',
            "url": "https://app-ab12.marketo.com/#SC1234A1?munchkinId=123-ABC-456",
        },
    ),
    "campaign_failure-sv": (
        Kind.CAMPAIGN_FAILURE,
        "999-XYZ-999",
        {
            "campaign_name": "Välkomstutskick",
            "program_name": "Onboarding 2026",
            "error": 'E-posttillgången "Välkommen v2" är inte godkänd',
        },
    ),
    "crm_sync_salesforce-en": (
        Kind.CRM_SYNC,
        "123-ABC-456",
        {
            "crm": "salesforce",
            "problem": "expired_credentials",
            "error": "INVALID_SESSION_ID: Session expired or invalid",
        },
    ),
    "crm_sync_salesforce-sv": (
        Kind.CRM_SYNC,
        "999-XYZ-999",
        {"crm": "salesforce", "problem": "api_limit_exceeded", "error": "REQUEST_LIMIT_EXCEEDED"},
    ),
    "crm_sync_dynamics-en": (
        Kind.CRM_SYNC,
        "999-XYZ-999",
        {"crm": "dynamics", "failed_leads": 3, "errors_url": CSV, "problem": "duplicate_leads"},
    ),
    "crm_sync_dynamics-sv": (
        Kind.CRM_SYNC,
        "999-XYZ-999",
        {"crm": "dynamics", "failed_leads": 2, "errors_url": CSV},
    ),
    "engagement-en": (
        Kind.ENGAGEMENT,
        "999-XYZ-999",
        {"program_name": "Monthly Nurture", "stream_name": "Prospects", "exhausted_count": 42},
    ),
    "engagement-sv": (
        Kind.ENGAGEMENT,
        "999-XYZ-999",
        {"program_name": "Månadsnurture", "stream_name": "Prospekt", "exhausted_count": 42},
    ),
    "facebook-en": (
        Kind.FACEBOOK,
        "999-XYZ-999",
        {"reason": "terms_not_accepted", "audience_name": "Webinar attendees"},
    ),
    "facebook-sv": (
        Kind.FACEBOOK,
        "999-XYZ-999",
        {"reason": "terms_not_accepted", "audience_name": "Webinardeltagare"},
    ),
    "linkedin-en": (
        Kind.LINKEDIN,
        "999-XYZ-999",
        {"operation": "create_audience", "attempts": 3, "audience_name": "Q4 Retargeting"},
    ),
    "linkedin-sv": (
        Kind.LINKEDIN,
        "999-XYZ-999",
        {"operation": "create_audience", "attempts": 3, "audience_name": "Q4-retargeting"},
    ),
    "trigger_cleanup-en": (
        Kind.TRIGGER_CLEANUP,
        "999-XYZ-999",
        {
            "stage": "scheduled",
            "deactivate_on": "2026-12-08",
            "campaigns": [
                {
                    "name": "Old Webinar Trigger",
                    "program_name": "Webinars 2025",
                    "url": "https://app-ab12.marketo.com/#SC101A1",
                },
                {
                    "name": "Form Fill Alert",
                    "program_name": "Website",
                    "url": "https://app-ab12.marketo.com/#SC102A1",
                },
                {"name": "Legacy Score Change"},
            ],
        },
    ),
    "trigger_cleanup-sv": (
        Kind.TRIGGER_CLEANUP,
        "999-XYZ-999",
        {
            "stage": "deactivated",
            "campaigns": [
                {"name": "Gammal webinartrigger", "program_name": "Webinar 2025"},
                {"name": "Formulärlarm", "program_name": "Webbplats"},
            ],
        },
    ),
    "web_services-en": (
        Kind.WEB_SERVICES,
        "999-XYZ-999",
        {"used": 50_000, "quota": 50_000, "percent": 100.0},
    ),
    "web_services-sv": (Kind.WEB_SERVICES, "999-XYZ-999", {"used": 45_000, "quota": 50_000, "percent": 90.0}),
    "other-en": (Kind.OTHER, "999-XYZ-999", {}),
    # mrkdwn, markdown, template, <at> and HTML tricks (tests/unit/render/test_email_fixtures_cards.py)
    "hostile-html-en": (
        Kind.CAMPAIGN_FAILURE,
        "999-XYZ-999",
        {"error": "<script>alert(1)</script> javascript:alert(1) <b>bold</b>"},
    ),
    "hostile-other-en": (Kind.OTHER, "999-XYZ-999", {}),
}


def test_every_fixture_has_an_expectation_and_every_email_kind_has_english_and_swedish() -> None:
    assert sorted(p.stem for p in DATA.glob("*.eml")) == sorted(EXPECTED)
    with_rules = {k.value for k, spec in KINDS.items() if spec.email_rules}
    for kind in with_rules:
        assert any(n.startswith(kind) and n.endswith("-en") for n in EXPECTED), kind
        assert any(n.startswith(kind) and n.endswith("-sv") for n in EXPECTED), kind
    assert "synthetic" in (DATA / "README").read_text()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_fixture_classifies_with_its_fields_and_renders_within_slack_limits(name: str) -> None:
    kind, instance, fields = EXPECTED[name]
    raw = (DATA / f"{name}.eml").read_bytes()
    n = handle(raw, META, now=NOW)
    assert (n.kind, n.instance, n.source) == (kind, instance, "email")
    assert {k: n.fields.get(k) for k in fields} == fields
    assert n.fields["subject"] == n.summary and n.fields["text"] and n.fields["mailbox"] == "alerts"
    message = render_slack(n)
    assert_valid(message)
    assert render_console(message)


def test_the_dynamics_digest_lists_every_lead_with_its_reason() -> None:
    n = handle((DATA / "crm_sync_dynamics-en.eml").read_bytes(), META, now=NOW)
    leads = n.fields["leads"]
    assert [{"name": lead["name"], "email": lead["email"]} for lead in leads[:2]] == LEADS
    assert [lead["error"] for lead in leads] == [
        "duplicate lead",
        "field length mismatch on Title",
        "duplicate lead",
    ]
    text = all_text(render_slack(n))
    assert "Ann Berg" in text and "Cy Ek" in text


def test_every_campaign_of_a_cleanup_notice_is_shown() -> None:
    n = handle((DATA / "trigger_cleanup-en.eml").read_bytes(), META, now=NOW)
    text = all_text(render_slack(n))
    for name in ("Old Webinar Trigger", "Form Fill Alert", "Legacy Score Change"):
        assert name in text


def mail(subject: str, body: str) -> bytes:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["Message-ID"] = subject, "noreply@marketo.com", "<x-1@test>"
    msg.set_content(body)
    return msg.as_bytes()


def test_untrusted_text_is_escaped_and_forged_links_are_not_opened() -> None:
    body = (
        "Campaign: <!channel> *bold* <https://evil.example|Click me>\n"
        "Program: <@U123> & co\n"
        "Error: javascript:alert(1) <script>x</script>\n"
        "https://evil.example/#munchkinId=666-EVL-666\n"
    )
    n = handle(mail("Campaign failure: <!here>", body), META, now=NOW)
    assert n.kind is Kind.CAMPAIGN_FAILURE and n.fields["campaign_name"].startswith("<!channel>")
    assert n.instance == "999-XYZ-999"  # a Munchkin id counts only in a link to a Marketo host
    assert "url" not in n.fields  # not a Marketo host: never offered as the campaign's link
    message = render_slack(n)
    assert_valid(message)
    text = all_text(message)
    for raw in ("<!channel>", "<!here>", "<@U123>", "<https://evil.example|"):
        assert raw not in text
    buttons = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert all("evil.example" not in str(e.get("url", "")) for e in buttons)


def test_an_unmatched_mail_is_other_with_subject_and_text_kept() -> None:
    n = handle(mail("Quarterly newsletter", "Nothing to do."), META, now=NOW)
    assert (
        n.kind is Kind.OTHER
        and n.fields["subject"] == "Quarterly newsletter"
        and n.fields["text"] == "Nothing to do."
    )


def test_classify_email_is_pure_and_tolerant_of_wording() -> None:
    assert classify_email("CAMPAIGN   FAILURE", "") == (Kind.CAMPAIGN_FAILURE, {})
    assert classify_email("Idle trigger campaign cleanup", "")[0] is Kind.TRIGGER_CLEANUP
    assert classify_email("Hello", "campaign failure in the body only") == (Kind.OTHER, {})
    assert classify_email("Campaign failure: Sync to CRM step", "It failed.")[0] is Kind.CAMPAIGN_FAILURE
    assert classify_email("CRM sync error", "The sync failed.")[0] is Kind.CRM_SYNC
    kind, fields = classify_email("Web Services: daily API limit", "used 99999999999999999999 of 5 calls")
    assert kind is Kind.WEB_SERVICES and isinstance(fields, dict)


def test_helpers() -> None:
    assert labelled("x\n  Campaign :  Big one  \n", "campaign") == "Big one"
    assert labelled("no label here", "campaign") is None
    assert munchkin_id("see https://app-ab1.marketo.com/?munchkinId=123-abc-456 ok") == "123-ABC-456"
    assert munchkin_id("https://a.example/?munchkinId=123-abc-456") is None
    assert munchkin_id("123-ABC-456 outside a link") is None
    assert munchkin_id("https://123-abc-456.mktoweb.com/lp") == "123-ABC-456"
    assert munchkin_id("http://123-abc-456.mktoweb.com/lp") is None  # only links links.py would open
    assert marketo_url("http://app-ab1.marketo.com/#SC1") is None
    assert marketo_url("https://evil.example/?next=https://app-ab1.marketo.com/") is None
    assert marketo_url("https://user@app-ab1.marketo.com/ then https://app-ab1.marketo.com/#SC1") == (
        "https://app-ab1.marketo.com/#SC1"
    )
    assert bullets("- one\n* two\n3. three\nnot") == ["one", "two", "three"]
    assert words("a b").search("A \n  B") is not None
    with pytest.raises(ValueError, match="subject or a body"):
        EmailRule()
