"""Config: `locale` and `timezone`, global and per destination, and one language per channel."""

from __future__ import annotations

import pytest

from notifbot.config import ConfigError, parse_settings
from notifbot.config.checks import semantic_problems
from notifbot.destinations.spec import SenderContext


def test_locale_and_timezone_global_and_per_destination() -> None:
    s = parse_settings(
        {
            "locale": "sv",
            "timezone": "Europe/Stockholm",
            "destinations": {
                "ops-se": {"type": "slack", "channel": "C0123ABCD"},
                "ops-us": {
                    "type": "slack",
                    "channel": "C0999ZZZZ",
                    "locale": "en",
                    "timezone": "America/Chicago",
                },
            },
            "routes": [{"to": ["ops-se", "ops-us"]}],
        },
        source="t",
    )
    ctx = SenderContext(locale=s.locale, timezone=s.timezone)
    se, us = ctx.texts(s.destinations["ops-se"]), ctx.texts(s.destinations["ops-us"])
    assert (se.locale, se.zone and se.zone.key) == ("sv", "Europe/Stockholm")
    assert (us.locale, us.zone and us.zone.key) == ("en", "America/Chicago")
    assert semantic_problems(s) == []


def test_the_default_is_english_without_a_zone() -> None:
    s = parse_settings({}, source="t")
    assert (s.locale, s.timezone) == ("en", None)


def test_unknown_locale_and_zone_are_refused_with_their_paths() -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings(
            {
                "locale": "fr",
                "timezone": "Europe/Stokholm",
                "destinations": {"c": {"type": "console", "timezone": "Mars/Base"}},
                "routes": [{"to": ["c"]}],
            },
            source="t",
        )
    text = "\n".join(err.value.problems)
    assert "locale: " in text and "notifbot speaks en, sv" in text
    assert "timezone: " in text and "'Europe/Stokholm'" in text
    assert "destinations.c.timezone: " in text and "'Mars/Base'" in text


def test_two_destinations_on_one_channel_must_share_a_language() -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings(
            {
                "locale": "sv",
                "destinations": {
                    "a": {"type": "slack", "channel": "C0123ABCD"},
                    "b": {"type": "slack", "channel": "C0123ABCD", "locale": "en"},
                    "c": {"type": "slack", "channel": "C0123ABCD", "locale": "sv"},
                },
                "routes": [{"to": ["a", "b", "c"]}],
            },
            source="t",
        )
    assert err.value.problems == [
        "destinations.b.locale: posts to the same channel as destinations.a with another locale (en vs sv); "
        "give both the same locale"
    ]
