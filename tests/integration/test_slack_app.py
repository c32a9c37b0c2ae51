"""The real Bolt app over HTTP with signed requests, against the fake Slack (issue #3 acceptance)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from notifbot.app import Bot
from notifbot.kinds.samples import load_samples
from notifbot.render.slack import MUTE_ACTION
from notifbot.slack.signature import is_valid, verifier
from notifbot.sources.events import parse_event
from tests.fakes.slack import FakeSlack
from tests.integration.conftest import BotFactory, client_for

TOKEN = "xoxb-slack-app-test"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
    "channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
    "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
    "trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_TS = "1531420618"
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, min_interval=0.0) as fake:
        yield fake


async def start(bot_factory: BotFactory, slack: FakeSlack, **slack_settings: Any) -> Bot:
    bot: Bot = await bot_factory(
        env={"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET},
        slack={"api_url": slack.api_url, **slack_settings},
        destinations={"ops": {"type": "slack", "channel": "C1"}},
        routes=[{"to": "ops"}],
        delivery={"slack_interval_seconds": 0.0},
    )
    return bot


async def start_socket_mode(bot_factory: BotFactory, slack: FakeSlack) -> Bot:
    """A bot in Socket Mode: app-level token, no signing secret."""
    bot: Bot = await bot_factory(
        env={"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": "xapp-1-test"},
        slack={"api_url": slack.api_url},
        destinations={"ops": {"type": "slack", "channel": "C1"}},
        routes=[{"to": "ops"}],
    )
    return bot


def sign(body: str, ts: str | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = ts or str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def post_signed(bot: Bot, body: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async with client_for(bot) as client:
        return await client.post("/slack/events", content=body, headers=headers or sign(body))


async def command(bot: Bot, slack: FakeSlack, text: str, user: str = "U0ADMIN") -> dict[str, Any]:
    body = urlencode(
        {
            "command": "/marketo",
            "text": text,
            "user_id": user,
            "user_name": "ana",
            "channel_id": "C1",
            "team_id": "T1",
            "response_url": slack.response_url(f"r-{time.monotonic_ns()}"),
            "trigger_id": "1.2.3",
        }
    )
    r = await post_signed(bot, body)
    assert r.status_code == 200, r.text
    reply: dict[str, Any] = r.json()
    return reply


def text_of(reply: dict[str, Any]) -> str:
    return json.dumps(reply.get("blocks", [])) + reply.get("text", "")


async def until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


def test_documented_signing_example_verifies_with_an_injected_clock() -> None:
    v = verifier(SECRET, now=lambda: 1531420618 + 60)
    headers = {"x-slack-request-timestamp": DOC_TS, "x-slack-signature": DOC_SIGNATURE}
    assert is_valid(v, DOC_BODY.encode(), headers)
    late = verifier(SECRET, now=lambda: 1531420618 + 301)
    assert not is_valid(late, DOC_BODY.encode(), headers)
    assert not is_valid(v, DOC_BODY.encode() + b"x", headers)


async def test_documented_example_passes_the_http_endpoint(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start(bot_factory, slack)
    assert bot.slack_app is not None
    bot.slack_app._verifier = verifier(SECRET, now=lambda: 1531420618)
    headers = {
        "X-Slack-Request-Timestamp": DOC_TS,
        "X-Slack-Signature": DOC_SIGNATURE,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    r = await post_signed(bot, DOC_BODY, headers)
    assert r.status_code != 401  # verified; `/webhook-collect` is simply not our command


async def test_replayed_and_forged_requests_are_401(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start(bot_factory, slack)
    body = urlencode({"command": "/marketo", "text": "help", "user_id": "U1"})
    stale = sign(body, ts=str(int(time.time()) - 301))
    assert (await post_signed(bot, body, stale)).status_code == 401
    forged = sign(body, secret="not-the-secret")
    assert (await post_signed(bot, body, forged)).status_code == 401
    unsigned = {"Content-Type": "application/x-www-form-urlencoded"}
    assert (await post_signed(bot, body, unsigned)).status_code == 401
    assert (await post_signed(bot, body)).status_code == 200


async def test_help_and_unknown_input_answer_with_usage(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start(bot_factory, slack)
    for text in ("help", "", "frobnicate now"):
        reply = await command(bot, slack, text)
        assert reply.get("response_type", "ephemeral") == "ephemeral"
        assert "stale-triggers" in text_of(reply) and "mute" in text_of(reply)
    assert "frobnicate" in text_of(await command(bot, slack, "frobnicate now"))


async def test_read_only_commands_without_data(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start(bot_factory, slack)
    assert "marketo.instances" in text_of(await command(bot, slack, "quota"))
    assert "marketo.instances" in text_of(await command(bot, slack, "stale-triggers"))
    assert "ops" in text_of(await command(bot, slack, "routes"))
    status = text_of(await command(bot, slack, "status"))
    assert "0.1.0" in status
    assert text_of(await command(bot, slack, "recent"))
    assert text_of(await command(bot, slack, "mutes"))


async def test_quota_and_stale_triggers_with_data(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start(bot_factory, slack)
    now = time.time()
    conn = sqlite3.connect(bot.settings.storage.path)
    day = time.strftime("%Y-%m-%d")
    users = json.dumps([{"userId": "bi-connector@example.com", "count": 31000}])
    conn.execute(
        "INSERT INTO quota_samples (instance, sampled_at, day, used, quota, users) VALUES (?,?,?,?,?,?)",
        ("123-ABC-456", now - 3600, day, 30000, 50000, users),
    )
    conn.execute(
        "INSERT INTO quota_samples (instance, sampled_at, day, used, quota, users) VALUES (?,?,?,?,?,?)",
        ("123-ABC-456", now, day, 41000, 50000, users),
    )
    conn.execute(
        "INSERT INTO trigger_campaigns (instance, campaign_id, name, program_name, url, is_active,"
        " last_activity_at, observed_since, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (
            "123-ABC-456",
            1042,
            "Form Fill - Contact Us",
            "Website",
            "https://app-ab12.marketo.com/#SC1042A1",
            1,
            None,
            "2026-01-01T00:00:00Z",
            now,
        ),
    )
    conn.commit()
    conn.close()
    quota = text_of(await command(bot, slack, "quota --share"))
    assert "41,000" in quota and "bi-connector@example.com" in quota
    shared = await command(bot, slack, "quota --share")
    assert shared["response_type"] == "in_channel"
    stale = text_of(await command(bot, slack, "stale-triggers 30"))
    assert "Form Fill - Contact Us" in stale and "https://app-ab12.marketo.com/#SC1042A1" in stale


async def test_mute_stores_but_does_not_post_and_expiry_re_enables(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    bot = await start(bot_factory, slack)
    reply = text_of(await command(bot, slack, 'mute crm_sync 2h --reason "sync user rotation"'))
    assert "crm_sync" in reply
    assert "crm_sync" in text_of(await command(bot, slack, "mutes"))
    async with client_for(bot) as client:
        r = await client.post("/hooks/events", json={"kind": "crm_sync", "id": "muted-1"})
        assert r.status_code == 202
        r = await client.post("/hooks/events", json={"kind": "engagement", "id": "loud-1"})
    await until(lambda: len(slack.messages) == 1)
    await asyncio.sleep(0.3)
    assert [m["metadata"]["event_payload"]["key"] for m in slack.messages] == ["loud-1"]
    recent = text_of(await command(bot, slack, "recent"))
    assert "muted" in recent.lower()
    # expiry: the mute ends by itself once its time has passed
    conn = sqlite3.connect(bot.settings.storage.path)
    conn.execute("UPDATE mutes SET until = ?", (time.time() - 1,))
    conn.commit()
    conn.close()
    await bot.reload_mutes()
    async with client_for(bot) as client:
        await client.post("/hooks/events", json={"kind": "crm_sync", "id": "after-expiry"})
    await until(lambda: len(slack.messages) == 2)
    assert "crm_sync" not in text_of(await command(bot, slack, "mutes")).replace("/marketo mute", "")


async def test_unmute_ends_a_mute(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start(bot_factory, slack)
    await command(bot, slack, "mute engagement 1d")
    assert bot.pipeline.mute_for is not None and bot.pipeline._mutes
    await command(bot, slack, "unmute engagement")
    assert not bot.pipeline._mutes


async def test_non_admin_is_denied_and_group_members_allowed(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    slack.usergroups["S0OPS"] = {"U0GROUPIE"}
    bot = await start(bot_factory, slack, admins=["U0ADMIN", "S0OPS"])
    denied = text_of(await command(bot, slack, "mute crm_sync 1h", user="U0OTHER"))
    assert "admin" in denied.lower()
    assert not bot.pipeline._mutes
    assert "crm_sync" in text_of(await command(bot, slack, "mute crm_sync 1h", user="U0GROUPIE"))
    assert bot.pipeline._mutes
    # read-only commands stay open to everyone
    assert "stale-triggers" in text_of(await command(bot, slack, "help", user="U0OTHER"))


def block_action(action_id: str, value: str, channel: str, ts: str, user: str, response_url: str) -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "ana"},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel},
        "channel": {"id": channel},
        "message": {"ts": ts, "text": "x"},
        "response_url": response_url,
        "trigger_id": "1.2.3",
        "actions": [
            {"type": "button", "action_id": action_id, "value": value, "block_id": "b", "action_ts": "1"}
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


async def test_acknowledge_updates_the_message_once(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start(bot_factory, slack)
    async with client_for(bot) as client:
        await client.post("/hooks/events", json={"kind": "campaign_failure", "id": "ack-me"})
    await until(lambda: len(slack.messages) == 1)
    posted = slack.messages[0]
    ids = [e["action_id"] for b in posted["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert "notifbot_ack" in ids and "notifbot_mute_24h" in ids
    body = block_action("notifbot_ack", "ack-me", "C1", posted["ts"], "U0ADMIN", slack.response_url("ack1"))
    assert (await post_signed(bot, body)).status_code == 200
    await until(lambda: len(slack.updates) == 1)
    updated = json.dumps(slack.updates[0].blocks)
    assert "Acknowledged by <@U0ADMIN>" in updated and "notifbot_ack" not in updated
    # a double click does not update again; the clicker is told who acknowledged
    assert (await post_signed(bot, body)).status_code == 200
    await until(lambda: len(slack.responses_for("ack1")) == 1)
    assert "Already acknowledged" in json.dumps(slack.responses_for("ack1"))
    assert len(slack.updates) == 1


async def test_mute_button_mutes_the_kind_for_24h(bot_factory: BotFactory, slack: FakeSlack) -> None:
    bot = await start(bot_factory, slack)
    body = block_action("notifbot_mute_24h", "engagement", "C1", "1.1", "U0ADMIN", slack.response_url("m1"))
    assert (await post_signed(bot, body)).status_code == 200
    await until(lambda: len(slack.responses_for("m1")) == 1)
    assert "24 h" in json.dumps(slack.responses_for("m1"))
    [mute] = bot.pipeline._mutes
    assert mute.kind == "engagement" and 23.9 * 3600 < (mute.until.timestamp() - time.time()) <= 24 * 3600


async def test_socket_mode_handler_is_wired_to_the_same_app(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    bot = await start_socket_mode(bot_factory, slack)
    assert bot.slack_app is not None and bot.socket_mode is not None
    assert bot.socket_mode.handler.app is bot.slack_app.bolt
    assert bot.socket_mode.handler.app_token == "xapp-1-test"
    # no signing secret: the HTTP endpoint says how to enable it instead of accepting unsigned requests
    r = await post_signed(
        bot, "command=%2Fmarketo&text=help", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 503


async def test_socket_mode_answers_a_slash_command_end_to_end(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    bot = await start_socket_mode(bot_factory, slack)
    await until(lambda: slack.socket_connections == 1)
    slack.socket_send(
        {
            "envelope_id": "env-1",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": {
                "command": "/marketo",
                "text": "help",
                "user_id": "U0ADMIN",
                "channel_id": "C1",
                "team_id": "T1",
                "response_url": slack.response_url("sock"),
                "trigger_id": "1.2.3",
            },
        }
    )
    await until(lambda: any(a.get("envelope_id") == "env-1" for a in slack.socket_acks))
    ack = next(a for a in slack.socket_acks if a.get("envelope_id") == "env-1")
    assert "stale-triggers" in json.dumps(ack.get("payload"))
    assert bot.slack_app is not None


async def test_a_slow_answer_is_acked_at_once_and_completed_via_response_url(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    bot = await start(bot_factory, slack)
    assert bot.slack_app is not None
    bot.slack_app.ack_budget = 0.0  # every answer counts as slow: the ack must not wait for it
    body = urlencode(
        {
            "command": "/marketo",
            "text": "status",
            "user_id": "U0ADMIN",
            "channel_id": "C1",
            "response_url": slack.response_url("slow"),
        }
    )
    started = time.monotonic()
    r = await post_signed(bot, body)
    assert r.status_code == 200 and time.monotonic() - started < 3.0
    assert "Working on it" in r.text
    await until(lambda: len(slack.responses_for("slow")) == 1)
    assert "notifbot status" in json.dumps(slack.responses_for("slow")[0])


@pytest.mark.parametrize("user", ["U0OTHER", "U0GROUPIE", "U0ADMIN"])
async def test_the_buttons_refuse_and_accept_exactly_like_the_typed_mute(
    bot_factory: BotFactory, slack: FakeSlack, user: str
) -> None:
    slack.usergroups["S0OPS"] = {"U0GROUPIE"}
    bot = await start(bot_factory, slack, admins=["U0ADMIN", "S0OPS"])
    typed = text_of(await command(bot, slack, "mute crm_sync 1h", user=user))
    typed_allowed = bool(bot.pipeline._mutes)
    assert typed_allowed == (user != "U0OTHER") and ("Not allowed" in typed) != typed_allowed
    await command(bot, slack, "unmute crm_sync")  # by the admin: start the button from a clean slate
    assert not bot.pipeline._mutes
    rid = f"mute-{user}"
    pressed = block_action("notifbot_mute_24h", "engagement", "C1", "1.1", user, slack.response_url(rid))
    assert (await post_signed(bot, pressed)).status_code == 200
    await until(lambda: len(slack.responses_for(rid)) == 1)
    said = json.dumps(slack.responses_for(rid))
    assert bool(bot.pipeline._mutes) == typed_allowed
    if typed_allowed:
        assert "Muted *engagement* for 24 h" in said
    else:
        assert "Only notifbot admins" in said and "slack.admins" in said
    # the Acknowledge button meets the same filter
    async with client_for(bot) as client:
        await client.post("/hooks/events", json={"kind": "campaign_failure", "id": f"ack-{user}"})
    await until(lambda: len(slack.messages) == 1)
    ts = slack.messages[0]["ts"]
    rid = f"ack-{user}"
    clicked = block_action("notifbot_ack", f"ack-{user}", "C1", ts, user, slack.response_url(rid))
    assert (await post_signed(bot, clicked)).status_code == 200
    if typed_allowed:
        await until(lambda: len(slack.updates) == 1)
        assert f"Acknowledged by <@{user}>" in json.dumps(slack.updates[0].blocks)
    else:
        await until(lambda: len(slack.responses_for(rid)) == 1)
        assert "can acknowledge alerts" in json.dumps(slack.responses_for(rid))
        assert slack.updates == []


async def test_the_acknowledge_edit_goes_through_the_classifying_sender(
    bot_factory: BotFactory, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await start(bot_factory, slack)
    async with client_for(bot) as client:
        await client.post("/hooks/events", json={"kind": "campaign_failure", "id": "ack-throttled"})
    await until(lambda: len(slack.messages) == 1)
    ts = slack.messages[0]["ts"]
    slack.throttle_next("chat.update", retry_after=3)
    body = block_action("notifbot_ack", "ack-throttled", "C1", ts, "U0ADMIN", slack.response_url("thr"))
    with caplog.at_level(logging.ERROR, logger="notifbot.slack"):
        assert (await post_signed(bot, body)).status_code == 200
        await until(lambda: any("not updated" in r.getMessage() for r in caplog.records))
    [record] = [r for r in caplog.records if "not updated" in r.getMessage()]
    assert "Slack rate limit on chat.update for channel C1: retry after 3 s" in record.getMessage()
    assert TOKEN not in record.getMessage() and record.exc_info is None
    assert slack.updates == []


async def test_a_group_s_buttons_acknowledge_it_in_place_and_mute_that_group(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    bot: Bot = await bot_factory(
        env={"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET},
        slack={"api_url": slack.api_url},
        destinations={"ops": {"type": "slack", "channel": "C1"}},
        routes=[{"to": "ops", "group": {"by": ["kind", "instance"], "wait": "0s"}}],
        delivery={"slack_interval_seconds": 0.0},
    )
    events = [{"kind": "campaign_failure", "id": f"g{i}", "instance": "123-ABC-456"} for i in range(3)]
    async with client_for(bot) as client:
        await client.post("/hooks/events", json=events)
    await until(
        lambda: any("×3" in json.dumps(m["blocks"], ensure_ascii=False) for m in slack.top_level("C1"))
    )
    (posted,) = slack.top_level("C1")
    body = block_action("notifbot_ack", "g0", "C1", posted["ts"], "U0ADMIN", slack.response_url("gack"))
    assert (await post_signed(bot, body)).status_code == 200
    await until(lambda: "Acknowledged by <@U0ADMIN>" in json.dumps(slack.top_level("C1")[0]["blocks"]))
    assert "×3" in json.dumps(
        slack.top_level("C1")[0]["blocks"], ensure_ascii=False
    )  # the edit kept the group
    mute_value = "kind=campaign_failure instance=123-ABC-456"
    body = block_action(
        "notifbot_mute_24h", mute_value, "C1", posted["ts"], "U0ADMIN", slack.response_url("gm")
    )
    assert (await post_signed(bot, body)).status_code == 200
    await until(lambda: len(slack.responses_for("gm")) == 1)
    [mute] = bot.pipeline._mutes
    assert (mute.kind, mute.matchers) == ("campaign_failure", (("instance", "123-ABC-456"),))
    assert "kind=campaign_failure instance=123-ABC-456" in json.dumps(slack.responses_for("gm"))


async def test_the_mute_group_button_mutes_exactly_that_group_and_its_undo_works_as_shown(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    """The sandbox's campaign_failure sample: its group key quotes an error with quotes in it."""
    bot: Bot = await bot_factory(
        env={"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET},
        slack={"api_url": slack.api_url},
        destinations={"ops": {"type": "slack", "channel": "C1"}},
        routes=[{"to": "ops"}],
        delivery={"slack_interval_seconds": 0.0, "repeat_window": "10m"},  # the default repeat grouping
    )
    sample = load_samples()["campaign_failure"]
    async with client_for(bot) as client:
        assert (await client.post("/hooks/events", json=sample)).status_code == 202
    await until(lambda: len(slack.top_level("C1")) == 1)
    (posted,) = slack.top_level("C1")
    [button] = [
        e
        for b in posted["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == MUTE_ACTION
    ]
    assert button["confirm"]["text"]["text"] == (
        "New notifications in this group (campaign failure · Q4 Webinar Invites) will be stored but not posted for "
        "24 hours."
    )
    body = block_action(MUTE_ACTION, button["value"], "C1", posted["ts"], "U0ADMIN", slack.response_url("gq"))
    assert (await post_signed(bot, body)).status_code == 200
    await until(lambda: len(slack.responses_for("gq")) == 1)
    [mute] = bot.pipeline._mutes
    assert (mute.kind, mute.matchers) == (
        "campaign_failure",
        (
            ("instance", "123-ABC-456"),
            ("campaign_id", "4821"),
            ("campaign_name", "Q4 Webinar Invites"),
            ("error", 'Send Email: email asset "Webinar Invite 1" is not approved'),
        ),
    )
    assert mute.covers(
        parse_event(sample, now=mute.until - timedelta(hours=1)), mute.until - timedelta(hours=1)
    )
    said = slack.responses_for("gq")[0]["text"]
    assert said.startswith("Muted *campaign failure · Q4 Webinar Invites* for 24 h (until ")
    undo = said.rsplit("undo with `", 1)[1].removesuffix("`.")
    assert undo == (
        '/marketo unmute kind=campaign_failure instance=123-ABC-456 campaign_id=4821 campaign_name="Q4 Webinar '
        'Invites" error="Send Email: email asset \\"Webinar Invite 1\\" is not approved"'
    )
    reply = text_of(await command(bot, slack, undo.removeprefix("/marketo ")))
    assert "Ended 1 mute" in reply and not bot.pipeline._mutes


async def test_a_typed_value_with_an_ampersand_is_the_text_slack_escaped(
    bot_factory: BotFactory, slack: FakeSlack
) -> None:
    """Slack sends &, < and > in a slash command's text as entities; the mute holds the characters typed."""
    bot = await start(bot_factory, slack)
    await command(bot, slack, 'mute campaign_failure campaign_name="Q4 &amp; Q1 &lt;EU&gt;" 1h')
    [mute] = bot.pipeline._mutes
    assert mute.matchers == (("campaign_name", "Q4 & Q1 <EU>"),)
    await command(bot, slack, 'unmute campaign_failure campaign_name="Q4 &amp; Q1 &lt;EU&gt;"')
    assert not bot.pipeline._mutes
    # the Mute button's answer shows the scope's untrusted text escaped: no mention, no link
    value = 'kind=campaign_failure campaign_name="<!channel> & <https://x.test|y>"'
    body = block_action(MUTE_ACTION, value, "C1", "1.1", "U0ADMIN", slack.response_url("esc"))
    assert (await post_signed(bot, body)).status_code == 200
    await until(lambda: len(slack.responses_for("esc")) == 1)
    said = slack.responses_for("esc")[0]["text"]
    assert "<!channel>" not in said and "<https" not in said
    assert 'campaign_name="&lt;!channel&gt; &amp; &lt;https://x.test|y&gt;"`.' in said
