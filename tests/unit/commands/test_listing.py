"""The notification list (`recent_page`) on both backends: keyset pages in both directions, filters, statuses, and
the bounded search's windows, against a model of what was stored."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifbot.commands.listing import STATUSES, Filters, ListPage, ListRequestError, recent_page
from notifbot.digests import DigestPolicy, DigestRef
from notifbot.groups import GroupPolicy, GroupRef
from notifbot.sources.events import parse_event
from notifbot.store.conn import Conn
from notifbot.store.db import connect, transaction
from notifbot.store.events import Target, insert_notifications
from notifbot.store.mutes import add_mute

NOW = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
GROUP = GroupRef(
    "g", "kind=campaign_failure", GroupPolicy((), timedelta(0), timedelta(minutes=5), timedelta(hours=4))
)
DIGEST = DigestRef("d", "kind=crm_sync", DigestPolicy(timedelta(hours=1), datetime.min.time(), "UTC"))
KINDS = ("audit", "crm_sync", "campaign_failure")
INSTANCES = (None, "I1", "I2")
ROW_STATES = ("pending", "delivered", "dead", "acked")  # acked: delivered, then acknowledged


@dataclass(frozen=True)
class Event:
    """What one stored event is in the model: its columns and its fate (its own rows' states, or else)."""

    kind: str
    instance: str | None
    summary: str | None
    fate: str  # "own", "muted", "unrouted", "group", "digest"
    rows: tuple[str, ...] = ()  # the states of its own rows, one per destination


def row_status(states: list[str]) -> str:
    if "dead" in states:
        return "dead"
    if "acked" in states:
        return "acknowledged"
    return "pending" if "pending" in states else "delivered"


def status_of(e: Event, group: str, digest: str) -> str:
    if e.fate == "muted":
        return "muted"
    if e.fate == "unrouted":
        return "not routed"
    return row_status([group] if e.fate == "group" else [digest] if e.fate == "digest" else list(e.rows))


def matches(e: Event, key: str, f: Filters, group: str, digest: str) -> bool:
    """The filter as the console documents it, computed from the model."""
    if (f.kind and e.kind != f.kind) or (f.instance and e.instance != f.instance):
        return False
    if f.q and not any(f.q.lower() in (v or "").lower() for v in (e.summary, e.kind, e.instance, key)):
        return False
    if f.status == "grouped":
        return e.fate in ("group", "digest")
    return not f.status or status_of(e, group, digest) == f.status


def clear(conn: Conn) -> None:
    with transaction(conn):
        for table in (
            "digest_events",
            "alert_group_events",
            "outbox",
            "digests",
            "alert_groups",
            "events",
            "mutes",
        ):
            conn.execute(f"DELETE FROM {table}")


def set_state(conn: Conn, where: str, args: list[object], state: str) -> None:
    status = "delivered" if state == "acked" else state
    acked = "U1" if state == "acked" else None
    conn.execute(
        f"UPDATE outbox SET status = ?, acked_by = ?, acked_at = ? WHERE {where}", [status, acked, 1.0, *args]
    )


def store(conn: Conn, events: list[Event], group: str = "pending", digest: str = "delivered") -> list[int]:
    """Stores the model's events in order (one batch each, so ids follow it); returns their ids."""
    clear(conn)
    mute = add_mute(conn, "audit", NOW + timedelta(hours=1), "U1 (ana)", None, NOW)
    ids = []
    for i, e in enumerate(events):
        fields = {"kind": e.kind, "id": f"e{i}", "instance": e.instance, "summary": e.summary}
        n = parse_event({k: v for k, v in fields.items() if v is not None}, now=NOW + timedelta(seconds=i))
        targets = {
            "group": [Target("ops", "slack", "C2", GROUP)],
            "digest": [Target("crm", "slack", "C3", digest=DIGEST)],
            "own": [Target(f"d{j}", "slack", f"C{j}") for j in range(len(e.rows))],
        }.get(e.fate, [])
        [accepted] = insert_notifications(
            conn, [(n, targets)], {n.key: mute.id} if e.fate == "muted" else None
        )
        ids.append(accepted.event_id)
        for j, state in enumerate(e.rows if e.fate == "own" else ()):
            set_state(conn, "event_id = ? AND destination = ?", [accepted.event_id, f"d{j}"], state)
    set_state(conn, "group_id IS NOT NULL", [], group)
    set_state(conn, "digest_id IS NOT NULL", [], digest)
    return ids


def walk(conn: Conn, f: Filters, limit: int, scan_rows: int, older: bool) -> Iterator[ListPage]:
    """Every page from the newest back (older) or from the oldest forward, following the page's cursor."""
    cursor: int | None = None if older else 0
    for _ in range(10_000):
        page = recent_page(
            conn, f, cursor if older else None, None if older else cursor, limit, scan_rows=scan_rows
        )
        yield page
        cursor = page.older if older else page.newer
        if cursor is None:
            return
    raise AssertionError("the walk did not end")


events_st = st.builds(
    Event,
    kind=st.sampled_from(KINDS),
    instance=st.sampled_from(INSTANCES),
    summary=st.none() | st.text(alphabet="abAB%_\\ ", max_size=5),
    fate=st.sampled_from(("own", "own", "own", "muted", "unrouted", "group", "digest")),
    rows=st.lists(st.sampled_from(ROW_STATES), min_size=1, max_size=2).map(tuple),
)
filters_st = st.builds(
    Filters,
    kind=st.none() | st.sampled_from(KINDS),
    instance=st.none() | st.sampled_from(INSTANCES[1:]),
    status=st.none() | st.sampled_from(STATUSES),
    q=st.none() | st.sampled_from(("a", "B", "%", "_", "\\", "E1", "crm", "i2", "zz")),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    events=st.lists(events_st, max_size=24),
    f=filters_st,
    limit=st.integers(1, 4),
    scan_rows=st.sampled_from((1, 3, 7, 1_000)),
    group=st.sampled_from(ROW_STATES),
    digest=st.sampled_from(ROW_STATES),
)
def test_walking_either_way_lists_exactly_the_matching_events(
    store_conn: Conn, events: list[Event], f: Filters, limit: int, scan_rows: int, group: str, digest: str
) -> None:
    conn = store_conn
    ids = store(conn, events, group, digest)
    expected = [
        i for i, e in zip(ids, events, strict=True) if matches(e, f"e{ids.index(i)}", f, group, digest)
    ]
    newest_first = expected[::-1]
    pages = list(walk(conn, f, limit, scan_rows, older=True))
    seen = [r.event_id for p in pages for r in p.rows]
    assert seen == newest_first
    assert all(len(p.rows) <= limit for p in pages) and pages[0].newer is None
    for p in pages:
        if p.stopped is None:  # a page that is not cut by its window is full, or the last
            assert len(p.rows) == limit or p is pages[-1]
        if p.rows and p.newer is not None:  # its "newer" link shows the events just above it
            above = recent_page(conn, f, None, p.newer, limit, scan_rows=1_000)
            start = newest_first.index(p.rows[0].event_id)
            assert [r.event_id for r in above.rows] == newest_first[max(0, start - limit) : start]
    forward = [r.event_id for p in walk(conn, f, limit, scan_rows, older=False) for r in p.rows[::-1]]
    assert forward == expected


def own(*states: str, kind: str = "audit", instance: str | None = None, summary: str | None = None) -> Event:
    return Event(kind, instance, summary, "own", states)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("dead", [1, 3]),
        ("pending", [2, 7]),
        ("delivered", [0, 8]),
        ("acknowledged", [4]),
        ("muted", [5]),
        ("grouped", [7, 8]),
    ],
)
def test_each_status_lists_the_events_showing_it(store_conn: Conn, status: str, expected: list[int]) -> None:
    events = [
        own("delivered"),
        own("dead", "pending"),  # dead outranks pending
        own("pending", "delivered"),
        own("acked", "dead"),
        own("acked", "pending"),  # an acknowledged alert is acknowledged, pending rows or not
        Event("audit", None, None, "muted"),
        Event("audit", None, None, "unrouted"),
        Event("campaign_failure", None, None, "group"),
        Event("crm_sync", None, None, "digest"),
    ]
    ids = store(store_conn, events, group="pending", digest="delivered")
    for scan_rows in (2, 1_000):  # in windows too, for the statuses answered by a search
        walked = [
            r for p in walk(store_conn, Filters(status=status), 50, scan_rows, older=True) for r in p.rows
        ]
        assert [r.event_id for r in walked] == [ids[i] for i in reversed(expected)]
        assert all(r.status == status or status == "grouped" for r in walked)


