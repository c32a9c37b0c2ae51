"""Properly signed Slack requests with odd bodies get a 4xx, never a 5xx (issue #10 item 10)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from notifbot.app import Bot
from tests.fakes.slack import FakeSlack
from tests.integration.conftest import BotFactory, client_for
from tests.integration.test_slack_app import SECRET, slack, start

__all__ = ["slack"]  # the fixture, re-exported for pytest

FORM = "application/x-www-form-urlencoded"


def signed(body: bytes, content_type: str = FORM) -> dict[str, str]:
    """Slack's v0 signature over the raw bytes, whatever they are."""
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": content_type,
    }


async def post(bot: Bot, body: bytes, content_type: str = FORM) -> httpx.Response:
    async with client_for(bot) as client:
        return await client.post("/slack/events", content=body, headers=signed(body, content_type))


def action(response_url: str, **changes: Any) -> bytes:
    """A block_actions payload (the ack button) with some fields replaced."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "U0ADMIN", "username": "ana"},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "container": {"type": "message", "message_ts": "1.1", "channel_id": "C1"},
        "channel": {"id": "C1"},
        "message": {"ts": "1.1", "text": "x"},
        "response_url": response_url,
        "actions": [{"type": "button", "action_id": "notifbot_ack", "value": "k", "action_ts": "1"}],
    }
    payload.update(changes)
    return urlencode({"payload": json.dumps(payload)}).encode()


async def test_invalid_utf8_body_is_400(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start(bot_factory, slack)
    r = await post(bot, b"command=%2Fmarketo&text=\xff\xfe&user_id=U1")
    assert r.status_code == 400 and "UTF-8" in r.json()["error"]


async def test_unsigned_invalid_utf8_body_is_not_a_5xx(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start(bot_factory, slack)
    async with client_for(bot) as client:
        forged = {**signed(b"x"), "Content-Type": FORM}
        r = await client.post("/slack/events", content=b"\xff", headers=forged)
    assert r.status_code in (400, 401)


async def test_non_ascii_signature_header_is_401(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start(bot_factory, slack)
    headers = {**signed(b"command=%2Fmarketo"), "X-Slack-Signature": "v0=\u00e9".encode("latin-1")}
    async with client_for(bot) as client:
        r = await client.post("/slack/events", content=b"command=%2Fmarketo", headers=headers)
    assert r.status_code == 401


async def test_payload_that_is_not_an_object_is_400(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start(bot_factory, slack)
    for payload in ("[1, 2]", '"x"', "1", "null", "{not json", "true"):
        r = await post(bot, urlencode({"payload": payload}).encode())
        assert r.status_code == 400, (payload, r.status_code, r.text)
        assert "payload" in r.json()["error"]


async def test_json_body_that_is_not_an_object_is_400(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start(bot_factory, slack)
    for body in (b"[1]", b'"x"', b"{", b""):
        r = await post(bot, body, "application/json")
        assert r.status_code == 400, (body, r.status_code, r.text)


async def test_deeply_nested_json_is_400(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start(bot_factory, slack)
    deep = b'{"type": "block_actions", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert (await post(bot, deep, "application/json")).status_code == 400
    payload = "[" * 100_000 + "]" * 100_000
    assert (await post(bot, urlencode({"payload": payload}).encode())).status_code == 400


async def test_lone_surrogate_in_a_payload_is_400(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start(bot_factory, slack)
    body = action(slack.response_url("s"), actions=[{"action_id": "notifbot_mute_24h", "value": "\ud800"}])
    r = await post(bot, body)
    assert r.status_code == 400 and "Unicode" in r.json()["error"]


async def test_wrong_typed_user_and_channel_are_400(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start(bot_factory, slack)
    url = slack.response_url("w")
    for change in (
        {"user": 5},
        {"user": "U0ADMIN"},
        {"user": ["U0ADMIN"]},
        {"user": {"id": 7}},
        {"user": None},
        {"channel": ["C1"]},
        {"channel": 5},
        {"channel": {"id": {"x": 1}}},
        {"team": 5},
        {"container": "x"},
        {"message": []},
        {"actions": {"a": 1}},
        {"actions": ["x"]},
        {"actions": []},
        {"actions": [{"action_id": 5}]},
    ):
        r = await post(bot, action(url, **change))
        assert r.status_code == 400, (change, r.status_code, r.text)
        assert r.json()["error"].startswith("malformed Slack request"), r.text
    assert slack.responses_for("w") == []


async def test_wrong_typed_fields_of_a_slash_command_are_400(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    bot = await start(bot_factory, slack)
    for change in ({"text": {"a": 1}}, {"user_id": 5}, {"channel_id": [1]}, {"command": None}):
        body = json.dumps({"command": "/marketo", "text": "help", "user_id": "U1", **change}).encode()
        r = await post(bot, body, "application/json")
        assert r.status_code == 400, (change, r.status_code, r.text)


async def test_a_command_mentioning_payload_still_reaches_the_command(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    """Bolt treats any form body containing the text `payload` as interactivity; ours is parsed by key."""
    bot = await start(bot_factory, slack)
    body = urlencode({"command": "/marketo", "text": "mute payload_kind 1h", "user_id": "U0ADMIN"}).encode()
    r = await post(bot, body)
    assert r.status_code == 200, r.text
    assert "payload_kind" in r.text


async def test_well_formed_requests_still_work(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start(bot_factory, slack)
    r = await post(bot, urlencode({"command": "/marketo", "text": "help", "user_id": "U1"}).encode())
    assert r.status_code == 200 and "stale-triggers" in r.text
    r = await post(bot, action(slack.response_url("ok")))
    assert r.status_code == 200
    challenge = json.dumps({"type": "url_verification", "challenge": "abc", "token": "t"}).encode()
    r = await post(bot, challenge, "application/json")
    assert r.status_code == 200 and r.json() == {"challenge": "abc"}


# -- property: any signed body, never a 5xx ----------------------------------------------------------------

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
_KEYS = ["type", "user", "channel", "team", "enterprise", "container", "message", "actions", "view", "event"]
_KEYS += [
    "authorizations",
    "response_urls",
    "command",
    "text",
    "user_id",
    "channel_id",
    "user_name",
    "challenge",
]
_KEYS += ["previous_message", "item", "assistant_thread", "function_data", "is_ext_shared_channel", "token"]
_ACTION_IDS = st.sampled_from(["notifbot_ack", "notifbot_mute_24h", "notifbot_open", "other"])
_actions = st.lists(
    st.fixed_dictionaries({"action_id": _ACTION_IDS | _json}, optional={"value": _json, "type": _json}),
    max_size=3,
)
_likely = {
    "actions": _actions | _json,
    "user": st.fixed_dictionaries({"id": st.text(max_size=12)}) | _json,
    "channel": st.fixed_dictionaries({"id": st.text(max_size=12)}) | _json,
    "container": st.fixed_dictionaries({}, optional={"channel_id": _json, "message_ts": _json}) | _json,
    "message": st.fixed_dictionaries({}, optional={"ts": _json, "text": _json}) | _json,
}
_shaped = st.fixed_dictionaries(
    {"type": st.sampled_from(["block_actions", "url_verification", "event_callback", "view_submission"])},
    optional={k: _likely.get(k, _json) for k in _KEYS if k != "type"},
)
_form_values = st.dictionaries(
    st.sampled_from(["command", "text", "user_id", "channel_id", "user_name", "team_id"])
    | st.text(max_size=8),
    st.text(max_size=30),
    max_size=6,
)


@st.composite
def slack_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    """A body Slack would sign in shape (form, form with payload, JSON), but with any content at all."""
    kind = draw(st.sampled_from(["form", "command", "payload", "payload_text", "json", "bytes"]))
    if kind == "form":
        return urlencode(draw(_form_values)).encode(), FORM
    if kind == "command":
        fields = {"command": "/marketo", "text": draw(st.text(max_size=40)), "user_id": "U0ADMIN"}
        return urlencode({**fields, **draw(_form_values)}).encode(), FORM
    if kind == "payload":
        value = draw(_shaped | _json)
        value = {k: v for k, v in value.items() if k != "response_url"} if isinstance(value, dict) else value
        return urlencode({"payload": json.dumps(value)}).encode(), FORM
    if kind == "payload_text":
        return urlencode({"payload": draw(st.text(max_size=40))}).encode(), FORM
    if kind == "json":
        value = draw(_shaped | _json)
        value = {k: v for k, v in value.items() if k != "response_url"} if isinstance(value, dict) else value
        return json.dumps(value).encode(), "application/json"
    return draw(st.binary(max_size=200)), draw(st.sampled_from([FORM, "application/json"]))


@pytest.fixture
async def bot(bot_factory: BotFactory, slack: FakeSlack) -> Bot:
    """One Slack-enabled bot for every example of a property (fixtures are built once per test)."""
    return await start(bot_factory, slack)


@given(body=slack_bodies())
@example(body=(urlencode({"payload": json.dumps({"type": "view_submission", "view": None})}).encode(), FORM))
@example(body=(json.dumps({"type": "view_submission", "view": None}).encode(), "application/json"))
@example(body=(json.dumps({"type": "block_actions", "view": None}).encode(), "application/json"))
async def test_any_signed_body_answers_below_500(bot: Bot, body: tuple[bytes, str]) -> None:
    r = await post(bot, *body)
    assert r.status_code < 500, (body, r.status_code, r.text)
