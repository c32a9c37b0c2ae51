"""The notification pages' and the outbox page's context functions over a real store, and their pure parts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from notifbot.commands.listing import ListPage, Stop
from notifbot.config import parse_settings
from notifbot.config.preview import preview
from notifbot.groups import GroupPolicy, GroupRef
from notifbot.sources.events import parse_event
from notifbot.store.conn import Conn
from notifbot.store.event_detail import Delivery
from notifbot.store.events import Target, insert_notifications
from notifbot.store.runner import Database
from notifbot.ui.auth import Session
from notifbot.ui.notifications import (
    PAGE_SIZE,
    Request,
    acked_of,
    list_values,
    request_of,
    shared_text,
    status_class,
    when,
)
from notifbot.ui.pages import ROWS_SHOWN, PageError, View, notification_detail, notification_list, outbox_rows

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
T0 = NOW.timestamp()
ADMIN = Session("admin", "console token", 2_000_000_000, "nonce")
VIEWER = Session("viewer", "console token", 2_000_000_000, "nonce")
SLACK = Target("ops", "slack", "C1")
GROUP = GroupRef(
    "g", "kind=web_services", GroupPolicy((), timedelta(0), timedelta(minutes=5), timedelta(hours=4))
)
PREVIEW = preview(parse_settings({"locale": "sv"}, source="test"), interactive=True)


def fill(conn: Conn, n: int, *, kind: str = "audit", targets: tuple[Target, ...] = (SLACK,)) -> list[int]:
    """`n` events one second apart (oldest first), one batch; their ids."""
    items = [
        (parse_event({"kind": kind, "id": f"{kind}-{i}"}, now=NOW - timedelta(seconds=n - i)), list(targets))
        for i in range(n)
    ]
    return [a.event_id for a in insert_notifications(conn, items, now=T0)]


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "n.db")
    yield database
    database.close()


def view(
    db: Database, query: Mapping[str, str] | None = None, session: Session = VIEWER, **params: Any
) -> View:
    return View(db, query or {}, params, session, T0 + 90, PREVIEW)


async def test_the_list_pages_fifty_newest_first_both_ways(db: Database) -> None:
    ids = await db.call(fill, PAGE_SIZE + 7)
    first = await notification_list(view(db))
    items: list[Any] = first["items"]  # type: ignore[assignment]
    assert [i.id for i in items] == ids[::-1][:PAGE_SIZE]
    assert (first["newer"], first["newest"]) == (None, None)
    assert first["older"] == f"/notifications?before={ids[7]}"
    older = await notification_list(view(db, {"before": str(ids[7])}))
    assert [i.id for i in older["items"]] == ids[6::-1]  # type: ignore[attr-defined]
    assert older["older"] is None and older["newer"] == f"/notifications?after={ids[6]}"
    assert older["newest"] == "/notifications"
    back = await notification_list(view(db, {"after": str(ids[6])}))
    assert [i.id for i in back["items"]] == [i.id for i in items]  # type: ignore[attr-defined]
    top = items[0]
    assert (top.status, top.status_class, top.kind, top.title, top.received.relative) == (
        "pending",
        "status-pending",
        "audit",
        "Marketo audit event",
        "1 min ago",
    )


async def test_filters_reach_the_list_and_its_links(db: Database) -> None:
    await db.call(fill, 3)
    crm = await db.call(fill, 2, kind="crm_sync")
    page = await notification_list(view(db, {"kind": "crm_sync", "q": "", "status": "pending"}))
    assert [i.id for i in page["items"]] == crm[::-1]  # type: ignore[attr-defined]
    assert page["filters"] == {"kind": "crm_sync", "instance": "", "status": "pending", "q": ""}
    assert page["filtered"] is True and page["older"] is None and page["stopped"] is None


def test_a_query_is_read_leniently_and_says_what_it_ignored() -> None:
    r = request_of({"status": "bogus", "before": "12", "after": "13", "q": "  x" * 100})
    assert r.problem == (
        "Unknown status 'bogus': showing every status. A page has one cursor: showing the older page."
    )
    assert (r.before, r.after) == (12, None)
    assert r.filters["status"] == "" and len(r.filters["q"]) == 200
    r = request_of({"status": "bogus", "before": "-1", "after": "9" * 19})
    assert r.problem == "Unknown status 'bogus': showing every status." and (r.before, r.after) == (
        None,
        None,
    )
    assert request_of({"status": "grouped"}).list_filters().status == "grouped"


@pytest.mark.parametrize(
    ("after", "expected"),
    [(None, ("back", "/notifications?q=x&before=40")), (7, ("forward", "/notifications?q=x&after=90"))],
)
def test_a_stopped_search_links_its_continuation(after: int | None, expected: tuple[str, str]) -> None:
    request = Request({"kind": "", "instance": "", "status": "", "q": "x"}, None if after else 100, after)
    older, newer = (40, 101) if after is None else (6, 90)
    page = ListPage([], older, newer, Stop(40 if after is None else 90, "2026-12-01T10:00:00Z"))
    values = list_values(page, [], request)
    stopped: Any = values["stopped"]
    assert ("back" if stopped["backwards"] else "forward", stopped["href"]) == expected
    assert values["older" if after is None else "newer"] is None  # onward is the search's link alone
    assert values["newer" if after is None else "older"] is not None
    assert stopped["reached"] == "2026-12-01T10:00:00Z"


def test_stored_times_read_as_the_status_pages_show_times() -> None:
    received = when("2026-12-01T11:55:00Z", T0)
    assert received is not None and (received.relative, received.iso) == ("5 min ago", "2026-12-01T11:55:00Z")
    assert when("2026-12-01T12:00:00+00:00", T0 + 3_600) is not None
    assert when("not a time", T0) is None and when(None, T0) is None
    assert status_class("not routed") == "status-not-routed"


async def test_the_detail_page_has_deliveries_and_both_messages(db: Database) -> None:
    [event] = await db.call(fill, 1, targets=(SLACK, Target("teams", "teams", "T1")))
    await db.call(
        lambda c: c.execute(
            "UPDATE outbox SET status = 'dead', last_error = 'gone' WHERE dest_type = 'slack'"
        )
    )
    for session, retry in ((ADMIN, True), (VIEWER, False)):
        page = await notification_detail(view(db, session=session, event=event))
        assert page["can_retry"] is retry
    deliveries: Any = page["deliveries"]
    assert [(d.row.destination, d.row.status, d.status_class, d.shared) for d in deliveries] == [
        ("ops", "dead", "status-dead", None),
        ("teams", "pending", "status-pending", None),
    ]
    assert page["status"] == "dead" and page["heading"] == "Marketo audit event"
    slack, teams = str(page["slack_html"]), str(page["teams_html"])
    assert (
        'class="nb-message nb-slack"' in slack and "Kvittera" in slack
    )  # Swedish, interactive: as configured
    assert 'class="nb-message nb-card nb-card-full"' in teams


async def test_without_the_message_settings_the_page_says_so(db: Database) -> None:
    [event] = await db.call(fill, 1)
    bare = View(db, {}, {"event": event}, VIEWER, T0, None)
    page = await notification_detail(bare)
    assert page["slack_html"] is None and "without the bot's message settings" in str(page["no_preview"])


async def test_an_unknown_notification_is_a_404(db: Database) -> None:
    for event in (1, 2**63):
        with pytest.raises(PageError) as refused:
            await notification_detail(view(db, event=event))
        assert refused.value.status == 404


def test_a_group_or_digest_delivery_says_so_and_an_own_ack_shows_in_the_preview() -> None:
    def row(via: str, **kw: Any) -> Delivery:
        return Delivery(1, "ops", "slack", "C1", "delivered", 1, None, T0, T0, None, None, via, **kw)

    assert shared_text(row("group", count=3, state="firing")) == "alert group of 3 (firing)"
    assert shared_text(row("digest", count=5, label="kind=crm_sync")) == "digest of 5 (kind=crm_sync)"
    assert shared_text(row("own")) is None
    assert acked_of([row("own")]) is None
    first = Delivery(2, "a", "slack", "C1", "delivered", 1, None, T0, T0, "U2", T0 + 9, "own")
    second = Delivery(3, "b", "slack", "C2", "delivered", 1, None, T0, T0, "U1", T0 + 5, "own")
    group = Delivery(4, "c", "slack", "C3", "delivered", 1, None, T0, T0, "U0", T0 + 1, "group")
    found = acked_of([first, second, group])
    assert found is not None and (found.user_id, found.at.timestamp()) == ("U1", T0 + 5)


async def test_the_outbox_pages_by_keyset_with_one_row_more(db: Database) -> None:
    ids = await db.call(fill, ROWS_SHOWN + 3)
    await db.call(lambda c: c.execute("UPDATE outbox SET status = 'dead'"))
    rows = [
        int(r[0])
        for r in await db.read(lambda c: c.execute("SELECT id FROM outbox ORDER BY id DESC").fetchall())
    ]
    assert len(rows) == len(ids)
    first = await outbox_rows(view(db, session=ADMIN))
    shown: Any = first["rows"]
    assert [r.id for r in shown] == rows[:ROWS_SHOWN] and first["can_retry"] is True
    assert (first["older"], first["newer"], first["newest"]) == (
        f"/outbox?before={rows[ROWS_SHOWN - 1]}",
        None,
        None,
    )
    second = await outbox_rows(view(db, {"before": str(rows[ROWS_SHOWN - 1])}))
    assert [r.id for r in second["rows"]] == rows[ROWS_SHOWN:]  # type: ignore[attr-defined]
    assert second["older"] is None and second["newer"] == f"/outbox?after={rows[ROWS_SHOWN]}"
    assert second["can_retry"] is False  # a viewer
    back = await outbox_rows(view(db, {"after": str(rows[ROWS_SHOWN])}))
    assert [r.id for r in back["rows"]] == rows[:ROWS_SHOWN]  # type: ignore[attr-defined]
    assert back["newer"] is None and back["older"] == f"/outbox?before={rows[ROWS_SHOWN - 1]}"
    pending = await outbox_rows(view(db, {"status": "pending"}))
    assert pending["rows"] == [] and pending["status"] == "pending"