def test_a_search_window_stops_reports_where_and_continues(store_conn: Conn) -> None:
    events = [own("delivered", instance="I2" if i in (3, 25) else "I1") for i in range(30)]
    ids = store(store_conn, events)
    f = Filters(instance="I2")
    first = recent_page(store_conn, f, None, None, 5, scan_rows=10)  # ids 21–30
    assert [r.event_id for r in first.rows] == [ids[25]] and first.newer is None
    assert first.stopped is not None and first.older == first.stopped.cursor == ids[19] + 1
    reached = store_conn.execute("SELECT received_at FROM events WHERE id = ?", (ids[20],)).fetchone()[0]
    assert first.stopped.reached == reached  # "searched back to" the oldest event it looked at
    second = recent_page(store_conn, f, first.older, None, 5, scan_rows=10)
    assert second.rows == [] and second.stopped is not None and second.older == ids[9] + 1
    last = recent_page(store_conn, f, second.older, None, 5, scan_rows=10)
    assert [r.event_id for r in last.rows] == [ids[3]] and last.stopped is None and last.older is None
    forward = recent_page(store_conn, f, None, ids[0] - 1, 5, scan_rows=10)  # the oldest ten, going newer
    assert [r.event_id for r in forward.rows] == [ids[3]]
    assert forward.stopped is not None and forward.newer == ids[9] and forward.older == ids[3]


