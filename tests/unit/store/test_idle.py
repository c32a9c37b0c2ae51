"""The idle-time computation in Python (store/idle.py) answers exactly what the SQL it replaced answered on SQLite.

`OLD_IDLE_CTE` and the `OLD_*` statements are the SQLite-only SQL that computed idle times until the PostgreSQL
port (julianday, json_extract, scalar min/max, named parameters), kept here verbatim as the reference: the same
random rows (unreadable and edge dates, bare dates, NULLs, missing or broken cursors) go through both.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from notifbot.commands.marketo_queries import stale_triggers
from notifbot.store import idle
from notifbot.store.db import connect
from notifbot.store.trigger_state import at_risk_unannounced, undecided_at


def old_julian(column: str) -> str:
    return f"coalesce(julianday({column}), julianday(substr({column}, 1, 19)))"


OLD_COVERED_FROM = "json_extract(p.cursor, '$.covered_from')"
OLD_IDLE_CTE = (
    "WITH b AS (SELECT t.instance, t.campaign_id, t.name, t.program_name, t.url, t.cleanup_stage, t.cleanup_on,"
    f" t.at_risk_notified_at, t.predates_watch, {old_julian('t.last_activity_at')} AS la,"
    f" {old_julian('t.observed_since')} AS os, {old_julian('t.created_at')} AS cr,"
    f" CASE WHEN json_valid(p.cursor) THEN {old_julian(OLD_COVERED_FROM)} END AS cov"
    " FROM trigger_campaigns t"
    " LEFT JOIN poller_state p ON p.instance = t.instance AND p.poller = 'activities'"
    " WHERE t.is_active = 1),"
    " q AS (SELECT *, CASE WHEN la IS NOT NULL THEN 'activity' WHEN cov IS NULL OR predates_watch = 0"
    " THEN 'observed' WHEN cr >= cov THEN 'created' ELSE 'at_least' END AS basis FROM b),"
    " s AS (SELECT *, CASE basis WHEN 'activity' THEN la WHEN 'created' THEN cr WHEN 'at_least' THEN cov"
    " ELSE max(os, coalesce(cov, os)) END AS qs FROM q),"
    " c AS (SELECT *, CASE WHEN cleanup_stage = 'scheduled' THEN min(qs, :now - 180) ELSE qs END"
    " AS jd FROM s),"
    " d AS (SELECT *, CAST(:now - jd AS INTEGER) AS days, coalesce(cleanup_stage = 'scheduled' AND"
    f" (CASE WHEN length(cleanup_on) <= 10 THEN julianday(cleanup_on) + 1 ELSE {old_julian('cleanup_on')} END)"
    " <= :now, 0) AS due_passed FROM c WHERE jd IS NOT NULL)"
)
# ties on (jd, name) had no order in SQL: instance and id break them, as store/idle.py does
OLD_ALL = (
    f"{OLD_IDLE_CTE} SELECT instance, campaign_id, jd, days, basis, due_passed, la IS NOT NULL AS seen FROM d"
)
OLD_ORDER = " ORDER BY jd, name, instance, campaign_id"
OLD_AT_RISK = (
    f"{OLD_IDLE_CTE} SELECT campaign_id, jd, days, basis FROM d WHERE instance = :instance AND days >= :risk"
    " AND coalesce(cleanup_stage, '') <> 'scheduled'"
    " AND (at_risk_notified_at IS NULL OR at_risk_notified_at / 86400.0 + 2440587.5 < jd)"
    f"{OLD_ORDER}"
)
OLD_COUNTS = (
    f"{OLD_IDLE_CTE} SELECT count(*), coalesce(sum(days >= :risk AND NOT due_passed), 0),"
    " coalesce(sum(due_passed), 0) FROM d WHERE days >= :min"
)
OLD_STALE = (
    f"{OLD_IDLE_CTE} SELECT instance, campaign_id, jd, days, basis, due_passed, la IS NOT NULL AS seen"
)
OLD_STALE += f" FROM d WHERE days >= :min{OLD_ORDER} LIMIT :limit"
OLD_UNDECIDED = (
    "SELECT 1 FROM trigger_campaigns WHERE instance = ? AND is_active = 1 AND predates_watch = 1"
    " AND last_activity_at IS NULL AND coalesce(cleanup_stage, '') <> 'scheduled'"
    f" AND (created_at IS NULL OR {old_julian('created_at')} <= ?) LIMIT 1"
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    c = connect(Path(tmp_path_factory.mktemp("idle")) / "n.db", synchronous="off")
    yield c
    c.close()


def iso(dt: datetime, form: int) -> str:
    forms = (
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%d",
        "%Y-%m-%dT%H:%M:%S.%fZ",
        "%Y-%m-%dT%H:%M:%SZ+0000",  # Marketo's style: unreadable whole, its first 19 characters are
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S+02:00",
        "%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S.%f-11:30",
    )
    return dt.strftime(forms[form % len(forms)])


def mutated(text: str, at: int, ch: str) -> str:
    at %= max(len(text), 1)
    return text[:at] + ch + text[at + 1 :]


times = st.datetimes(min_value=datetime(1999, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC))
good = st.builds(iso, times, st.integers(0, 7))
stamps = st.one_of(
    good,
    good,
    st.builds(mutated, good, st.integers(0, 40), st.sampled_from(list("0123456789-:TZ+. z\t/"))),
    st.builds(lambda t, n: t[:n], good, st.integers(0, 30)),
    st.text(alphabet="0123456789-:TZz+. \t.eE", max_size=26),
    st.sampled_from(
        ["2026-02-31", "2025-12-31T24:00", "24:00", "-0001-03-01", "9999-12-31T23:59:59Z", "2460000.5"]
    ),
    st.sampled_from(
        ["1.e5", "+.5", " 2451544.5 ", "0", "-1", "5373484.4", "1e400", "2024-13-01", "٢٠٢٤-01-01", ""]
    ),
    st.floats(-10, 6e6, allow_nan=False).map(repr),
    st.text(max_size=12).filter(lambda s: "\x00" not in s and s.strip().lower() != "now"),
)
cover_values = st.one_of(
    good,
    stamps,
    st.none(),
    st.integers(-(2**70), 2**70),
    st.floats(-1e30, 1e30, allow_nan=False),
    st.booleans(),
    st.just([1]),
    st.just({"a": 1}),
)
cursors = st.one_of(
    st.none(),  # no scan yet
    st.builds(lambda v: json.dumps({"mode": "rest", "covered_from": v}), cover_values),
    st.just(json.dumps({"mode": "rest"})),
    st.builds(lambda v: f'{{"covered_from": {json.dumps(v)}, "covered_from": "2020-01-01"}}', good),
    st.sampled_from(["", "{", "[]", '"2024-01-01"', "null", '{"covered_from": NaN}', "{'covered_from': 1}"]),
    st.builds(
        lambda v: f'{{"covered_from": {v}}}', st.sampled_from(["1e400", "12345678901234567890123", "-0"])
    ),
)
campaigns = st.fixed_dictionaries(
    {
        "instance": st.sampled_from(["a", "b"]),
        "name": st.sampled_from(["x", "y", "Zed", "é"]),
        "is_active": st.sampled_from([1, 1, 1, 0]),
        "predates_watch": st.sampled_from([0, 1]),
        "last_activity_at": st.one_of(st.none(), st.none(), stamps),
        "observed_since": stamps,
        "created_at": st.one_of(st.none(), stamps),
        "cleanup_stage": st.sampled_from([None, None, "scheduled", "deactivated", "other"]),
        "cleanup_on": st.one_of(st.none(), stamps),
        "at_risk_notified_at": st.one_of(st.none(), st.floats(1.6e9, 1.8e9)),
    }
)
scenarios = st.fixed_dictionaries(
    {
        "rows": st.lists(campaigns, max_size=10),
        "cursors": st.fixed_dictionaries({"a": cursors, "b": cursors}),
        "now": st.datetimes(
            min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
        ),
        "min": st.integers(-2, 400),
        "risk": st.integers(0, 400),
        "limit": st.integers(1, 12),
    }
)


def load(conn: sqlite3.Connection, s: dict[str, Any]) -> None:
    conn.execute("DELETE FROM trigger_campaigns")
    conn.execute("DELETE FROM poller_state")
    for cid, r in enumerate(s["rows"], start=1):
        conn.execute(
            f"INSERT INTO trigger_campaigns (campaign_id, updated_at, {', '.join(r)})"
            f" VALUES (?, ?, {', '.join('?' for _ in r)})",
            (cid, NOW.timestamp() - cid * 86_400, *r.values()),
        )
    for instance, cursor in s["cursors"].items():
        if cursor is not None:
            conn.execute(
                "INSERT INTO poller_state (instance, poller, cursor) VALUES (?, 'activities', ?)",
                (instance, cursor),
            )


def python_rows(conn: sqlite3.Connection, now: float) -> list[idle.Idle]:
    names = ", ".join(f.name for f in fields(idle.CampaignRow))
    rows = [
        idle.CampaignRow(*r)
        for r in conn.execute(f"SELECT {names} FROM trigger_campaigns WHERE is_active = 1").fetchall()
    ]
    coverage = {
        str(r[0]): idle.covered_from(r[1])
        for r in conn.execute(
            "SELECT instance, cursor FROM poller_state WHERE poller = 'activities'"
        ).fetchall()
    }
    return idle.classify(rows, coverage, now)


@given(scenarios)
@example(
    {
        "rows": [dict(instance="a", name="x", is_active=1, predates_watch=1, last_activity_at=None,
                      observed_since="2026-01-01T00:00:00Z", created_at="2025-01-01T00:00:00Z+0000",
                      cleanup_stage="scheduled", cleanup_on="2026-05-31", at_risk_notified_at=None)],
        "cursors": {"a": json.dumps({"covered_from": "2025-06-01T00:00:00Z"}), "b": "{"},
        "now": NOW, "min": 0, "risk": 150, "limit": 5,
    }
)  # fmt: skip
def test_python_idle_times_equal_the_old_sql(conn: sqlite3.Connection, s: dict[str, Any]) -> None:
    load(conn, s)
    now = idle.julian_day(s["now"])
    args = {"now": now, "min": s["min"], "risk": s["risk"], "limit": s["limit"]}
    expected = [tuple(r) for r in conn.execute(OLD_ALL + OLD_ORDER, args).fetchall()]
    got = [
        (i.row.instance, i.row.campaign_id, i.jd, i.days, i.basis, int(i.due_passed), int(i.seen_activity))
        for i in python_rows(conn, now)
    ]
    assert got == expected

    for instance in ("a", "b"):
        old = [tuple(r) for r in conn.execute(OLD_AT_RISK, {**args, "instance": instance}).fetchall()]
        new = at_risk_unannounced(conn, instance, s["now"], s["risk"])
        assert [(a.campaign_id, idle.julian_day(a.idle_since), a.idle_days, a.at_least) for a in new] == [
            (cid, idle.julian_day(idle.from_julian(jd)), days, basis == "at_least")
            for cid, jd, days, basis in old
        ]
        before = s["now"] - timedelta(days=s["risk"])
        old_undecided = (
            conn.execute(OLD_UNDECIDED, (instance, idle.julian_day(before))).fetchone() is not None
        )
        assert undecided_at(conn, instance, before) == old_undecided

    stale = stale_triggers(conn, s["min"], s["now"], s["limit"], s["risk"])
    assert (stale.idle_count, stale.at_risk, stale.due_passed) == tuple(
        conn.execute(OLD_COUNTS, args).fetchone()
    )
    old_rows = conn.execute(OLD_STALE, args).fetchall()
    assert [
        (t.instance, t.campaign_id, t.idle_since, t.idle_days, t.basis, t.cleanup_due_passed, t.seen_activity)
        for t in stale.idle
    ] == [(r[0], r[1], idle.from_julian(r[2]), r[3], r[4], bool(r[5]), bool(r[6])) for r in old_rows]


@given(st.one_of(stamps, st.integers(-(2**40), 2**40), st.floats(-1e7, 1e7, allow_nan=False)))
def test_julianday_reads_stored_values_as_sqlite_does(conn: sqlite3.Connection, value: object) -> None:
    old = conn.execute(
        "SELECT julianday(?), coalesce(julianday(?), julianday(substr(?, 1, 19)))", (value,) * 3
    )
    whole, first19 = old.fetchone()
    assert (idle.sqlite_julianday(value), idle.julian(value)) == (whole, first19)
