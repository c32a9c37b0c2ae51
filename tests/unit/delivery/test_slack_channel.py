"""Recognising a row's earlier post among a channel's messages."""

from __future__ import annotations

from typing import Any

import pytest

from notifbot.destinations.slack import alert_metadata, is_post_of


def message(metadata: Any) -> dict[str, Any]:
    return {"type": "message", "ts": "1.000001", "text": "x", "metadata": metadata}


def test_the_metadata_every_post_carries_identifies_it() -> None:
    meta = alert_metadata(7, "evt-1")
    assert meta == {"event_type": "notifbot_alert", "event_payload": {"outbox_id": 7, "key": "evt-1"}}
    assert is_post_of(message(meta), 7, "evt-1")


@pytest.mark.parametrize(
    "metadata",
    [
        None,
        "notifbot_alert",
        {"event_type": "other_app", "event_payload": {"outbox_id": 7, "key": "evt-1"}},
        {"event_type": "notifbot_alert"},
        {"event_type": "notifbot_alert", "event_payload": ["evt-1"]},
        {"event_type": "notifbot_alert", "event_payload": {"outbox_id": 7, "key": "evt-2"}},
        {"event_type": "notifbot_alert", "event_payload": {"outbox_id": 8, "key": "evt-1"}},
        {"event_type": "notifbot_alert", "event_payload": {"outbox_id": "7", "key": "evt-1"}},
    ],
)
def test_other_messages_are_not_it(metadata: Any) -> None:
    assert not is_post_of(message(metadata), 7, "evt-1")


def test_a_post_without_a_row_id_matches_on_the_key() -> None:
    assert is_post_of(
        message({"event_type": "notifbot_alert", "event_payload": {"key": "evt-1"}}), 7, "evt-1"
    )
    assert not is_post_of({"type": "message", "ts": "1.0"}, 7, "evt-1")
