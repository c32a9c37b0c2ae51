"""`SlackUsers`: a user's locale and zone through users.info (the real slack_sdk client against the fake Slack)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from notifbot.chatops.slack_users import UNKNOWN, SlackUsers, UserLocale
from tests.fakes.slack import SCOPES, FakeSlack

TOKEN = "xoxb-users-test"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, min_interval=0.0) as fake:
        yield fake


def users(slack: FakeSlack, **options: float) -> SlackUsers:
    return SlackUsers(AsyncWebClient(token=TOKEN, base_url=slack.api_url), **options)


def info_calls(slack: FakeSlack) -> list[dict[str, object]]:
    return [params for method, params in slack.requests if method == "users.info"]


async def test_locale_and_zone_are_read_and_cached_per_user(slack: FakeSlack) -> None:
    slack.set_user("U1", "sv-SE", "Europe/Stockholm")
    slack.set_user("U2", "en-US", None)
    found = users(slack)
    assert await found.locale_of("U1") == UserLocale("sv-SE", "Europe/Stockholm")
    assert await found.locale_of("U1") == UserLocale("sv-SE", "Europe/Stockholm")
    assert await found.locale_of("U2") == UserLocale("en-US", None)
    calls = info_calls(slack)
    assert [c["user"] for c in calls] == ["U1", "U2"]  # the second U1 came from the cache
    assert all(str(c["include_locale"]).lower() in ("1", "true") for c in calls)  # Slack's opt-in


async def test_the_cache_expires_and_stays_bounded(slack: FakeSlack) -> None:
    clock = [0.0]
    for user in ("U1", "U2", "U3"):
        slack.set_user(user, "sv-SE")
    found = SlackUsers(
        AsyncWebClient(token=TOKEN, base_url=slack.api_url), size=2, ttl=10.0, now=lambda: clock[0]
    )
    for user in ("U1", "U2", "U3"):
        await found.locale_of(user)
    await found.locale_of("U1")  # pushed out by U3: asked again
    clock[0] = 11.0
    await found.locale_of("U1")  # expired: asked again
    assert [c["user"] for c in info_calls(slack)] == ["U1", "U2", "U3", "U1", "U1"]


async def test_missing_scope_falls_through_and_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with FakeSlack(token=TOKEN, min_interval=0.0, scopes=set(SCOPES) - {"users:read"}) as slack:
        slack.set_user("U1", "sv-SE")
        slack.set_user("U2", "sv-SE")
        found = users(slack)
        with caplog.at_level(logging.INFO, logger="notifbot.slack"):
            assert await found.locale_of("U1") == UNKNOWN
            assert await found.locale_of("U2") == UNKNOWN
            assert await found.locale_of("U1") == UNKNOWN  # cached: not asked again
    assert len(info_calls(slack)) == 2
    assert [r.getMessage() for r in caplog.records if "users:read" in r.getMessage()] == [
        "slack users.info: missing_scope; add the bot scope users:read so replies use each user's language"
    ]


async def test_a_slow_answer_is_not_waited_for(slack: FakeSlack) -> None:
    slack.set_user("U1", "sv-SE", "Europe/Stockholm")
    slack.users_info_delay = 1.0
    assert await users(slack, timeout=0.2).locale_of("U1") == UNKNOWN


async def test_unknown_users_and_no_user(slack: FakeSlack) -> None:
    found = users(slack)
    assert await found.locale_of("U0NOBODY") == UNKNOWN  # user_not_found
    assert await found.locale_of("") == UNKNOWN
    assert [c["user"] for c in info_calls(slack)] == ["U0NOBODY"]
