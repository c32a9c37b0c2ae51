"""The storable-value checks every source's events pass before the shared commit; pure functions."""

from __future__ import annotations

import json
import math
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifbot.sources.storable import (
    DATE_RANGE_MSG,
    EARLIEST,
    LATEST,
    MAX_DEPTH,
    in_range,
    problems,
    safe_json,
    time_text_problems,
)

PLUS14, MINUS14 = timezone(timedelta(hours=14)), timezone(timedelta(hours=-14))


@pytest.mark.parametrize(
    "value,ok",
    [
        (datetime(1, 1, 1, tzinfo=PLUS14), False),  # astimezone(UTC) overflows
        (datetime(9999, 12, 31, 23, tzinfo=MINUS14), False),
        (datetime(1, 1, 1, 3, tzinfo=UTC), False),  # stored fine, but US Central cannot show it
        (datetime(9999, 12, 31, 23, 59), False),  # naive = UTC
        (EARLIEST, True),
        (LATEST, True),
        (EARLIEST - timedelta(microseconds=1), False),
        (datetime(2026, 11, 28, 10, tzinfo=PLUS14), True),
    ],
)
def test_in_range(value: datetime, ok: bool) -> None:
    assert in_range(value) is ok


def test_problems_are_located() -> None:
    value = {
        "a": [1, 2**63, -(2**63)],
        "b": {"c": math.inf, "d": "ok \ud800"},
        "e\udc00": 1,
        "f": datetime(1, 1, 1, tzinfo=PLUS14),
        "g": object(),
    }
    assert [(d.loc, d.msg.split(":")[0]) for d in problems(value, "[3].fields")] == [
        ("[3].fields.a[1]", "integer out of range"),
        ("[3].fields.b.c", "number out of range"),
        ("[3].fields.b.d", "text holds a lone UTF-16 surrogate (invalid Unicode)"),
        ("[3].fields.e\udc00", "name holds a lone UTF-16 surrogate"),
        ("[3].fields.f", "date out of range"),
        ("[3].fields.g", "not a JSON value (object)"),
    ]


def test_depth_is_bounded_without_recursion() -> None:
    deep: Any = "x"
    for _ in range(100_000):
        deep = [deep]
    found = problems({"x": deep}, "fields")
    assert len(found) == 1 and "nested more than" in found[0].msg
    assert problems({"x": _nested(MAX_DEPTH - 1)}) == []


def _nested(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = [value]
    return value


def test_time_fields_given_as_text() -> None:
    fields = {
        "deactivate_on": "0001-01-01T00:00:00+01:00",
        "resets_at": "next Tuesday",
        "period_start": "9999-12-31T23:00:00Z-1400",  # Marketo's style, read as renderers read it
        "period_end": "2026-11-28T10:00:00Z",
    }
    found = time_text_problems(fields, "fields")
    assert [(d.loc, d.msg) for d in found] == [
        ("fields.deactivate_on", DATE_RANGE_MSG),
        ("fields.period_start", DATE_RANGE_MSG),
    ]
    assert time_text_problems({"deactivate_on": "2026-12-01"}, "fields") == []


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["\ud800", "a\udfffb", "\udc00\ud800", "x" * 20_000])
    | st.datetimes(timezones=st.just(PLUS14) | st.just(UTC) | st.none()),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=30,
)


@given(JSONISH)
def test_safe_json_is_always_storable(value: Any) -> None:
    safe = safe_json(value)
    assert problems(safe) == []
    text = json.dumps(safe, allow_nan=False)
    conn = sqlite3.connect(":memory:")
    assert conn.execute("SELECT ?", (text,)).fetchone()[0] == text  # UTF-8 encodable: no lone surrogates


def _depth(value: Any) -> int:
    levels = 0
    while isinstance(value, list) and value:
        value, levels = value[0], levels + 1
    return levels


def test_safe_json_cuts_depth_and_length() -> None:
    cut = safe_json(_nested(500))
    assert _depth(cut) == MAX_DEPTH - 4
    assert problems({"fields": {"payload": cut}}) == []  # still storable nested inside an event
    assert len(safe_json("x" * 50_000)) == 10_000
    assert safe_json(10**5000).startswith("an integer of about")
    assert safe_json({"\ud800": math.inf}) == {"\ufffd": "inf"}
