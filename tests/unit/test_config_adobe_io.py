"""The adobe_io section: defaults, validation and environment problems as `path: message`."""

from __future__ import annotations

import pytest

from notifbot.config import ConfigError, parse_settings
from notifbot.config.checks import environment_problems
from notifbot.config.env import Env


def test_defaults_verify_signatures_and_restart_latest() -> None:
    s = parse_settings({"adobe_io": {}}, source="t")
    assert s.adobe_io is not None
    assert s.adobe_io.verify_signatures is True and s.adobe_io.journal_restart == "latest"
    assert Env({}).adobe_keys_url == "https://static.adobeioevents.com"
    assert Env({}).adobe_ims_url(s.adobe_io) == "https://ims-na1.adobelogin.com/ims/token/v3"


def test_bad_values_are_located() -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings(
            {
                "adobe_io": {
                    "journal_url": "http://events.adobe.io/x",
                    "journal_restart": "oldest",
                    "verify": 1,
                }
            },
            source="t",
        )
    text = "\n".join(err.value.problems)
    assert "adobe_io.journal_restart:" in text and "adobe_io.verify:" in text
    with pytest.raises(ConfigError) as err2:
        parse_settings({"adobe_io": {"journal_url": "http://events.adobe.io/x"}}, source="t")
    assert err2.value.problems[0].startswith("adobe_io.journal_url: use the https")


def test_missing_credentials_are_explained() -> None:
    s = parse_settings(
        {"adobe_io": {"journal_url": "https://events-va6.adobe.io/organizations/o/i/r"}}, source="t"
    )
    problems = environment_problems(s, Env({}))
    assert any(p.startswith("adobe_io.client_id: ") and "ADOBE_CLIENT_ID" in p for p in problems)
    assert any(p.startswith("env.ADOBE_CLIENT_SECRET: ") for p in problems)
    ok = Env({"ADOBE_CLIENT_ID": "cid", "ADOBE_CLIENT_SECRET": "sec"})
    assert environment_problems(s, ok) == []
    insecure = Env(
        {"ADOBE_CLIENT_ID": "cid", "ADOBE_CLIENT_SECRET": "sec", "ADOBE_IO_KEYS_URL": "http://keys.example"}
    )
    assert any(p.startswith("env.ADOBE_IO_KEYS_URL: ") for p in environment_problems(s, insecure))


def test_webhook_only_needs_no_secret_and_the_secret_is_redacted() -> None:
    s = parse_settings({"adobe_io": {"client_id": "cid"}}, source="t")
    assert environment_problems(s, Env({})) == []
    assert "adobe-s3cret" in Env({"ADOBE_CLIENT_SECRET": "adobe-s3cret"}).secrets()
