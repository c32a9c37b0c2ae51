"""The destination registry: every type is registered whole, and each spec says what the old tables said."""

from __future__ import annotations

import hashlib
import typing
from typing import Any

import pytest

from notifbot.config import Settings, parse_settings
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
