"""The destination registry: every type is registered whole, and each spec says what the old tables said."""

from __future__ import annotations

import hashlib
import json
import typing
from datetime import UTC, datetime
from typing import Any

import pytest

from notifbot.config import Settings, parse_settings
from notifbot.delivery.group_flush import GroupSender
from notifbot.delivery.settings import DeliverySettings
from notifbot.destinations import (
    DESTINATION_TYPES,
    SPECS,
    Destination,
    SenderContext,
    build_senders,
    describe,
    intervals,
    target_of,
)
from notifbot.destinations.console import ConsoleDelivery
from notifbot.destinations.slack import SlackDelivery
from notifbot.i18n import EN, texts_for
from notifbot.kinds import load_samples
from notifbot.render.slack import render_slack
from notifbot.sources.events import parse_event
from tests.unit.senders import send_in_two_languages

URL = "https://x.environment.api.powerplatform.com/workflows/1/triggers/manual/paths/invoke?sig=s3cr3tsig"
TEAM = "0a1b2c3d-4e5f-4a5b-8c7d-9e0f1a2b3c4d"
CHANNEL = "19:ops0123456789@thread.tacv2"
DESTINATIONS: dict[str, dict[str, Any]] = {
    "alerts": {"type": "slack", "channel": "C0123ABCD"},
    "ops": {"type": "teams", "team_id": TEAM, "channel_id": CHANNEL},
    "flow": {"type": "teams_workflow", "url": URL},
    "log": {"type": "console", "format": "json"},
}


def settings() -> Settings:
    return parse_settings(
        {"destinations": DESTINATIONS, "routes": [{"to": list(DESTINATIONS)}]}, source="test"
    )


def test_the_config_union_and_the_registry_list_the_same_types() -> None:
    union, _field = typing.get_args(Destination)
    models = set(typing.get_args(union))
    assert models == {spec.model for spec in SPECS.values()}
    for name, spec in SPECS.items():
        assert spec.type == name
        assert typing.get_args(spec.model.model_fields["type"].annotation) == (name,)
    assert set(DESTINATION_TYPES) == set(SPECS) == {d["type"] for d in DESTINATIONS.values()}


def test_targets_are_channels_or_secret_free_stand_ins() -> None:
    dests = settings().destinations
    assert {name: target_of(d) for name, d in dests.items()} == {
        "alerts": "C0123ABCD",
        "ops": f"{TEAM}/{CHANNEL}",
        "flow": "workflow-" + hashlib.sha256(URL.encode()).hexdigest()[:16],
        "log": "stdout",
    }


def test_descriptions_for_routes_never_show_the_workflow_url() -> None:
    dests = settings().destinations
    assert {name: describe(d) for name, d in dests.items()} == {
        "alerts": "Slack channel C0123ABCD",
        "ops": f"Teams channel {CHANNEL} in team {TEAM}",
        "flow": "Teams workflow webhook",
        "log": "console, json",
    }
    sv = texts_for("sv")
    assert {name: describe(d, sv) for name, d in dests.items()} == {
        "alerts": "Slack-kanalen C0123ABCD",
        "ops": f"Teams-kanalen {CHANNEL} i teamet {TEAM}",
        "flow": "Teams-arbetsflödets webhook",
        "log": "konsolen, json",
    }


def test_pacing_comes_from_the_delivery_settings_per_type() -> None:
    assert intervals(DeliverySettings()) == {
        "slack": 1.0,
        "teams": 1.0,
        "teams_workflow": 0.25,
        "console": 0.0,
    }
    custom = DeliverySettings(
        slack_interval_seconds=2, teams_interval_seconds=3, teams_workflow_interval_seconds=4
    )
    assert intervals(custom) == {"slack": 2.0, "teams": 3.0, "teams_workflow": 4.0, "console": 0.0}


@pytest.mark.parametrize(
    ("configured", "built"),
    [
        ({}, {"console"}),
        ({"alerts"}, {"console", "slack"}),
        ({"ops"}, {"console"}),  # no Graph client in the context: no teams sender
        ({"flow", "log"}, {"console", "teams_workflow"}),
    ],
)
async def test_senders_are_built_for_the_types_in_use(configured: set[str], built: set[str]) -> None:
    dests = {n: d for n, d in settings().destinations.items() if n in configured}
    senders = build_senders(dests, SenderContext())
    try:
        assert set(senders) == built
        assert all(s.dest_type == name for name, s in senders.items())
    finally:
        for sender in senders.values():
            await sender.close()


def _localised(**extra: Any) -> Settings:
    dests = {
        "svenska": {"type": "slack", "channel": "C0SWEDISH", "locale": "sv", "timezone": "Europe/Stockholm"},
        "english": {"type": "slack", "channel": "C0ENGLISH"},
        "log": {"type": "console", "locale": "sv"},
    }
    return parse_settings({"destinations": dests, "routes": [{"to": list(dests)}], **extra}, source="test")


async def test_a_swedish_destination_posts_swedish_while_another_stays_english() -> None:
    n = parse_event(load_samples()["campaign_failure"], now=datetime(2026, 11, 28, 10, tzinfo=UTC))
    swedish, english, console = await send_in_two_languages(
        _localised().destinations, n, slack_interactive=True
    )
    assert "Kvittera" in swedish and "Vad du gör nu" in swedish and "28 nov. 2026 11:00 CET" in swedish
    assert "Acknowledge" not in swedish and "What to do" not in swedish
    assert "Acknowledge" in english and "What to do" in english and "Nov 28, 2026 10:00 UTC" in english
    assert english == json.dumps(render_slack(n, interactive=True)["blocks"], ensure_ascii=False)
    assert "Vad du gör nu" in console and "Instans 123-ABC-456" in console


def test_each_sender_knows_the_language_of_each_target() -> None:
    ctx = SenderContext(locale="sv", timezone=None)
    dests = _localised(locale="en").destinations
    senders = build_senders({k: v for k, v in dests.items() if k != "english"}, ctx)
    for sender in senders.values():
        assert isinstance(sender, GroupSender)
    slack, console = senders["slack"], senders["console"]
    assert isinstance(slack, SlackDelivery) and isinstance(console, ConsoleDelivery)
    assert slack.texts("C0SWEDISH").locale == "sv" and slack.texts("C0SWEDISH").zone is not None
    assert console.texts("stdout").locale == "sv"
    # a target no destination names any more (rows left in the outbox): the global language
    assert slack.texts("C0GONE").locale == "sv" and slack.texts("C0GONE").zone is None
    english = build_senders({}, SenderContext())["console"].texts("stdout")
    assert (english.locale, english.zone) == (EN.locale, EN.zone)
