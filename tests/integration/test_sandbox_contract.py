"""The sandbox's fake Slack and Teams against tests/fakes: the bot's real senders, one scenario, the same result.

The bot's `SlackSender`, `SlackDelivery` and `SlackUsers` (real slack_sdk clients), slack_sdk's webhook client (what
Bolt's `respond` posts with) and the `teams_workflow` destination run the same calls over real loopback HTTP against
`FakeSlack`/`FakeWorkflow` and against the sandbox's services; what each recorded and answered must match, so the
two fakes cannot drift apart silently.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from notifbot.chatops.slack_users import SlackUsers
from notifbot.destinations import SPECS, SenderContext, target_of
from notifbot.destinations.slack import SlackDestination, alert_metadata
from notifbot.destinations.spec import DestinationModel
from notifbot.destinations.teams_workflow import TeamsWorkflowDestination
from notifbot.errors import DeliveryError, PermanentDeliveryError
from notifbot.kinds import load_samples
from notifbot.sandbox.chat import Chat
from notifbot.sandbox.services import Services
from notifbot.sandbox.slack_api import YOU
from notifbot.slack.sender import SlackSender
from notifbot.sources.events import parse_event
from notifbot.store.outbox import OutboxRow
from tests.fakes.slack import FakeSlack
from tests.fakes.workflow import FakeWorkflow

TOKEN = "xoxb-sandbox"
CHANNEL = "C0SANDBOX1"
HEADER = {"type": "header", "text": {"type": "plain_text", "text": "Campaign failed"}}
ALERT: dict[str, Any] = {
    "text": "Campaign failed",
    "blocks": [
        HEADER,
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Smart campaign* stopped"}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "notifbot_ack",
                    "text": {"type": "plain_text", "text": "Acknowledge"},
                    "value": "k1",
                }
            ],
        },
    ],
}
ACKED: dict[str, Any] = {
    "text": "Campaign failed (acknowledged)",
    "blocks": [HEADER, {"type": "context", "elements": [{"type": "mrkdwn", "text": "Acknowledged by you"}]}],
}
REPLY: dict[str, Any] = {"text": "3 more failures"}
TOO_LONG: dict[str, Any] = {
    "text": "x",
    "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
}
Respond = Callable[[str | None], str]  # message ts → a fresh response_url


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, min_interval=0.0) as fake:
        fake.set_user(YOU, locale="en-US", tz="America/Chicago")
        yield fake


@pytest.fixture
async def sandbox() -> AsyncIterator[Services]:
    """The sandbox's services on a loopback port, served by uvicorn on this test's event loop."""
    services = Services(Chat(), token=TOKEN)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(services.app(port), lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.005)
    services.bind("127.0.0.1", port)
    yield services
    server.should_exit = True
    await task
    sock.close()


def _error(exc: DeliveryError) -> tuple[str, str]:
    """The class and Slack error code of a refusal (details after the code differ by fake on purpose)."""
    text = str(exc)
    code = next((c for c in ("invalid_blocks", "thread_not_found", "message_not_found") if c in text), text)
    return type(exc).__name__, code


def _row(config: DestinationModel, dest_type: str, unsure_since: float | None = None) -> OutboxRow:
    return OutboxRow(
        id=7,
        event_id=7,
        destination="sandbox",
        dest_type=dest_type,
        target=target_of(config),
        attempts=0,
        provider_message_id=None,
        created_at=time.time(),
        unsure_since=unsure_since,
    )


async def scenario(api_url: str, response_url: Respond) -> dict[str, Any]:
    """Every Web API call and response_url post the bot makes, as observations comparable across fakes."""
    seen: dict[str, Any] = {}
    sender = SlackSender(TOKEN, api_url, timeout=2.0)
    seen["auth"] = sorted(await sender.check_auth())
    ts = await sender.post(CHANNEL, ALERT, metadata=alert_metadata(1, "k1"))
    await sender.post(CHANNEL, REPLY, thread_ts=ts)
    await sender.update(CHANNEL, ts, ACKED)
    for name, call in (
        ("too_long", sender.post(CHANNEL, TOO_LONG)),
        ("no_parent", sender.post(CHANNEL, REPLY, thread_ts="1.000001")),
        ("no_message", sender.update(CHANNEL, "1.000001", ACKED)),
    ):
        with pytest.raises(PermanentDeliveryError) as refused:
            await call
        seen[name] = _error(refused.value)
    page = await sender.history(CHANNEL, oldest="0", limit=10)
    seen["history"] = [
        {k: v for k, v in m.items() if k not in ("ts", "user", "bot_id", "edited")} for m in page.messages
    ]

    config = SlackDestination(type="slack", channel=CHANNEL)
    context = SenderContext(slack_token=TOKEN, slack_api_url=api_url, slack_timeout=2.0)
    delivery = SPECS["slack"].build({"sandbox": config}, context)
    assert delivery is not None
    notification = parse_event(load_samples()["crm_sync"], now=datetime.now(UTC))
    posted = await delivery.send(_row(config, "slack"), notification)
    again = await delivery.send(_row(config, "slack", unsure_since=time.time() - 5), notification)
    seen["lost_answer_found"] = posted is not None and again == posted
    await delivery.close()

    users = SlackUsers(AsyncWebClient(token=TOKEN, base_url=api_url))
    seen["you"] = dataclasses.astuple(await users.locale_of(YOU))

    url = response_url(ts)
    statuses = []
    for i in range(6):  # a response_url takes five posts
        body = {"response_type": "ephemeral", "replace_original": False, "text": f"answer {i}"}
        answer = await AsyncWebhookClient(url).send_dict(body)
        statuses.append(answer.status_code)
    seen["response_url"] = statuses
    return seen


def _recorded_fake(fake: FakeSlack) -> list[tuple[Any, ...]]:
    order = [m.ts for m in fake.messages]
    return [
        (m.text, m.blocks, m.metadata, None if m.thread_ts is None else order.index(m.thread_ts))
        for m in fake.messages
    ]


def _recorded_sandbox(chat: Chat) -> list[tuple[Any, ...]]:
    everything = sorted(
        [*chat.messages(CHANNEL), *(r for m in chat.messages(CHANNEL) for r in chat.thread(CHANNEL, m.ts))],
        key=lambda m: m.ts,
    )
    order = [m.ts for m in everything]
    return [
        (m.text, m.blocks, m.metadata, None if m.thread_ts is None else order.index(m.thread_ts))
        for m in everything
    ]


async def test_sandbox_slack_answers_and_records_as_fake_slack(
    fake_slack: FakeSlack, sandbox: Services
) -> None:
    rids = iter(f"r{i}" for i in range(100))
    via_fake = await scenario(fake_slack.api_url, lambda ts: fake_slack.response_url(next(rids)))
    via_sandbox = await scenario(
        sandbox.slack.api_url, lambda ts: sandbox.slack.response_url(CHANNEL, YOU, ts)
    )
    assert via_sandbox == via_fake
    assert via_fake["response_url"] == [200] * 5 + [404]
    assert via_fake["lost_answer_found"] is True
    assert _recorded_sandbox(sandbox.chat) == _recorded_fake(fake_slack)
    fake_answers = [(b["text"], b.get("blocks")) for _, b in fake_slack.responses]
    assert [(e.text, e.blocks) for e in sandbox.chat.ephemerals(CHANNEL, YOU)] == fake_answers
    [edited] = [m for m in sandbox.chat.messages(CHANNEL) if m.edits]
    assert (edited.text, edited.blocks) == (ACKED["text"], ACKED["blocks"])


async def test_sandbox_shows_a_refused_post_as_a_notice_only(sandbox: Services) -> None:
    sender = SlackSender(TOKEN, sandbox.slack.api_url, timeout=2.0)
    with pytest.raises(PermanentDeliveryError, match="invalid_blocks"):
        await sender.post(CHANNEL, TOO_LONG)
    assert sandbox.chat.messages(CHANNEL) == []
    [change] = sandbox.chat.since(0) or []
    assert change.kind == "notice" and "invalid_blocks" in getattr(change.item, "text", "")


async def test_response_url_replaces_the_original_or_posts_in_channel(sandbox: Services) -> None:
    sender = SlackSender(TOKEN, sandbox.slack.api_url, timeout=2.0)
    ts = await sender.post(CHANNEL, ALERT)
    url = sandbox.slack.response_url(CHANNEL, YOU, ts)
    await AsyncWebhookClient(url).send_dict({"replace_original": True, **ACKED})
    await AsyncWebhookClient(url).send_dict({"response_type": "in_channel", "text": "for everyone"})
    assert [(m.text, m.edits) for m in sandbox.chat.messages(CHANNEL)] == [
        (ACKED["text"], 1),
        ("for everyone", 0),
    ]


async def test_sandbox_teams_workflow_records_what_fake_workflow_accepts(sandbox: Services) -> None:
    notification = parse_event(load_samples()["crm_sync"], now=datetime.now(UTC))
    context = SenderContext(workflow_timeout=2.0)
    cards = []
    with FakeWorkflow(max_rate=1000.0) as fake:
        for url in (fake.url, sandbox.teams.url(CHANNEL)):
            config = TeamsWorkflowDestination(type="teams_workflow", url=url)
            delivery = SPECS["teams_workflow"].build({"sandbox": config}, context)
            assert delivery is not None
            await delivery.send(_row(config, "teams_workflow"), notification)
            await delivery.close()
        cards.append(fake.posts[0].body["attachments"][0]["content"])
    [message] = sandbox.chat.messages(CHANNEL)
    assert (message.source, message.card) == ("teams", cards[0])
    history = await AsyncWebClient(TOKEN, base_url=sandbox.slack.api_url).conversations_history(
        channel=CHANNEL
    )
    assert history["messages"] == []  # a Teams twin's card is no Slack message


async def test_sandbox_refuses_a_workflow_post_without_its_sig(sandbox: Services) -> None:
    import httpx

    body = {"type": "message", "attachments": []}
    async with httpx.AsyncClient() as client:
        bad_sig = await client.post(sandbox.teams.url(CHANNEL).replace("sig=", "sig=x"), json=body)
        bad_shape = await client.post(sandbox.teams.url(CHANNEL), json=body)
    assert (bad_sig.status_code, bad_shape.status_code) == (401, 400)
    assert sandbox.chat.messages(CHANNEL) == []


async def test_sandbox_answers_only_a_loopback_host(sandbox: Services) -> None:
    import httpx

    url = sandbox.slack.api_url + "auth.test"
    async with httpx.AsyncClient() as client:
        rebound = await client.post(
            url, headers={"Host": "evil.example:80", "Authorization": f"Bearer {TOKEN}"}
        )
        local = await client.post(url, headers={"Authorization": f"Bearer {TOKEN}"})
    assert (rebound.status_code, local.json()["ok"]) == (421, True)