def test_a_window_over_a_gap_in_the_ids_skips_to_the_next_stored_event(store_conn: Conn) -> None:
    ids = store(store_conn, [own("delivered", summary="x" if i == 2 else "y") for i in range(30)])
    with transaction(store_conn):
        store_conn.execute("DELETE FROM outbox WHERE event_id > ? AND event_id < ?", (ids[2], ids[28]))
        store_conn.execute("DELETE FROM events WHERE id > ? AND id < ?", (ids[2], ids[28]))
    page = recent_page(store_conn, Filters(q="X"), None, None, 5, scan_rows=3)
    assert page.rows == [] and page.stopped is not None and page.older == ids[2] + 1
    assert [
        r.event_id for r in recent_page(store_conn, Filters(q="x"), page.older, None, 5, scan_rows=3).rows
    ] == [ids[2]]


def test_q_is_case_insensitive_text_and_its_wildcards_are_literal(store_conn: Conn) -> None:
    events = [
        own("delivered", summary="Quota 100% used"),
        own("delivered", summary="Quota 1000 used"),
        own("delivered", summary="snake_case"),
        own("delivered", summary="snakeXcase", instance="Back\\slash"),
        own("delivered", summary="Åre"),
    ]
    ids = store(store_conn, events)

    def found(q: str) -> list[int]:
        return [ids.index(r.event_id) for r in recent_page(store_conn, Filters(q=q), None, None, 10).rows]

    assert found("100%") == [0] and found("QUOTA") == [1, 0] and found("e_c") == [2]
    assert found("k\\s") == [3] and found("E3") == [3] and found("audit") == [4, 3, 2, 1, 0]
    assert (
        found("ÅRE") == [4] and found("åre") == []
    )  # the case of ASCII letters only, alike on both backends


