"""server.console and its tokens: on needs an admin token (loopback too), each token long enough, never shown."""

from __future__ import annotations

import pytest

from notifbot.config import parse_settings
from notifbot.config.checks import environment_problems
from notifbot.config.env import Env

ADMIN = "a" * 32
VIEWER = "v" * 40


def problems(env: dict[str, str], **server: object) -> list[str]:
    settings = parse_settings({"server": {"console": True, **server}}, source="test")
    return environment_problems(settings, Env(env))


def test_the_console_is_off_by_default_and_needs_nothing_then() -> None:
    settings = parse_settings({}, source="test")
    assert settings.server.console is False
    assert environment_problems(settings, Env({"NOTIFBOT_CONSOLE_TOKEN": "short"})) == []


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "0.0.0.0"])
def test_on_without_an_admin_token_is_refused_on_loopback_too(host: str) -> None:
    found = [p for p in problems({"NOTIFBOT_WEBHOOK_TOKEN": "w" * 20}, host=host) if "CONSOLE" in p]
    assert len(found) == 1 and found[0].startswith("server.console:")
    assert "NOTIFBOT_CONSOLE_TOKEN" in found[0] and "32" in found[0] and "loopback" in found[0]
    only_viewer = problems({"NOTIFBOT_CONSOLE_VIEWER_TOKEN": VIEWER}, host=host)
    assert [p for p in only_viewer if p.startswith("server.console:")] == found


def test_long_enough_tokens_pass() -> None:
    assert problems({"NOTIFBOT_CONSOLE_TOKEN": ADMIN}) == []
    assert problems({"NOTIFBOT_CONSOLE_TOKEN": ADMIN, "NOTIFBOT_CONSOLE_VIEWER_TOKEN": VIEWER}) == []


def test_a_short_token_is_named_with_its_length_but_never_shown() -> None:
    admin, viewer = "s3cr3t-admin", "s3cr3t-viewer-token"
    found = problems({"NOTIFBOT_CONSOLE_TOKEN": admin, "NOTIFBOT_CONSOLE_VIEWER_TOKEN": viewer})
    assert [p.split(":")[0] for p in found] == [
        "env.NOTIFBOT_CONSOLE_TOKEN",
        "env.NOTIFBOT_CONSOLE_VIEWER_TOKEN",
    ]
    assert "12 characters" in found[0] and "at least 32" in found[0]
    assert not any(admin in p or viewer in p for p in found)


def test_the_viewer_token_must_differ_from_the_admin_token() -> None:
    found = problems({"NOTIFBOT_CONSOLE_TOKEN": ADMIN, "NOTIFBOT_CONSOLE_VIEWER_TOKEN": ADMIN})
    assert (
        len(found) == 1
        and found[0].startswith("env.NOTIFBOT_CONSOLE_VIEWER_TOKEN:")
        and ADMIN not in found[0]
    )


def test_the_tokens_are_redacted_from_logs() -> None:
    env = Env({"NOTIFBOT_CONSOLE_TOKEN": ADMIN, "NOTIFBOT_CONSOLE_VIEWER_TOKEN": VIEWER})
    assert {ADMIN, VIEWER} <= set(env.secrets())
