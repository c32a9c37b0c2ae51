"""Signed requests the sandbox sends verify with the bot's own verifier; tampered or stale ones do not."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qsl

from notifbot.chatops.slack_request import parse_slack_body
from notifbot.sandbox.signing import block_actions, find_button, slash_command
from notifbot.slack.signature import is_valid, verifier

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
MESSAGE = {
    "type": "message",
    "ts": "1733100000.000100",
    "text": "Campaign failed",
    "blocks": [
        {
            "type": "actions",
            "block_id": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "notifbot_ack",
                    "value": "k1",
                    "text": {"type": "plain_text", "text": "Ack"},
                },
                {"type": "button", "action_id": "notifbot_mute", "value": "k1", "style": "danger"},
            ],
        }
    ],
}


def _command() -> tuple[bytes, dict[str, str]]:
    signed = slash_command(
        SECRET,
        command="/marketo",
        text="quota",
        user="U0SANDBOX",
        user_name="you",
        channel="C0SANDBOX1",
        channel_name="alerts",
        response_url="http://127.0.0.1:8090/slack/respond/abc",
    )
    return signed.body, signed.headers


def test_a_signed_slash_command_verifies_and_parses_as_slack_sends_it() -> None:
    body, headers = _command()
    assert is_valid(verifier(SECRET), body, headers)
    parsed = parse_slack_body(body, headers["content-type"])
    assert (parsed["command"], parsed["text"], parsed["user_id"]) == ("/marketo", "quota", "U0SANDBOX")


def test_a_tampered_body_a_wrong_secret_or_a_stale_request_does_not_verify() -> None:
    body, headers = _command()
    assert not is_valid(verifier(SECRET), body.replace(b"quota", b"mute+all"), headers)
    assert not is_valid(verifier("another-secret"), body, headers)
    later = verifier(SECRET, now=lambda: time.time() + 6 * 60)
    assert not is_valid(later, body, headers)


def test_a_button_click_carries_the_button_and_the_message_and_verifies() -> None:
    signed = block_actions(
        SECRET,
        message=MESSAGE,
        channel="C0SANDBOX1",
        channel_name="alerts",
        action_id="notifbot_mute",
        user="U0VIEWER",
        user_name="viewer",
        response_url="http://127.0.0.1:8090/slack/respond/xyz",
    )
    assert is_valid(verifier(SECRET), signed.body, signed.headers)
    parsed = parse_slack_body(signed.body, signed.headers["content-type"])
    [action] = parsed["actions"]
    assert (action["action_id"], action["block_id"], action["value"], action["style"]) == (
        "notifbot_mute",
        "actions",
        "k1",
        "danger",
    )
    assert parsed["container"] == {
        "type": "message",
        "message_ts": MESSAGE["ts"],
        "channel_id": "C0SANDBOX1",
        "is_ephemeral": False,
    }
    assert parsed["message"] == MESSAGE and parsed["user"]["id"] == "U0VIEWER"
    tampered = dict(parse_qsl(signed.body.decode()))
    payload = json.loads(tampered["payload"])
    payload["user"]["id"] = "U0SANDBOX"  # pretend to be the admin
    forged = f"payload={json.dumps(payload)}".encode()
    assert not is_valid(verifier(SECRET), forged, signed.headers)


def test_find_button_matches_action_id_and_value() -> None:
    assert find_button(MESSAGE["blocks"], "notifbot_ack", "k1") is not None
    assert find_button(MESSAGE["blocks"], "notifbot_ack", "k2") is None
    assert find_button(None, "notifbot_ack") is None
