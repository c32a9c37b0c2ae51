"""The email section: the issue's key names, defaults, and each refusal worded to say what to do."""

from __future__ import annotations

from typing import Any

import pytest

from notifbot.config import ConfigError, Env, environment_problems, parse_settings, settings_secrets


def box(**imap: Any) -> dict[str, Any]:
    settings = {"host": "imap.example.com", "username": "alerts@example.com", "password": "s3cret-pw", **imap}
    return {"name": "marketo-alerts", "imap": {k: v for k, v in settings.items() if v is not None}}


def problems(*mailboxes: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as err:
        parse_settings({"email": {"mailboxes": list(mailboxes)}}, source="t")
    return "\n".join(err.value.problems)


def test_the_issue_example_parses_with_its_defaults() -> None:
    s = parse_settings(
        {
            "email": {
                "mailboxes": [
                    {
                        "name": "marketo-alerts",
                        "imap": {
                            "host": "imap.example.com",
                            "port": 993,
                            "security": "tls",
                            "username": "u",
                            "password": "p4ss",
                            "folder": "INBOX",
                            "processed_folder": "notifbot/processed",
                        },
                        "instance": "123-ABC-456",
                        "poll_seconds": 60,
                        "allowed_senders": [],
                    }
                ]
            }
        },
        source="t",
    )
    [m] = s.email.mailboxes
    assert (m.imap.effective_port, m.imap.processed_keyword, m.max_message_bytes) == (
        993,
        None,
        10 * 1024 * 1024,
    )
    assert parse_settings({}, source="t").email.mailboxes == []
    assert settings_secrets(s) == ["p4ss"]  # redacted from logs


def test_default_ports_follow_security() -> None:
    s = parse_settings({"email": {"mailboxes": [box(security="starttls")]}}, source="t")
    assert s.email.mailboxes[0].imap.effective_port == 143


def test_plain_is_refused_off_loopback_with_what_to_do() -> None:
    text = problems(box(security="plain"))
    assert text == (
        "email.mailboxes[0].imap: Value error, security plain sends the password unencrypted and is allowed only "
        "to a loopback host (127.0.0.1, ::1, localhost), not 'imap.example.com': use security tls (port 993) or "
        "starttls (port 143)"
    )
    for host in ("127.0.0.1", "::1", "localhost"):
        parse_settings({"email": {"mailboxes": [box(security="plain", host=host)]}}, source="t")


@pytest.mark.parametrize(
    "imap",
    [
        {"password": None},
        {"xoauth2_token_env": "IMAP_TOKEN"},
        {"password": None, "xoauth2_token_env": "T", "xoauth2_token_command": ["x"]},
    ],
)
def test_exactly_one_way_to_log_in(imap: dict[str, Any]) -> None:
    assert "set exactly one of password, xoauth2_token_env" in problems(box(**imap))


def test_the_token_command_may_be_one_string() -> None:
    imap = box(password=None, xoauth2_token_command="gcloud auth print-access-token --account 'a b'")
    s = parse_settings({"email": {"mailboxes": [imap]}}, source="t")
    assert s.email.mailboxes[0].imap.xoauth2_token_command == [
        "gcloud",
        "auth",
        "print-access-token",
        "--account",
        "a b",
    ]


def test_names_are_unique_and_folders_differ() -> None:
    assert "marketo-alerts is used more than once" in problems(box(), box())
    assert "processed_folder must differ from folder" in problems(
        box(folder="Done", processed_folder="/Done/")
    )
    parse_settings(
        {"email": {"mailboxes": [box(folder="X", processed_folder="X", processed_keyword="Done")]}},
        source="t",
    )


def test_bad_values_are_located() -> None:
    bad = {**box(), "allowed_senders": ["marketo.com"], "instance": "abc", "poll_seconds": 0, "extra": 1}
    text = problems(bad)
    for path in ("allowed_senders[0]", "instance", "poll_seconds", "extra"):
        assert f"email.mailboxes[0].{path}:" in text, text
    assert "email.mailboxes[0].imap.processed_keyword:" in problems(box(processed_keyword="two words"))


def test_a_token_variable_that_is_not_set_is_an_environment_problem() -> None:
    s = parse_settings(
        {"email": {"mailboxes": [box(password=None, xoauth2_token_env="IMAP_TOKEN")]}}, source="t"
    )
    assert environment_problems(s, Env({})) == [
        "email.mailboxes[0].imap.xoauth2_token_env: the environment variable IMAP_TOKEN is not set: set it to an "
        "OAuth2 access token for the mailbox, or use xoauth2_token_command"
    ]
    assert environment_problems(s, Env({"IMAP_TOKEN": "ya29.token"})) == []
