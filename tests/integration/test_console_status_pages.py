"""The console's status pages over real HTTP: mutes, pollers, quota and the overview (first-hour.md §5.1, §7.2 test 9).

Two servers per module. The console as `build_console` makes it, mounted at /ui over a real SQLite store seeded with
mutes, poller records, an open alert group and quota samples, at a fixed time on the day daylight saving starts (a
23-hour Central day), so every value on the pages is known. And a real Bot (app.py wiring, the real clock) on an
empty store, for the empty states.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from notifbot.central_time import central_date, last_central_midnight, next_central_midnight
from notifbot.commands.queries import QuotaSample, QuotaView
from notifbot.commands.quota import burn, chart_of, forecast
from notifbot.groups import GroupPolicy, GroupRef
from notifbot.metrics import Metrics
from notifbot.render.chart import svg
from notifbot.sources.events import parse_event
from notifbot.sources.marketo.activities import ScanCursor
from notifbot.store.db import connect
from notifbot.store.email_cursors import save_email_cursor
from notifbot.store.events import Target, insert_notifications
from notifbot.store.marketo_state import (
    insert_quota_sample,
    record_poll_error,
    record_poll_success,
    save_cursor,
)
from notifbot.store.mutes import add_mute, end_mutes
from notifbot.store.runner import Database
from notifbot.ui.auth import Role
from notifbot.ui.console import build_console
from notifbot.ui.guard import CSP
from tests.integration.test_console_auth import ADMIN, VIEWER, ConsoleBot, client, session

NOW = datetime(2026, 3, 8, 20, 0, tzinfo=UTC)  # 3:00 PM CDT on the day daylight saving starts (23 h in CT)
DAY_START = last_central_midnight(NOW)
INSTANCE, IDLE_INSTANCE = "123-ABC-456", "987-XYZ-654"
EVIL = "<script>alert(1)</script>"
PAGES = ("/ui/", "/ui/mutes", "/ui/pollers", "/ui/quota")
# (hours since 00:00 CST, calls used): across the jump from 2:00 CST to 3:00 CDT (08:00 UTC, 2 h in)
TODAY = ((0.5, 1_200), (1.75, 2_900), (2.25, 3_400), (8.0, 14_000), (13.75, 26_500))


class ClockedConsole(ConsoleBot):
    """The console app (`build_console`, as app.py builds it) at /ui over a real SQLite store, with a fixed clock."""

    thread_name = "clocked-console"

    async def _main(self) -> None:
        async with Database(self.db_path) as db:
            console = build_console(
                self.settings, self.env, db, lambda _: None, Metrics(), clock=NOW.timestamp
            )
            self._server = self._uvicorn(Starlette(routes=[Mount("/ui", app=console)]))
            await self._server.serve()


def _at(hours: float) -> datetime:
    """Real hours after the last midnight (in UTC: Central wall-clock arithmetic would skip the missing hour)."""
    return DAY_START.astimezone(UTC) + timedelta(hours=hours)


def seed(db: Path) -> None:
    """Mutes, poller records, cursors, an open alert group and quota samples, as the bot's own writers store them."""
    conn = connect(db)
    try:
        ago = lambda minutes: NOW - timedelta(minutes=minutes)  # noqa: E731
        add_mute(conn, "engagement", NOW + timedelta(hours=2), "U0ALICE", f"{EVIL} deploy", ago(10))
        matchers = (("instance", INSTANCE), ("campaign", 'Spring "VIP" sale'), ("program", "Q1 webinars"))
        add_mute(conn, "campaign_failure", NOW + timedelta(days=1), "U0BOB", None, ago(60), matchers)
        add_mute(conn, "audit", NOW - timedelta(minutes=1), "U0OLD", "expired", ago(120))
        add_mute(conn, "sync_error", NOW + timedelta(hours=1), "U0OLD", "ended", ago(30))
        end_mutes(conn, "sync_error", "U0OLD", ago(20))

        record_poll_success(conn, INSTANCE, "quota", ago(5), 412)
        record_poll_success(conn, INSTANCE, "campaigns", ago(60), 3)
        record_poll_error(conn, INSTANCE, "campaigns", ago(3), "601 Access token invalid", 4)
        cursor = ScanCursor(through="2026-03-08T19:30:00Z").dump()
        save_cursor(conn, INSTANCE, "activities", cursor, ago(2), 77)
        record_poll_success(conn, IDLE_INSTANCE, "quota", NOW - timedelta(days=1), 999)  # yesterday's count
        record_poll_success(conn, "mailbox ops", "imap", ago(1), 0)
        save_email_cursor(conn, "ops", "INBOX", 7, 4242)
        conn.execute("UPDATE email_cursors SET updated_at = ?", (ago(1).timestamp(),))  # as if saved at NOW
        record_poll_error(conn, "adobe-io", "journal:0123456789ab", ago(0.5), f"journal answered 403 {EVIL}")

        policy = GroupPolicy(("kind",), timedelta(seconds=30), timedelta(minutes=5), timedelta(hours=4))
        ref = GroupRef("g1", f"kind=campaign_failure {EVIL}", policy)
        events = [parse_event({"kind": "campaign_failure", "id": f"g{i}"}, now=ago(9)) for i in range(3)]
        target = Target("ops", "slack", "C1", ref)
        insert_notifications(conn, [(e, [target]) for e in events], now=ago(9).timestamp())

        for hours, used in TODAY:
            quota_sample(conn, INSTANCE, _at(hours), used)
        quota_sample(conn, INSTANCE, _at(-1), 48_000)  # yesterday's last sample: not today's
        quota_sample(conn, IDLE_INSTANCE, _at(-3), 7_000)
    finally:
        conn.close()


