"""`ab_test_result` is a registered kind everywhere: Adobe intake, events, mute, recent, routes (no `other` half state)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from notifbot.commands.parse import Command, parse
from notifbot.config import parse_settings
from notifbot.i18n import texts_for
from notifbot.kinds import describe, load_samples
from notifbot.model import Kind
from notifbot.render.slack import render_slack
from notifbot.render.teams import render_teams
from notifbot.routing import route
from notifbot.sources.adobe_io.mapping import to_notification, unwrap
from notifbot.sources.events import parse_event
from notifbot.store.events import insert_notifications
from notifbot.store.mutes import active_mutes
from notifbot.store.runner import Database
from tests.unit.commands.conftest import NOW, OPS, Harness, make_harness, settings
from tests.unit.render.helpers import strings

TEST_GROUP = {
    "eventid": "ab-1",
    "event": {
        "body": {
            "type": "com.adobe.platform.marketo.notification.test_group",
            "time": "2026-11-30T18:00:00Z",
            "data": {"munchkinId": "123-ABC-456", "eventAction": {"programName": "News", "winner": "B"}},
        }
    },
    "recipientclientid": "cid",
}


SAMPLE = parse_event(load_samples()["ab_test_result"], now=NOW)
SV = texts_for("sv")


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Harness]:
    db = Database(tmp_path / "n.db")
    yield make_harness(db, settings())
    db.close()


def test_adobe_and_event_intake_agree_on_the_kind() -> None:
    adobe = to_notification(unwrap(TEST_GROUP), now=NOW)
    posted = parse_event({"kind": "ab_test_result", "fields": {"program_name": "News"}}, now=NOW)
    for n in (adobe, posted):
        assert n.kind is Kind.AB_TEST_RESULT and n.kind_label == "ab_test_result" and n.original_kind is None
    assert adobe.fields["program_name"] == "News" and adobe.fields["winner"] == "B"


def test_commands_accept_it_like_any_other_kind() -> None:
    assert parse('mute ab_test_result 2h --reason "weekly tests"').kind == "ab_test_result"
    assert parse("recent ab_test_result 5") == Command("recent", kind="ab_test_result", number=5)
    assert parse("unmute ab_test_result") == Command("unmute", kind="ab_test_result")


def test_routes_match_it_by_its_own_name_and_no_longer_as_other() -> None:
    config = {
        "destinations": {
            "email": {"type": "console"},
            "misc": {"type": "console"},
            "ops": {"type": "console"},
        },
        "routes": [
            {"match": {"kind": "other"}, "to": "misc"},
            {"match": {"kind": "ab_test_result"}, "to": "email"},
            {"to": "ops"},
        ],
    }
    routes = parse_settings(config, source="test").routes
    assert route(to_notification(unwrap(TEST_GROUP), now=NOW), routes) == ["email"]
    assert route(parse_event({"kind": "brand_new_thing"}, now=NOW), routes) == ["misc"]


async def test_mute_covers_what_routing_and_recent_see(bot: Harness) -> None:
    muted = await bot.ask('mute ab_test_result 2h --reason "weekly tests"')
    assert muted.ok and muted.title == "Muted ab_test_result for 2 h"
    [mute] = await bot.db.call(active_mutes, bot.now)
    n = to_notification(unwrap(TEST_GROUP), now=NOW)
    assert mute.covers(n, bot.now)
    assert not mute.covers(parse_event({"kind": "brand_new_thing"}, now=NOW), bot.now)
    await bot.db.call(insert_notifications, [(n, [OPS])], {n.key: mute.id})
    text = await bot.text("recent ab_test_result")
    assert "A/B test result: News" in text and "muted (ab_test_result mute by U0ADMIN (ana))" in text
    assert "No other notifications stored yet." in await bot.text("recent other")


def test_the_message_words_codes_and_rates_for_a_reader() -> None:
    en, sv = dict(describe(SAMPLE).facts), dict(describe(SAMPLE, t=SV).facts)
    assert (en["Test"], en["Winning criteria"], en["Open rate"]) == (
        "Subject line",
        "Open rate",
        "A 21.3% · B 24.7%",
    )
    assert (sv["Test"], sv["Vinnarkriterium"], sv["Öppningsfrekvens"]) == (
        "Ämnesrad",
        "Öppningsfrekvens",
        "A 21,3\xa0% · B 24,7\xa0%",
    )


def test_codes_it_does_not_know_stay_readable_and_odd_rates_come_as_given() -> None:
    fields = {
        "test_type": "Send_Hour",
        "winning_criteria": "Clicks to Conversions",
        "click_rate_b": "0.05",
        "click_rate_a": 0.0412,
        "reply_rate_c": "n/a",
        "open_rate_a": "21.3%",
        "open_rate_b": None,
    }
    facts = describe(parse_event({"kind": "ab_test_result", "fields": fields}, now=NOW)).facts
    assert facts == [
        ("Test", "Send Hour"),
        ("Winning criteria", "Clicks to Conversions"),
        ("Open rate", "A 21.3%"),
        ("Click rate", "A 4.1% · B 5%"),
        ("Reply rate", "C n/a"),
    ]
    assert dict(
        describe(
            parse_event({"kind": "ab_test_result", "fields": {"test_type": "Subject Line"}}, now=NOW)
        ).facts
    ) == {"Test": "Subject line"}


@pytest.mark.parametrize("locale", ["en", "sv"])
def test_no_raw_value_and_the_url_once_as_the_button(locale: str) -> None:
    t = texts_for(locale)
    url = SAMPLE.fields["url"]
    for message in (render_slack(SAMPLE, interactive=True, texts=t), render_teams(SAMPLE, texts=t)):
        texts = list(strings(message))
        assert sum(text.count(url) for text in texts) == 1, "the URL is the Open button's, shown nowhere else"
        assert not any(
            raw in text for text in texts for raw in ("subject_line", "open_rate", "0.213", "0.247")
        )
