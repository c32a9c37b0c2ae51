"""Property-based: whatever JSON arrives at /hooks/events or (signed) at /hooks/adobe-io, never a 5xx, and every
event a 2xx accepted can be read back; over real HTTP against a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from notifbot.model import Kind
from tests.fakes.adobe_io import FakeAdobeIO, marketo_event
from tests.integration.live import LiveBot

CLIENT = "adobe-client-1"
INF = (
    "__1e400__"  # replaced by the JSON number 1e400 in the body (a valid literal that overflows to infinity)
)

EDGE_TIMES = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:00:00-14:00",
    "0001-01-01T00:00:00Z",
    "0001-01-01T23:59:59",
    "9999-12-31T23:59:59.999999Z",
    "2021-05-27T10:22:37.489-5:00",
    "2024-07-11 13:20:42.755",
    "2024-07-11T13:20:42+99:00",
    "2024-02-30T00:00:00Z",
    "",
]
ODD_TEXT = ["\ud800", "a\udfffb", "\x00", "\u2028", "x" * 3_001, "<!channel> *b* `c`", "ﬁ", "🙂"]


def _offset(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))


times = st.one_of(
    st.sampled_from(EDGE_TIMES),
    st.builds(
        lambda dt, tz: dt.replace(tzinfo=tz).isoformat(),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
        st.none() | st.integers(-23 * 60 - 59, 23 * 60 + 59).map(_offset),
    ),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=30),
)
texts = st.text(max_size=40) | st.sampled_from(ODD_TEXT)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.just(INF)
    | texts
    | times
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=15,
)
FIELD_NAMES = [
    "campaign_id",
    "campaign_name",
    "error",
    "failed_leads",
    "period_start",
    "period_end",
    "deactivate_on",
    "resets_at",
    "percent",
    "quota",
    "used",
    "leads",
    "campaigns",
    "stage",
    "crm",
    "url",
]
fields = st.dictionaries(st.sampled_from(FIELD_NAMES) | texts, json_values | times, max_size=6)
kinds = st.sampled_from([k.value for k in Kind]) | texts


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    """One event as a sender might write it: the contract's keys with plausible, odd or hostile values."""
    event: dict[str, Any] = {"kind": draw(kinds)}
    optional = {
        "id": st.text(min_size=1, max_size=60) | texts,
        "instance": texts,
        "occurred_at": times,
        "severity": st.sampled_from(["critical", "warning", "info", "loud"]),
        "summary": texts,
        "fields": st.one_of(fields, fields, json_values),
        "labels": st.dictionaries(texts, texts | json_values, max_size=3),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            event[name] = draw(strategy)
    return event


def body_of(payload: Any, deep: int) -> bytes:
    """`payload` as JSON (lone surrogates escaped as Adobe or any JSON library would), optionally wrapped deep."""
    text = json.dumps(payload).replace(f'"{INF}"', "1e400")
    if deep:
        text = '{"kind": "other", "fields": {"x": ' + "[" * deep + text + "]" * deep + "}}"
    return text.encode()


@pytest.fixture(scope="module")
def adobe() -> Iterator[FakeAdobeIO]:
    with FakeAdobeIO(CLIENT) as fake:
        yield fake


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, adobe: FakeAdobeIO) -> Iterator[LiveBot]:
    tmp: Path = tmp_path_factory.mktemp("props")
    with LiveBot(tmp, {"ADOBE_CLIENT_ID": CLIENT, "ADOBE_IO_KEYS_URL": adobe.base_url}) as bot:
        yield bot


@pytest.fixture(scope="module")
def client(live: LiveBot) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.base_url, timeout=30) as c:
        yield c


def assert_retrievable(live: LiveBot, response: httpx.Response) -> None:
    for accepted in response.json()["accepted"]:
        stored = live.stored(accepted["id"])
        assert stored is not None, accepted
        json.dumps(stored.as_event_dict(), allow_nan=False).encode()  # readable, and valid UTF-8 JSON


@given(
    payload=events() | st.lists(events(), min_size=1, max_size=4), deep=st.sampled_from([0, 0, 0, 50, 300])
)
def test_hooks_events_never_5xx_and_accepted_events_are_stored(
    live: LiveBot, client: httpx.Client, payload: Any, deep: int
) -> None:
    r = client.post(
        "/hooks/events", content=body_of(payload, deep), headers={"content-type": "application/json"}
    )
    assert r.status_code in (202, 400), r.text
    event(f"status {r.status_code}")
    if r.status_code == 202:
        assert_retrievable(live, r)
    else:
        assert r.json()["details"], r.text  # a 400 says where


deep_text = st.integers(50, 100_000).map(lambda n: "[" * n + "]" * n)
adobe_data = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "componentType": st.sampled_from(["web_services", "campaign_abort", "Microsoft Dynamics"])
            | texts,
            "subType": texts | json_values,
            "munchkinId": texts | json_values,
            "eventAction": st.dictionaries(
                st.sampled_from(["percent", "dailyQuota", "campaignId", "campaignName", "serviceNames"])
                | texts,
                json_values,
                max_size=5,
            )
            | json_values,
        },
    ),
    json_values,
)


@st.composite
def adobe_events(draw: st.DrawFn) -> dict[str, Any]:
    """One Adobe I/O event in either documented shape, with odd data, data strings and times."""
    suffix = draw(
        st.sampled_from(["web_services", "campaign_abort", "campaign_failure", "sync_failure", "nurture"])
        | st.text(max_size=20)
    )
    event = marketo_event(
        suffix,
        f"prop-{draw(st.uuids())}",
        CLIENT,
        data=None,
        variant=draw(st.sampled_from(["adobe", "marketo"])),
    )
    ce = event["event"]["body"] if "body" in event["event"] else event["event"]
    data = draw(adobe_data)
    ce["data"] = draw(
        st.sampled_from(["as is", "as a string", "deep string"]).map(
            lambda how: data if how == "as is" else (json.dumps(data) if how == "as a string" else None)
        )
    )
    if ce["data"] is None:
        ce["data"] = draw(deep_text)
    ce["time"] = draw(times)
    return event


@given(batch=st.lists(adobe_events(), min_size=1, max_size=5))
def test_signed_adobe_batches_always_answer_200_and_every_event_is_stored(
    live: LiveBot, adobe: FakeAdobeIO, client: httpx.Client, batch: list[dict[str, Any]]
) -> None:
    body, headers = adobe.signed(batch, body=body_of(batch, 0))
    r = client.post("/hooks/adobe-io", content=body, headers=headers)
    assert r.status_code == 200, r.text
    assert len(r.json()["accepted"]) == len(batch)
    assert_retrievable(live, r)
