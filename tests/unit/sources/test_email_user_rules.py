"""The config's own e-mail rules (`email.rules`): tried before the built-in ones, fields extracted, refusals worded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from notifbot.cli import main
from notifbot.config import ConfigError, parse_settings
from notifbot.kinds import classify_email
from notifbot.model import Kind
from notifbot.sources.email.message import MailMeta, handle

DATA = Path(__file__).parents[2] / "data" / "email"


def rules(*entries: dict[str, Any]) -> Any:
    """The compiled rules of a config with these `email.rules`."""
    return parse_settings({"email": {"rules": list(entries)}}, source="t").email.compiled_rules()


def refusal(entry: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as err:
        parse_settings({"email": {"rules": [entry]}}, source="t")
    return "\n".join(err.value.problems)


def test_a_user_rule_overrides_a_built_in_one() -> None:
    subject = "Marketo Campaign Failure: Nurture - Send Welcome"
    assert classify_email(subject, "")[0] is Kind.CAMPAIGN_FAILURE
    mine = rules({"kind": "other", "subject": r"campaign failure: nurture"})
    assert classify_email(subject, "", mine) == (Kind.OTHER, {})
    assert classify_email("Marketo Campaign Failure: Other", "", mine)[0] is Kind.CAMPAIGN_FAILURE


def test_a_user_rule_recognises_a_new_wording_with_its_fields() -> None:
    mine = rules(
        {
            "kind": "campaign_abort",
            "subject": r"campaign\b.*\bwas stopped",
            "body": r"stopped by",
            "fields": {"campaign_name": r"^Campaign:\s*(.+)$", "user_id": r"stopped by (\S+@\S+)"},
        }
    )
    text = "Hello,\nCampaign: Weekly Digest\nIt was stopped by ann@example.com today.\n"
    assert classify_email("Weekly campaign was stopped", text) == (Kind.OTHER, {})
    assert classify_email("WEEKLY CAMPAIGN WAS STOPPED", text, mine) == (
        Kind.CAMPAIGN_ABORT,
        {"campaign_name": "Weekly Digest", "user_id": "ann@example.com"},
    )
    # every pattern given must match: the subject alone is not enough
    assert classify_email("Weekly campaign was stopped", "nothing here", mine) == (Kind.OTHER, {})


def test_a_field_not_found_is_left_out_and_a_failing_extraction_keeps_the_kind() -> None:
    mine = rules(
        {
            "kind": "campaign_failure",
            "subject": "odd",
            "fields": {"error": r"reason: (.+)", "url": r"at (\S+)"},
        },
        {"kind": "web_services", "subject": "quota", "fields": {"used": r"used (\w+)"}},
    )
    assert classify_email("odd mail", "reason: disk full", mine) == (
        Kind.CAMPAIGN_FAILURE,
        {"error": "disk full"},
    )
    assert classify_email("quota", "used 12 calls", mine) == (Kind.WEB_SERVICES, {"used": "12"})
    assert classify_email("quota", "used many calls", mine) == (Kind.WEB_SERVICES, {})  # not a count


def test_the_mailbox_reader_path_applies_the_rules() -> None:
    raw = (DATA / "other-en.eml").read_bytes()
    assert handle(raw, MailMeta("alerts")).kind is Kind.OTHER
    mine = rules({"kind": "engagement", "subject": "newsletter", "fields": {"stream_name": r"what is (\w+)"}})
    n = handle(raw, MailMeta("alerts"), rules=mine)
    assert n.kind is Kind.ENGAGEMENT and n.fields["stream_name"] == "new"


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        ({"kind": "other", "subject": "(unclosed"}, "subject '(unclosed' is not a valid regular expression"),
        ({"kind": "other", "body": "a[b"}, "body 'a[b' is not a valid regular expression"),
        (
            {"kind": "campaign_failed", "subject": "x"},
            "kind 'campaign_failed' is not a known kind; use one of:",
        ),
        ({"kind": "other"}, "give a subject or a body pattern"),
        ({"kind": "crm_sync", "subject": "x", "fields": {"crm": "crm (a)(b)"}}, "has 2 capture groups"),
        ({"kind": "crm_sync", "subject": "x", "fields": {"crm": "no group"}}, "has 0 capture groups"),
        ({"kind": "crm_sync", "subject": "x", "fields": {"crm": "(("}}, "not a valid regular expression"),
        (
            {"kind": "crm_sync", "subject": "x", "fields": {"crmm": "(x)"}},
            "'crmm' is not a field of kind crm_sync",
        ),
        ({"kind": "other", "subject": "x", "fields": {"subject": "(x)"}}, "set for every e-mail already"),
        ({"kind": "other", "subject": "x", "fields": {"Bad Name": "(x)"}}, "use lower-case letters"),
        ({"kind": "other", "subject": "x", "colour": "red"}, "colour"),
    ],
)
def test_an_invalid_rule_is_refused_saying_what_to_fix(entry: dict[str, Any], said: str) -> None:
    problems = refusal(entry)
    assert said in problems and "email.rules" in problems


def test_email_classify_honours_the_configs_rules(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("email:\n  rules:\n    - {kind: audit, subject: newsletter}\n")
    eml = str(DATA / "other-en.eml")
    assert main(["email", "classify", eml]) == 0
    assert "kind: other" in capsys.readouterr().out
    assert main(["email", "classify", "--config", str(cfg), eml]) == 0
    assert "kind: audit" in capsys.readouterr().out