def test_pages_by_index_need_no_window(store_conn: Conn) -> None:
    ids = store(store_conn, [own("dead" if i % 2 else "delivered", kind=KINDS[i % 3]) for i in range(12)])
    for f in (Filters(), Filters(kind="crm_sync"), Filters(status="dead")):
        assert not f.bounded
        page = recent_page(store_conn, f, None, None, 2, scan_rows=1)
        assert page.stopped is None and len(page.rows) == 2 and page.older == page.rows[-1].event_id
    assert Filters(kind="audit", status="dead").bounded and Filters(instance="I1").bounded
    middle = recent_page(store_conn, Filters(), ids[6], None, 3)
    assert [r.event_id for r in middle.rows] == ids[3:6][::-1] and (middle.older, middle.newer) == (
        ids[3],
        ids[5],
    )


def test_an_empty_store_and_bad_requests(store_conn: Conn) -> None:
    clear(store_conn)
    for f in (Filters(), Filters(q="x"), Filters(status="pending")):
        assert recent_page(store_conn, f, None, None, 50) == ListPage([], None, None)
    with pytest.raises(ListRequestError, match="not both"):
        recent_page(store_conn, Filters(), 5, 3, 50)
    with pytest.raises(ListRequestError, match="at least 1"):
        recent_page(store_conn, Filters(), None, None, 0)
    with pytest.raises(ListRequestError, match="unknown status 'lost'"):
        Filters(status="lost")


def filled(path: Path, events: int) -> sqlite3.Connection:
    """A SQLite store of `events` events: all pending (an outage) but one in 7 dead, one in 400 muted, a rare kind."""
    conn = connect(path)
    mute = add_mute(conn, "audit", NOW + timedelta(hours=1), "U1 (ana)", None, NOW)
    items, muted = [], {}
    for i in range(events):
        n = parse_event(
            {"kind": "crm_sync" if i % 97 == 0 else "audit", "id": f"e{i}", "instance": "I1"}, now=NOW
        )
        items.append((n, [Target("ops", "slack", "C1")]))
        if i % 400 == 0:
            muted[n.key] = mute.id
    for start in range(0, events, 500):
        insert_notifications(conn, items[start : start + 500], muted)
    conn.execute("UPDATE outbox SET status = 'dead' WHERE id % 7 = 0")
    return conn


def work(conn: sqlite3.Connection, f: Filters, before: int | None = None) -> int:
    """SQLite virtual machine steps (in hundreds) one page takes: a measure of rows read, free of timing noise."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    conn.set_progress_handler(count, 100)
    try:
        page = recent_page(conn, f, before, None, 20, scan_rows=300)
    finally:
        conn.set_progress_handler(None, 0)
    assert page.rows or f.q
    return steps[0]


@pytest.fixture(scope="module")
def stores(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[sqlite3.Connection, sqlite3.Connection]]:
    folder = tmp_path_factory.mktemp("stores")
    small, large = filled(folder / "small.db", 1_000), filled(folder / "large.db", 10_000)
    yield small, large
    small.close()
    large.close()


@pytest.mark.parametrize(
    "f",
    [
        Filters(),
        Filters(kind="crm_sync"),
        Filters(status="dead"),
        Filters(status="pending"),
        Filters(status="muted"),
        Filters(q="never there"),
        Filters(instance="I1", status="pending"),
    ],
    ids=repr,
)
def test_a_page_costs_the_same_at_ten_times_the_rows(
    stores: tuple[sqlite3.Connection, sqlite3.Connection], f: Filters
) -> None:
    small, large = stores
    assert work(large, f) <= 1.5 * work(small, f) + 50
    assert work(large, f, before=5_000) <= 1.5 * work(small, f, before=500) + 50


def test_candidates_that_show_another_status_are_checked_a_window_at_a_time(store_conn: Conn) -> None:
    events = [own("pending")] + [own("pending", "dead") for _ in range(8)]  # pending rows, but dead events
    ids = store(store_conn, events)
    page = recent_page(store_conn, Filters(status="pending"), None, None, 2, scan_rows=3)
    assert page.rows == [] and page.stopped is not None and page.older == page.stopped.cursor == ids[6]
    pages = list(walk(store_conn, Filters(status="pending"), 2, 3, older=True))
    assert [[r.event_id for r in p.rows] for p in pages] == [[], [], [ids[0]], []]  # 3 checked a request
    assert [p.stopped is not None for p in pages] == [True, True, True, False]
