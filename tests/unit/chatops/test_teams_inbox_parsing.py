"""Reading Teams messages: HTML to text, who is addressed, and which notifications the endpoint accepts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from notifbot.chatops.teams_inbox import RESOURCE, command_text, plain_text
from notifbot.chatops.teams_notifications import NotificationEndpoint
from notifbot.teams.graph import GraphMessage


def msg(text: str, content_type: str = "html") -> GraphMessage:
    return GraphMessage("1", None, text, content_type, "u1", "Ada", ())


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('<p><at id="0">notifbot</at>&nbsp;quota</p>', "quota"),
        ('<div><at id="0">notifbot service</at> recent crm_sync 5</div>', "recent crm_sync 5"),
        ("notifbot mute crm_sync 2h", "mute crm_sync 2h"),
        ("@Notifbot, status", "status"),
        ("<p>notifbot</p>", ""),
        ("<p>hello notifbot quota</p>", None),
        ("notifbotx quota", None),
    ],
)
def test_command_text(body: str, expected: str | None) -> None:
    assert command_text(plain_text(msg(body)), ["notifbot", "notifbot service"]) == expected


def test_plain_text_keeps_text_messages_as_they_are() -> None:
    assert plain_text(msg("a <b> & c", "text")) == "a <b> & c"
    assert plain_text(msg("line<br>two &amp; <b>three</b>")) == "line two & three"


def test_resource_pattern() -> None:
    top = RESOURCE.match("teams('t1')/channels('19:a@thread.tacv2')/messages('123')")
    assert top is not None and top.groups() == ("t1", "19:a@thread.tacv2", "123", None)
    reply = RESOURCE.match("/teams('t1')/channels('c')/messages('123')/replies('456')")
    assert reply is not None and reply.groups()[3] == "456"
    assert RESOURCE.match("users('x')/messages('1')") is None


async def endpoint_client(queued: list[Any]) -> httpx.AsyncClient:
    async def enqueue(items: list[tuple[str, str]]) -> int:
        queued.extend(items)
        return len(items)

    endpoint = NotificationEndpoint({"sub-1": "right-state"}.get, enqueue)
    app = Starlette(routes=[Route("/n", endpoint.__call__, methods=["POST"])])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def note(state: str, sub: str = "sub-1", change: str = "created") -> dict[str, Any]:
    return {
        "subscriptionId": sub,
        "clientState": state,
        "changeType": change,
        "resource": "teams('t')/channels('c')/messages('1')",
    }


async def test_endpoint_accepts_only_matching_client_state() -> None:
    queued: list[Any] = []
    async with await endpoint_client(queued) as client:
        assert (await client.post("/n", json={"value": [note("wrong")]})).status_code == 401
        assert (
            await client.post("/n", json={"value": [note("right-state", sub="other")]})
        ).status_code == 401
        r = await client.post(
            "/n", json={"value": [note("right-state"), note("wrong"), note("right-state", change="deleted")]}
        )
        assert r.status_code == 202
        assert (await client.post("/n", content=b"{nope")).status_code == 400
        assert (await client.post("/n", json={"value": 3})).status_code == 400
        # bodies over 1 MiB are refused while read by the app's request guard (tests/integration/test_http_*)
        assert (await client.post("/n", params={"validationToken": "x" * 2000})).status_code == 400
    assert queued == [("teams('t')/channels('c')/messages('1')", "sub-1")]
