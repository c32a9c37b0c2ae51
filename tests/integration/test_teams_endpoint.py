"""POST /teams/notifications against odd input on a real uvicorn: every such request gets a 4xx, never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes.graph import FakeGraph, Subscription
from tests.integration.conftest import wait_for
from tests.integration.test_teams_commands import CHANNEL, TEAM, Served, graph, served

__all__ = ["graph", "served"]  # the fixtures, re-exported for pytest

RESOURCE = f"teams('{TEAM}')/channels('{CHANNEL}')/messages('1')"


async def subscription(graph: FakeGraph) -> Subscription:
    await wait_for(lambda: len(graph.subscriptions) == 1)
    [sub] = graph.subscriptions.values()
    return sub


async def notify(served: Served, body: bytes | str | dict[str, Any]) -> httpx.Response:
    content = json.dumps(body) if isinstance(body, dict) else body
    async with httpx.AsyncClient() as client:
        return await client.post(
            f"{served.url}/teams/notifications",
            content=content,
            headers={"Content-Type": "application/json"},
        )


def item(sub: Subscription, **changes: Any) -> dict[str, Any]:
    base = {
        "subscriptionId": sub.id,
        "clientState": sub.client_state,
        "changeType": "created",
        "resource": RESOURCE,
    }
    return {**base, **changes}


async def test_validation_echo_is_not_sniffable(served: Served) -> None:
    async with httpx.AsyncClient() as client:
        r = await client.post(
            f"{served.url}/teams/notifications", params={"validationToken": "<html><script>x</script>"}
        )
    assert r.status_code == 200 and r.text == "<html><script>x</script>"
    assert r.headers["content-type"].startswith("text/plain")
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_100k_deep_json_is_400(served: Served) -> None:
    r = await notify(served, '{"value": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert r.status_code == 400, r.text


async def test_lone_surrogate_client_state_is_refused_as_a_wrong_client_state(
    served: Served, graph: FakeGraph
) -> None:
    sub = await subscription(graph)
    body = json.dumps({"value": [item(sub, clientState="x")]}).replace('"x"', '"\\ud800"')
    r = await notify(served, body)
    assert r.status_code == 401, r.text
    assert served.inbox() == []


async def test_lone_surrogate_resource_is_400_and_queues_nothing(served: Served, graph: FakeGraph) -> None:
    sub = await subscription(graph)
    body = json.dumps({"value": [item(sub, resource="r")]}).replace('"r"', '"\\udfff"')
    r = await notify(served, body)
    assert r.status_code == 400, r.text
    assert served.inbox() == []


async def test_a_malformed_item_does_not_cost_the_valid_one(served: Served, graph: FakeGraph) -> None:
    sub = await subscription(graph)
    r = await notify(served, {"value": [item(sub), item(sub, resource=5), "x"]})
    assert r.status_code == 202, r.text
    await wait_for(lambda: len(served.inbox()) == 1)


@pytest.mark.parametrize(
    "body",
    [b"", b"\xff\xfe", b"[]", b"null", b'{"value": 1}', b'{"value": [1, "x", null]}', b"{" * 10],
)
async def test_other_junk_is_400(served: Served, body: bytes) -> None:
    r = await notify(served, body)
    assert r.status_code == 400, (body, r.status_code, r.text)


_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


_ABSENT = object()


@st.composite
def notification_bodies(draw: st.DrawFn, sub: Subscription) -> str:
    """Graph's change-notification shape with each field kept or replaced (by any JSON, a lone surrogate or
    nothing), or any JSON at all."""
    if draw(st.integers(0, 4)) == 0:
        return json.dumps(draw(_json))
    valid = {"subscriptionId": sub.id, "clientState": sub.client_state, "changeType": "created"}
    valid["resource"] = RESOURCE
    odd = _json | st.sampled_from(["\ud800", "a\udfffb", _ABSENT])
    items: list[Any] = []
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.integers(0, 5)) == 0:
            items.append(draw(_json))
            continue
        fields = {k: draw(odd) if draw(st.booleans()) else v for k, v in valid.items()}
        items.append({k: v for k, v in fields.items() if v is not _ABSENT})
    return json.dumps({"value": items})


@pytest.fixture
async def sub(served: Served, graph: FakeGraph) -> Subscription:
    """The bot's subscription, once created (its first Graph call imports msgraph: seconds)."""
    return await subscription(graph)


@given(data=st.data())
async def test_any_json_body_answers_below_500(
    served: Served, sub: Subscription, data: st.DataObject
) -> None:
    r = await notify(served, data.draw(notification_bodies(sub)))
    assert r.status_code < 500, r.text
