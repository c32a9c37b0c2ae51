"""`POST /hooks/events` bodies → Notifications: values that would fail at commit or render time are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from notifbot.errors import InputError
from notifbot.sources.events import parse_body, parse_event
from notifbot.sources.storable import MAX_DEPTH

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _nested(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = [value]
    return value


def _locs(body: bytes) -> list[str]:
    with pytest.raises(InputError) as caught:
        parse_body(body, now=NOW)
    return [d.loc for d in caught.value.details]


@pytest.mark.parametrize(
    "body,loc",
    [
        (b'{"kind":"audit","occurred_at":"0001-01-01T00:00:00+14:00"}', "occurred_at"),
        (b'[{"kind":"audit"},{"kind":"audit","occurred_at":"9999-12-31T23:00:00-14:00"}]', "[1].occurred_at"),
        (b'{"kind":"web_services","fields":{"percent":1e400}}', "fields.percent"),
        (b'{"kind":"zzz","fields":{"x":[1,1e999]}}', "fields.x[1]"),
        (b'{"kind":"audit","fields":{"n":' + b"9" * 30 + b"}}", "fields.n"),
        (b'{"kind":"crm_sync","fields":{"period_end":"9999-12-31T23:59:59-01:00"}}', "fields.period_end"),
    ],
)
def test_unstorable_values_are_refused_where_they_are(body: bytes, loc: str) -> None:
    assert _locs(body) == [loc]


def test_lone_surrogates_and_deep_json_are_not_json_here() -> None:
    assert _locs(b'{"kind":"audit","summary":"\\ud800"}') == ["body"]
    assert _locs(b'{"kind":"audit","fields":{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}}") == ["body"]


@pytest.mark.parametrize(
    "event,loc",
    [
        ({"kind": "audit", "summary": "a\udc00b"}, "summary"),
        ({"kind": "audit", "labels": {"team": "\ud800"}}, "labels.team"),
        ({"kind": "audit", "labels": {"\ud800": "x"}}, "labels.\ud800"),
        ({"kind": "audit", "fields": {"error": "\ud800"}}, "fields.error"),
        ({"kind": "audit", "id": "k\ud800"}, "id"),
        ({"kind": "audit", "fields": {"x": _nested(300)}}, "fields.x" + "[0]" * (MAX_DEPTH - 1)),
        ({"kind": "audit", "fields": {"n": 2**64}}, "fields.n"),
    ],
)
def test_python_callers_get_the_same_checks(event: dict[str, Any], loc: str) -> None:
    """Pollers and the Adobe mapping build events as dicts: a lone surrogate there must not reach SQLite."""
    with pytest.raises(InputError) as caught:
        parse_event(event, now=NOW)
    assert [d.loc for d in caught.value.details] == [loc]


def test_edge_but_representable_times_are_kept() -> None:
    (n,) = parse_body(b'{"kind":"audit","occurred_at":"0001-01-02T00:00:00Z"}', now=NOW)
    assert n.occurred_at == datetime(1, 1, 2, tzinfo=UTC)
    (m,) = parse_body(b'{"kind":"audit","occurred_at":"9999-12-30T10:00:00+14:00"}', now=NOW)
    assert m.occurred_at.year == 9999
