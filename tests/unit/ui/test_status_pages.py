"""The status pages' context functions over a real store, rendered through their templates: values, escaping, markup."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifbot.central_time import central_date, last_central_midnight
from notifbot.groups import GroupPolicy, GroupRef
from notifbot.sources.events import parse_event
from notifbot.store.conn import Conn
from notifbot.store.events import Target, insert_notifications
from notifbot.store.marketo_state import insert_quota_sample, record_poll_error, record_poll_success
from notifbot.store.mutes import add_mute
from notifbot.store.runner import Database
from notifbot.ui.auth import Session
from notifbot.ui.pages import PAGES, View
from notifbot.ui.quota import QuotaPanel
from notifbot.ui.status import OpenGroups, PollerLine
from tests.unit.ui.test_templates import ADMIN, EVIL, _base, render

NOW = datetime(2026, 11, 1, 14, 0, tzinfo=UTC)  # 8:00 AM CST on the day daylight saving ends (25 h in CT)
VIEWER = Session("viewer", "console token", 2_000_000_000, "nonce")
MINE = {"/": "home.html", "/mutes": "mutes.html", "/pollers": "pollers.html", "/quota": "quota.html"}


def seed(conn: Conn) -> None:
    ago = lambda minutes: NOW - timedelta(minutes=minutes)  # noqa: E731
    add_mute(conn, "engagement", NOW + timedelta(hours=2), f"U1{EVIL}", f"deploy {EVIL}", ago(5))
    add_mute(conn, "all", NOW + timedelta(hours=1), "U2", None, ago(5), (("campaign", f"a b {EVIL}"),))
    record_poll_success(conn, "123-ABC-456", "quota", ago(3), 1_234)
    record_poll_error(conn, "123-ABC-456", "campaigns", ago(2), f"601 {EVIL}")
    record_poll_error(conn, f"mailbox ops{EVIL}", "imap", ago(1), f"login refused {EVIL}")
    ref = GroupRef(
        "g1", f"kind=audit {EVIL}", GroupPolicy(("kind",), timedelta(0), timedelta(0), timedelta(0))
    )
    event = parse_event({"kind": "audit", "id": "e1"}, now=ago(4))
    insert_notifications(conn, [(event, [Target(f"ops{EVIL}", "slack", "C1", ref)])], now=ago(4).timestamp())
    start = last_central_midnight(NOW).astimezone(UTC)
    for hours, used in ((0.5, 1_000), (1.5, 2_000), (2.5, 3_000), (8.5, 9_000)):  # 1:30 CDT, then 1:30 CST
        at = start + timedelta(hours=hours)
        day = central_date(at).isoformat()
        insert_quota_sample(conn, "123-ABC-456", at.timestamp(), day, used, 40_000, [], {})


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "notifbot.db") as database:
        yield database


async def context(db: Database, path: str, session: Session = ADMIN) -> dict[str, object]:
    (page,) = [p for p in PAGES if p.path == path]
    assert page.template == MINE[path]
    return await page.context(View(db, {}, {}, session, NOW.timestamp()))


def check_markup(template: str, values: dict[str, object]) -> str:
    """The page rendered: one h1, captions and scopes on tables, no style or script, the evil text escaped."""
    html, page = render(template, _base(ADMIN, **values))
    assert len(page.named("h1")) == 1
    for table in re.findall(r"<table>.*?</table>", html, re.S):
        assert "<caption>" in table
    assert all(th.get("scope") in ("col", "row") for th in page.named("th"))
    for _, attrs in page.elements:
        assert "style" not in attrs and not any(name.startswith("on") for name in attrs)
    assert not page.named("script") and not page.named("style")
    assert "<script>alert" not in html
    return html


async def test_the_mutes_page(db: Database) -> None:
    await db.call(seed)
    values = await context(db, "/mutes")
    html = check_markup("mutes.html", values)
    assert "Mutes in force, soonest end first (2)" in html
    assert "campaign=&#34;a b &lt;script&gt;alert(1)&lt;/script&gt;&#34;" in html
    assert "deploy &lt;script&gt;" in html and "all kinds" in html and "none given" in html
    assert "No mutes in force" in check_markup("mutes.html", {"mutes": []})


async def test_the_pollers_page(db: Database) -> None:
    await db.call(seed)
    values = await context(db, "/pollers", VIEWER)
    groups = dict(values["groups"])  # type: ignore[call-overload]
    assert [line.name for line in groups["marketo"]] == ["quota watch", "campaign refresh"]
    assert [line.source for line in groups["mailbox"]] == [f"ops{EVIL}"] and groups["journal"] == []
    html = check_markup("pollers.html", values)
    assert html.count("What to do:") == 2 and html.count("<code>notifbot check-config</code>") == 2
    assert "1,234" in html and "No Adobe I/O journal reader has recorded a run" in html
    empty = check_markup("pollers.html", {"groups": [(g, []) for g in ("marketo", "mailbox", "journal")]})
    assert "No Marketo poller has recorded a run" in empty


async def test_the_quota_page_on_the_day_daylight_saving_ends(db: Database) -> None:
    await db.call(seed)
    values = await context(db, "/quota")
    (panel,) = values["panels"]  # type: ignore[misc]
    assert isinstance(panel, QuotaPanel) and panel.chart is not None
    assert [r.time_ct for r in panel.rows] == ["12:30 AM CDT", "1:30 AM CDT", "1:30 AM CST", "7:30 AM CST"]
    html = check_markup("quota.html", values)
    assert str(panel.chart) in html and 'role="img"' in html
    assert "<caption>API calls today — 123-ABC-456</caption>" in html
    assert "No quota data yet" in check_markup("quota.html", {"panels": []})


async def test_the_overview(db: Database) -> None:
    await db.call(seed)
    values = await context(db, "/")
    groups, pollers = values["groups"], values["pollers"]
    assert isinstance(groups, OpenGroups) and groups.by_state == {"firing": 1}
    assert values["mutes"] == 2 and values["pending"] == 1
    assert isinstance(pollers, list) and all(isinstance(p, PollerLine) for p in pollers)
    assert [p.status for p in pollers] == ["failing", "failing", "ok"]
    html = check_markup("home.html", values)
    assert '<a href="/ui/mutes">2 mutes in force</a>' in html and "1 open: 1 firing" in html
    assert '<a href="/ui/quota#quota-123-ABC-456">123-ABC-456</a>: 22.5% used' in html
    assert html.count("<svg") == 1


async def test_the_overview_of_an_empty_store(db: Database) -> None:
    values = await context(db, "/")
    html = check_markup("home.html", values)
    assert "No open alert groups." in html and "0 mutes in force" in html
    assert "No poller has recorded a run" in html and "No quota data yet" in html
