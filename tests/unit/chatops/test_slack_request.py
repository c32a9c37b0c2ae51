"""parse_slack_body: what Slack really sends passes unchanged; what it could not have sent is an InputError."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from notifbot.chatops.slack_request import id_of, parse_slack_body
from notifbot.errors import InputError

FORM = "application/x-www-form-urlencoded"

# The shape of a real block_actions payload (a button in a message), nulls included.
BLOCK_ACTIONS: dict[str, Any] = {
    "type": "block_actions",
    "user": {"id": "U0ADMIN", "username": "ana", "name": "ana", "team_id": "T1"},
    "api_app_id": "A1",
    "token": "verification",
    "container": {"type": "message", "message_ts": "1.1", "channel_id": "C1", "is_ephemeral": False},
    "trigger_id": "1.2.3",
    "team": {"id": "T1", "domain": "example"},
    "enterprise": None,
    "is_enterprise_install": False,
    "channel": {"id": "C1", "name": "ops"},
    "message": {"type": "message", "ts": "1.1", "text": "x", "blocks": []},
    "state": {"values": {}},
    "response_url": "https://hooks.slack.com/actions/T1/1/abc",
    "actions": [
        {"action_id": "notifbot_ack", "block_id": "b", "text": {"type": "plain_text", "text": "Ack"}},
        {"action_id": "notifbot_mute_24h", "value": "crm_sync", "type": "button", "action_ts": "1"},
    ],
}


def form(payload: Any) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def test_a_real_block_actions_payload_passes_unchanged() -> None:
    assert parse_slack_body(form(BLOCK_ACTIONS), FORM) == BLOCK_ACTIONS


def test_a_slash_command_form_is_its_fields() -> None:
    fields = {"command": "/marketo", "text": "mute payload 1h", "user_id": "U1", "channel_id": "C1"}
    assert parse_slack_body(urlencode(fields).encode(), FORM + "; charset=utf-8") == fields


def test_a_view_submission_and_an_event_callback_pass() -> None:
    view = {"type": "view_submission", "user": {"id": "U1"}, "view": {"id": "V1", "team_id": "T1"}}
    view["response_urls"] = []
    assert parse_slack_body(form(view), FORM) == view
    event = {"type": "event_callback", "team_id": "T1", "authorizations": [{"team_id": "T1"}]}
    event["event"] = {
        "type": "message",
        "user": "U1",
        "channel": "C1",
        "text": "hi",
        "item": {"channel": "C1"},
    }
    assert parse_slack_body(json.dumps(event).encode(), "application/json") == event


@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        (b"text=\xff", FORM, "not UTF-8"),
        (b"payload=%5B%5D", FORM, "`payload` must be a JSON object, not a list"),
        (b"payload=1", FORM, "`payload` must be a JSON object, not a number"),
        (b"payload=", FORM, "`payload` is not JSON"),
        (b"[]", "application/json", "the JSON body must be a JSON object"),
        (b'{"a": "\\udc00"}', "application/json", "lone surrogate"),
        (json.dumps({"command": 1}).encode(), "application/json", "command must be a string, not a number"),
        (json.dumps({"event": None}).encode(), "application/json", "event must be an object, not null"),
        (json.dumps({"event": {"user": 1}}).encode(), "application/json", "event.user must be an object or"),
        (json.dumps({"response_urls": None}).encode(), "application/json", "response_urls must be a list"),
        (json.dumps({"authorizations": [1]}).encode(), "application/json", "authorizations must be a list"),
        (json.dumps({"view": {"team": [1]}}).encode(), "application/json", "view.team must be an object or"),
    ],
)
def test_shapes_slack_never_sends_are_refused(body: bytes, content_type: str, says: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_slack_body(body, content_type)
    assert says in str(raised.value)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"user": "U0ADMIN"}, "user must be an object with a string id, not a string"),
        ({"user": None}, "user must be an object with a string id, not null"),
        ({"channel": "C1"}, "channel must be an object, not a string"),
        ({"actions": []}, "actions must be a non-empty list of objects"),
        ({"actions": [{"value": "x"}]}, "actions[0].action_id must be a string, not null"),
        ({"actions": [{"action_id": "a", "value": 1}]}, "actions[0].value must be a string"),
        ({"container": {"channel_id": 5}}, "container.channel_id must be a string"),
        ({"message": {"ts": 1.5}}, "message.ts must be a string"),
    ],
)
def test_block_actions_need_who_and_which_button(change: dict[str, Any], says: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_slack_body(form({**BLOCK_ACTIONS, **change}), FORM)
    assert says in str(raised.value) and str(raised.value).startswith("malformed Slack request")


def test_block_actions_without_actions_is_refused() -> None:
    payload = {k: v for k, v in BLOCK_ACTIONS.items() if k != "actions"}
    with pytest.raises(InputError, match="actions is required"):
        parse_slack_body(form(payload), FORM)


def test_id_of_reads_objects_and_strings() -> None:
    assert id_of({"id": "U1"}) == "U1"
    assert id_of("U2") == "U2"
    assert id_of({"name": "x"}) == "" and id_of(None) == "" and id_of(5) == ""


def test_a_modal_payload_needs_its_view_and_a_null_view_elsewhere_is_dropped() -> None:
    with pytest.raises(InputError, match="view must be an object in view_submission, not null"):
        parse_slack_body(form({"type": "view_submission", "view": None}), FORM)
    with pytest.raises(InputError, match="view must be an object, not a list"):
        parse_slack_body(form({"type": "view_closed", "view": []}), FORM)
    assert parse_slack_body(form({"type": "event_callback", "view": None}), FORM) == {
        "type": "event_callback"
    }