def quota_sample(conn: sqlite3.Connection, instance: str, at: datetime, used: int) -> None:
    day = central_date(at).isoformat()
    insert_quota_sample(
        conn, instance, at.timestamp(), day, used, 50_000, [], {"606": 2} if used > 20_000 else {}
    )


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClockedConsole]:
    env = {"NOTIFBOT_CONSOLE_TOKEN": ADMIN, "NOTIFBOT_CONSOLE_VIEWER_TOKEN": VIEWER}
    server = ClockedConsole(tmp_path_factory.mktemp("status"), env, server={"port": 0, "console": True})
    connect(server.db_path).close()
    seed(Path(server.db_path))
    with server:
        yield server


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleBot]:
    """A real Bot with the console on, over an empty store."""
    env = {"NOTIFBOT_CONSOLE_TOKEN": ADMIN, "NOTIFBOT_CONSOLE_VIEWER_TOKEN": VIEWER}
    with ConsoleBot(tmp_path_factory.mktemp("empty"), env, server={"port": 0, "console": True}) as bot:
        yield bot


class Html(HTMLParser):
    """A page's elements (tag, attributes), its text, and its tables as (caption, rows of cell texts)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.tables: list[tuple[str, list[list[str]]]] = []
        self.times: list[tuple[int | None, str]] = []  # each <time datetime> with the table it is in
        self._open_table: int | None = None
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if self._cell is not None:
            self._cell.append(" ")  # `a<br>b`, `<li>a</li><li>b</li>`: words apart
        if tag == "table":
            self.tables.append(("", []))
            self._open_table = len(self.tables) - 1
        elif tag == "caption":
            self._caption = []
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "time":
            self.times.append((self._open_table, dict(attrs).get("datetime") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._open_table = None
        elif tag == "caption" and self._caption is not None:
            caption = " ".join("".join(self._caption).split())
            self.tables[-1] = (caption, self.tables[-1][1])
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1][1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        for part in (self._cell, self._caption):
            if part is not None:
                part.append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.elements if name == tag]

    def table(self, caption: str) -> list[list[str]]:
        """The body rows of the table with this caption (the header row left out)."""
        return self.tables[self._index(caption)][1][1:]

    def times_in(self, caption: str) -> list[str]:
        """The `<time datetime>` values inside the table with this caption."""
        index = self._index(caption)
        return [stamp for table, stamp in self.times if table == index]

    def _index(self, caption: str) -> int:
        (index,) = [i for i, (c, _) in enumerate(self.tables) if c == caption]
        return index


def get(server: ConsoleBot, path: str, role: Role = "admin") -> httpx.Response:
    """`path` with a session of `role`, minted at the server's time (the clocked console's, or now)."""
    now = NOW.timestamp() if isinstance(server, ClockedConsole) else None
    with client(server) as c:
        return c.get(path, headers=session(ADMIN if role == "admin" else VIEWER, role, now=now))


# -- quota


def stored_today(server: ClockedConsole, instance: str) -> list[QuotaSample]:
    rows = server.rows(
        "SELECT sampled_at, day, used, quota FROM quota_samples WHERE instance = ? AND sampled_at >= ?"
        " ORDER BY sampled_at",
        (instance, DAY_START.timestamp()),
    )
    return [QuotaSample(instance, at, day, used, quota, [], {}) for at, day, used, quota in rows]


def test_the_quota_table_is_the_stored_samples_and_the_forecast_is_the_commands(
    console: ClockedConsole,
) -> None:
    page = get(console, "/ui/quota")
    assert page.status_code == 200
    html = Html(page.text)
    samples = stored_today(console, INSTANCE)
    assert [s.used for s in samples] == [used for _, used in TODAY]
    rows = html.table(f"API calls today — {INSTANCE}")
    assert [(r[1], r[2]) for r in rows] == [(f"{s.used:,}", f"{100 * s.used / s.quota:g}%") for s in samples]
    # Central clock times with the zone that tells them apart: the jump to daylight time at 2:00 CST
    assert [r[0] for r in rows] == [
        "12:30 AM CST",
        "1:45 AM CST",
        "3:15 AM CDT",
        "9:00 AM CDT",
        "2:45 PM CDT",
    ]
    stamps = [datetime.fromtimestamp(s.sampled_at, UTC).isoformat().replace("+00:00", "Z") for s in samples]
    assert html.times_in(f"API calls today — {INSTANCE}") == stamps  # each row's <time datetime>
    expected = forecast(samples, DAY_START)
    assert expected is not None and expected.startswith("At the current rate")
    assert f'<dd class="forecast">{escape(expected)}</dd>' in page.text
    reset = next_central_midnight(NOW)
    assert reset.timestamp() - DAY_START.timestamp() == 23 * 3600
    assert "Mar 9, 12:00 AM CT — " in page.text and "2026-03-09 05:00:00 UTC" in page.text
    assert "(in 9 h)" in page.text
    assert "26,500 of 50,000 (53%)" in page.text and "606: 2" in page.text


def test_the_quota_chart_is_the_chat_replys_svg(console: ClockedConsole) -> None:
    page = get(console, "/ui/quota").text
    samples = stored_today(console, INSTANCE)
    view = QuotaView(INSTANCE, samples[-1], samples)
    chart = chart_of(view, burn(samples, DAY_START), DAY_START, NOW)
    assert chart is not None and chart.day == 23 * 3600
    assert svg(chart) in page  # the same function, the same samples: the same picture, byte for byte
    (drawn,) = Html(page).named("svg")
    assert drawn["role"] == "img"
    assert "<title>API calls today — 123-ABC-456</title>" in page


def test_an_instance_without_a_sample_today_says_so(console: ClockedConsole) -> None:
    page = get(console, "/ui/quota").text
    section = page.split(f'id="quota-{IDLE_INSTANCE}"', 1)[1]
    assert "No sample since the reset at midnight CT" in section and "7,000 of 50,000" in section
    assert "<svg" not in section


# -- mutes


def test_the_mutes_page_lists_the_mutes_in_force_escaped(console: ClockedConsole) -> None:
    page = get(console, "/ui/mutes")
    rows = Html(page.text).table("Mutes in force, soonest end first (2)")
    engagement, campaign = rows
    assert engagement == [
        "engagement",
        "everything of this kind",
        "2026-03-08 22:00:00 UTC (in 2 h)",
        "U0ALICE set 10 min ago",
        f"{EVIL} deploy",
    ]
    assert campaign[0] == "campaign_failure"
    assert campaign[1] == 'instance=123-ABC-456 campaign=\'Spring "VIP" sale\' program="Q1 webinars"'
    assert campaign[2:] == ["2026-03-09 20:00:00 UTC (in 1 d)", "U0BOB set 1 h ago", "none given"]
    assert EVIL not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt; deploy" in page.text
    assert "U0OLD" not in page.text  # the expired and the ended mute are not in force


# -- pollers


def test_the_pollers_page_shows_what_each_poller_recorded(console: ClockedConsole) -> None:
    page = get(console, "/ui/pollers")
    html = Html(page.text)
    marketo = html.table("Marketo: last success and last error of each poller")
    quota, campaigns, activities, idle = marketo
    assert quota[:4] == [
        INSTANCE,
        "quota watch",
        "last poll succeeded",
        "2026-03-08 19:55:00 UTC (5 min ago)",
    ]
    assert quota[4:] == ["none recorded", "412", "—"]
    assert campaigns[:3] == [INSTANCE, "campaign refresh", "failing"]
    assert campaigns[4].startswith("601 Access token invalid 2026-03-08 19:57:00 UTC (3 min ago) What to do:")
    assert "client id and secret" in campaigns[4] and "notifbot check-config" in campaigns[4]
    assert campaigns[5] == "4"
    assert activities[:3] == [INSTANCE, "activity scan", "last poll succeeded"]
    assert activities[5:] == ["77", "activities applied through 2026-03-08 19:30:00 UTC (30 min ago)"]
    assert idle[:2] == [IDLE_INSTANCE, "quota watch"] and idle[5] == "0"  # its 999 calls were yesterday's
    (mailbox,) = html.table("Mailboxes: last success and last error of each poller")
    assert mailbox[:3] == ["ops", "IMAP", "last poll succeeded"]
    assert mailbox[5] == "INBOX position saved 2026-03-08 19:59:00 UTC (1 min ago)"
    (journal,) = html.table("Adobe I/O journal: last success and last error of each poller")
    assert journal[:4] == ["Adobe I/O journal", "journal 0123456789ab", "failing", "never"]
    assert "adobe_io.journal_url" in journal[4] and EVIL not in page.text
    assert '<span class="status status-failing">failing</span>' in page.text


# -- overview


def test_the_overview_sums_up_each_page(console: ClockedConsole) -> None:
    page = get(console, "/ui/")
    html = Html(page.text)
    assert "1 open: 1 firing" in page.text
    (group,) = html.table("Most recently active open problems (at most 1)")
    assert group == [
        f"kind=campaign_failure {EVIL}",
        "ops",
        "firing",
        "3",
        "2026-03-08 19:51:00 UTC (9 min ago)",
    ]
    assert '<a href="/ui/mutes">2 mutes in force</a>' in page.text
    pollers = html.table("Each poller's latest record, failing ones first (details on Pollers)")
    assert [row[2] for row in pollers[:2]] == ["failing", "failing"]
    assert {row[1] for row in pollers} >= {"quota watch", "IMAP", "journal 0123456789ab"}
    assert f'<a href="/ui/quota#quota-{INSTANCE}">{INSTANCE}</a>: 53% used' in page.text
    assert f'<a href="/ui/quota#quota-{IDLE_INSTANCE}">{IDLE_INSTANCE}</a>: no sample today' in page.text
    assert len(html.named("svg")) == 1  # the instance sampled today
    assert "1 pending" in page.text  # the group's one outbox row


# -- every page


@pytest.mark.parametrize("path", PAGES)
def test_a_viewer_reads_every_page_and_no_page_needs_inline_style_or_script(
    console: ClockedConsole, path: str
) -> None:
    page = get(console, path, "viewer")
    assert page.status_code == 200 and "Signed in as viewer" in page.text
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["x-content-type-options"] == "nosniff"
    html = Html(page.text)
    assert len(html.named("h1")) == 1
    for tag, attrs in html.elements:
        assert "style" not in attrs and not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert not any(str(v).lower().startswith("javascript:") for v in attrs.values()), (tag, attrs)
    assert not html.named("script") and not html.named("style")
    for caption, _ in html.tables:
        assert caption, "every table has a caption"
    assert all(th.get("scope") in ("col", "row") for th in html.named("th"))
    assert EVIL not in page.text


@pytest.mark.parametrize("path", PAGES[1:])
def test_the_pages_need_a_session(console: ClockedConsole, path: str) -> None:
    with client(console) as c:
        r = c.get(path)
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"


def test_an_empty_store_says_what_to_configure(empty: ConsoleBot) -> None:
    pages = {path: get(empty, path) for path in PAGES}
    assert all(p.status_code == 200 for p in pages.values())
    assert "No mutes in force: every notification is posted." in pages["/ui/mutes"].text
    pollers = pages["/ui/pollers"].text
    assert "No Marketo poller has recorded a run." in pollers and "email.mailboxes" in pollers
    assert "adobe_io.journal_url" in pollers
    quota = pages["/ui/quota"].text
    assert "No quota data yet." in quota and "marketo.instances" in quota and "<svg" not in quota
    home = pages["/ui/"].text
    assert "No open alert groups." in home and "0 mutes in force" in home
    assert "No poller has recorded a run" in home and "No quota data yet" in home
