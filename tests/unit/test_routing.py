"""Routing is a pure function of a notification and the route table (docs/reference.md §Configuration, routes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from notifbot.config import parse_settings
from notifbot.model import Notification
from notifbot.routing import matches, route
from notifbot.sources.events import parse_event

NOW = datetime(2026, 11, 29, tzinfo=UTC)
CONFIG: dict[str, Any] = {
    "destinations": {
        "ops": {"type": "slack", "channel": "C1"},
        "crm": {"type": "slack", "channel": "C2"},
        "emea": {"type": "slack", "channel": "C3"},
        "audit-log": {"type": "console"},
    },
    "routes": [
        {"match": {"kind": "audit"}, "to": "audit-log"},
        {"match": {"kind": "crm_sync", "crm": "salesforce"}, "to": ["crm", "ops"]},
        {"match": {"team": "emea"}, "to": ["emea"], "continue": True},
        {"match": {"severity": ["critical", "warning"], "instance": "123-ABC-456"}, "to": ["crm"]},
        {"match": {"kind": "program_status"}, "to": ["audit-log"]},
        {"to": ["ops"]},
    ],
}


def dests(event: dict[str, Any]) -> list[str]:
    settings = parse_settings(CONFIG, source="test")
    return route(parse_event(event, now=NOW), settings.routes)


def test_first_match_wins() -> None:
    assert dests({"kind": "audit", "labels": {"team": "emea"}}) == ["audit-log"]


def test_field_match_and_multiple_destinations_in_order() -> None:
    assert dests({"kind": "crm_sync", "fields": {"crm": "salesforce"}}) == ["crm", "ops"]
    assert dests({"kind": "crm_sync", "fields": {"crm": "dynamics"}}) == ["ops"]


def test_label_match_with_continue_collects_more() -> None:
    assert dests({"kind": "engagement", "labels": {"team": "emea"}}) == ["emea", "ops"]


def test_list_means_any_of_and_all_keys_must_match() -> None:
    assert dests({"kind": "engagement", "severity": "warning", "instance": "123-ABC-456"}) == ["crm"]
    assert dests({"kind": "engagement", "severity": "info", "instance": "123-ABC-456"}) == ["ops"]
    assert dests({"kind": "engagement", "severity": "warning", "instance": "999-XYZ-000"}) == ["ops"]


def test_unknown_kind_routes_as_other_or_by_its_own_name() -> None:
    assert dests({"kind": "program_status"}) == ["audit-log"]
    assert dests({"kind": "brand_new_thing"}) == ["ops"]


def test_numbers_and_booleans_compare_as_text() -> None:
    settings = parse_settings(
        {
            "destinations": {"a": {"type": "console"}, "b": {"type": "console"}},
            "routes": [{"match": {"failed_leads": 5, "urgent": True}, "to": "a"}, {"to": "b"}],
        },
        source="t",
    )
    n = parse_event({"kind": "crm_sync", "fields": {"failed_leads": 5, "urgent": True}}, now=NOW)
    assert route(n, settings.routes) == ["a"]
    n = parse_event({"kind": "crm_sync", "fields": {"failed_leads": 6, "urgent": True}}, now=NOW)
    assert route(n, settings.routes) == ["b"]


def test_a_destination_is_listed_once() -> None:
    settings = parse_settings(
        {
            "destinations": {"a": {"type": "console"}},
            "routes": [{"to": "a", "continue": True}, {"to": ["a"]}],
        },
        source="t",
    )
    assert route(parse_event({"kind": "audit"}, now=NOW), settings.routes) == ["a"]


def note(**event: Any) -> Notification:
    return parse_event({"kind": "crm_sync", **event}, now=NOW)


@pytest.mark.parametrize(
    ("wanted", "actual", "hit"),
    [
        (True, True, True),
        (True, False, False),
        (False, False, True),
        (False, True, False),
        ("true", True, True),  # a YAML string "true" and a JSON true are the same text
        (True, "true", True),
        ("false", False, True),
        (False, "false", True),
        ("True", True, False),  # booleans compare as lower-case JSON text, not Python's
        (True, 1, False),
        (False, 0, False),
        (5, 5.0, True),  # a whole float compares as the integer
        ("5", 5.0, True),
        (5.0, "5", True),
        (5, 5.5, False),
        (5.5, "5.5", True),
        (["x", 5], 5, True),  # a list is any of its values
        (["x", True], "true", True),
        ([False, 6], True, False),
    ],
)
def test_values_compare_as_text(wanted: Any, actual: Any, hit: bool) -> None:
    assert matches(note(fields={"v": actual}), {"v": wanted}) is hit


def test_a_missing_value_never_matches() -> None:
    bare = note()
    assert bare.instance is None
    assert not matches(bare, {"instance": "None"})
    assert not matches(bare, {"instance": ""})
    assert not matches(bare, {"team": "None"})
    assert not matches(note(fields={"team": None}), {"team": "None"})
    assert matches(note(instance="123-ABC-456"), {"instance": "123-ABC-456"})


def test_fields_come_before_labels_and_a_null_field_falls_through() -> None:
    assert matches(note(fields={"team": "apac"}, labels={"team": "emea"}), {"team": "apac"})
    assert not matches(note(fields={"team": "apac"}, labels={"team": "emea"}), {"team": "emea"})
    assert matches(note(fields={"team": None}, labels={"team": "emea"}), {"team": "emea"})
    assert matches(note(labels={"team": "emea"}), {"team": "emea"})


def test_kind_matches_its_code_or_the_name_it_came_with() -> None:
    unknown = parse_event({"kind": "program_status"}, now=NOW)
    assert matches(unknown, {"kind": "other"}) and matches(unknown, {"kind": "program_status"})
    assert matches(note(severity="critical"), {"severity": "critical"})
    assert not matches(note(severity="critical"), {"severity": "warning"})
    assert matches(note(), {}) and matches(note(), {"kind": "crm_sync"})
