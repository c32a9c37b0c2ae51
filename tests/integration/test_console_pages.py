"""The console's notification pages and outbox paging over real HTTP (docs/design/first-hour.md §5.1, §6, §7.2 6–9).

One real server for the module (`ConsoleBot`, as `notifbot serve` builds it) on a store seeded before it starts: an
old event far below the others (ids jump from 2 to 40,000, wider than one bounded search window), 110 events with
dead or delivered rows (more dead rows than one outbox page), and the newest few showing every status, one of them
hostile (`<script>`, `javascript:` links). Delivery polls once a minute and nothing is due, so states stay put.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from notifbot.commands.listing import SCAN_ROWS
from notifbot.groups import GroupPolicy, GroupRef
from notifbot.sources.events import parse_event
from notifbot.store.db import connect
from notifbot.store.events import Target, insert_notifications
from notifbot.store.mutes import add_mute
from notifbot.ui.auth import Role
from tests.integration.test_console_auth import ADMIN, VIEWER, ConsoleBot, client, session

NOW = datetime.now(UTC).replace(microsecond=0)
T0 = NOW.timestamp()
CONSOLE = Target("console", "console", "stdout")
MAIL = Target("mail", "console", "stderr")
GROUP = GroupRef(
    "g", "kind=web_services", GroupPolicy((), timedelta(0), timedelta(minutes=5), timedelta(hours=4))
)
BULK = 110
GAP_TO = 40_000  # the first id after the old events: more than one search window above them
HOSTILE_SUMMARY = "<script>alert(1)</script> see <javascript:alert(2)|this> and <https://ok.example/|that>"
HOSTILE_ERROR = "channel_not_found <script>alert(3)</script>"
assert GAP_TO > SCAN_ROWS + 10


def event(key: str, kind: str = "audit", seconds: int = 0, **more: Any) -> Any:
    return parse_event({"kind": kind, "id": key, **more}, now=NOW - timedelta(seconds=seconds))


def seed(db: Path) -> dict[str, int]:
    """The module's store (see the module docstring); returns event ids by name."""
    conn = connect(db)
    try:
        ids: dict[str, int] = {}

        def put(name: str, n: Any, targets: list[Target], muted: int | None = None) -> int:
            [accepted] = insert_notifications(
                conn, [(n, targets)], {n.key: muted} if muted else None, now=T0 - 3600
            )
            ids[name] = accepted.event_id
            return accepted.event_id

        put("needle", event("old-needle", summary="an old needle in the store", seconds=7200), [CONSOLE])
        gap = put("gap", event("gap-marker", seconds=7100), [])
        conn.execute("UPDATE events SET id = ? WHERE id = ?", (GAP_TO, gap))
        ids["gap"] = GAP_TO
        bulk = [
            (
                event(f"bulk-{i}", ("audit", "crm_sync")[i % 2], 3600 - i, instance=f"I{i % 2 + 1}"),
                [CONSOLE, MAIL],
            )
            for i in range(BULK)
        ]
        accepted = insert_notifications(conn, bulk, now=T0 - 3600)
        ids |= {f"bulk-{i}": a.event_id for i, a in enumerate(accepted)}
        conn.execute("UPDATE outbox SET status = 'delivered', delivered_at = ?", (T0 - 3000,))
        conn.execute(
            "UPDATE outbox SET status = 'dead', attempts = 5, last_error = ? WHERE event_id IN"
            " (SELECT id FROM events WHERE key LIKE 'bulk-%' AND kind = 'audit')",
            (HOSTILE_ERROR,),
        )
        mute = add_mute(conn, "engagement", NOW + timedelta(hours=1), "U1 (ana)", "noisy", NOW)
        put("muted", event("muted-1", "engagement", 50), [], muted=mute.id)
        put("pending", event("pending-1", "crm_sync", 40), [CONSOLE])
        conn.execute(
            "UPDATE outbox SET attempts = 2, last_error = 'timeout', next_attempt_at = ? WHERE event_id = ?",
            (T0 + 86_400, ids["pending"]),
        )
        put("acked", event("acked-1", "crm_sync", 30), [CONSOLE])
        conn.execute(
            "UPDATE outbox SET status = 'delivered', delivered_at = ?, acked_by = 'U2 (bo)', acked_at = ?"
            " WHERE event_id = ?",
            (T0 - 20, T0 - 10, ids["acked"]),
        )
        put("grouped", event("grouped-1", "web_services", 20), [Target("ops", "console", "stdout", GROUP)])
        conn.execute(
            "UPDATE outbox SET status = 'delivered', next_attempt_at = ? WHERE group_id IS NOT NULL",
            (T0 + 86_400,),
        )
        hostile = event(
            "hostile-1",
            "campaign_failure",
            10,
            instance="I9",
            summary=HOSTILE_SUMMARY,
            fields={"campaign_name": "<img src=x onerror=alert(4)>", "url": "javascript:alert(5)"},
        )
        put("hostile", hostile, [CONSOLE])
        conn.execute(
            "UPDATE outbox SET status = 'dead', attempts = 5, last_error = ? WHERE event_id = ?",
            (HOSTILE_ERROR, ids["hostile"]),
        )
        return ids
    finally:
        conn.close()


class Pages:
    """The module's server, the ids of what was seeded, and one signed-in client per role (checked for tokens)."""

    def __init__(self, bot: ConsoleBot, ids: dict[str, int]) -> None:
        self.bot, self.ids = bot, ids
        self.clients = {role: client(bot) for role in ("admin", "viewer")}
        self.clients["admin"].headers.update(session(ADMIN, "admin"))
        self.clients["viewer"].headers.update(session(VIEWER, "viewer"))

    def get(self, path: str, role: Role = "viewer", params: dict[str, Any] | None = None) -> str:
        r = self.clients[role].get(path, params=params)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.text

    def close(self) -> None:
        for c in self.clients.values():
            c.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pages]:
    tmp = tmp_path_factory.mktemp("pages")
    env = {"NOTIFBOT_CONSOLE_TOKEN": ADMIN, "NOTIFBOT_CONSOLE_VIEWER_TOKEN": VIEWER}
    bot = ConsoleBot(tmp, env, server={"port": 0, "console": True}, delivery={"poll_seconds": 60})
    ids = seed(Path(bot.db_path))
    with bot:
        shown = Pages(bot, ids)
        yield shown
        shown.close()


def listed(html: str) -> list[int]:
    """The event ids the list's rows link to, in order."""
    return [int(i) for i in re.findall(r'<th scope="row"><a href="/ui/notifications/(\d+)">', html)]


def link(html: str, name: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)"[^>]*>{name}</a>', html)
    return found.group(1).replace("&amp;", "&") if found else None


def status_in_row(html: str, event_id: int) -> str:
    row = re.search(rf'/ui/notifications/{event_id}">.*?</tr>', html, re.S)
    assert row is not None, event_id
    found = re.search(r'<span class="status status-([\w-]+)">([^<]+)</span>', row.group(0))
    assert found is not None
    return found.group(2)


def test_the_list_shows_the_newest_first_with_their_statuses(pages: Pages) -> None:
    ids = pages.ids
    html = pages.get("/ui/notifications")
    shown = listed(html)
    assert len(shown) == 50 and shown == sorted(shown, reverse=True)
    assert shown[:5] == [ids["hostile"], ids["grouped"], ids["acked"], ids["pending"], ids["muted"]]
    expected = {"hostile": "dead", "grouped": "delivered", "acked": "acknowledged", "pending": "pending"}
    assert {name: status_in_row(html, ids[name]) for name in expected} == expected
    assert status_in_row(html, ids["muted"]) == "muted"
    assert "<caption>Notifications</caption>" in html and 'aria-label="Filter notifications"' in html
    assert "×1 group, firing" in html  # how the grouped one went out
    assert link(html, "Newer") is None and link(html, "Older") == f"/ui/notifications?before={shown[-1]}"


def test_paging_older_then_newer_returns_to_the_same_rows(pages: Pages) -> None:
    first = pages.get("/ui/notifications")
    older = link(first, "Older")
    assert older is not None
    second = pages.get(older)
    assert listed(second) and max(listed(second)) < min(listed(first))
    assert len(listed(second)) == 50
    back = link(second, "Newer")
    assert back is not None and "after=" in back
    assert listed(pages.get(back)) == listed(first)
    walked, page = [], first
    while True:  # to the end: every stored event once (the old one beyond the gap too: no filter, no window)
        walked += listed(page)
        onward = link(page, "Older")
        if onward is None:
            break
        page = pages.get(onward)
    assert len(walked) == len(set(walked)) == BULK + 7 and walked[-1] == pages.ids["needle"]


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"kind": "crm_sync"}, None),
        ({"status": "dead"}, None),
        ({"status": "muted"}, ["muted"]),
        ({"status": "acknowledged"}, ["acked"]),
        ({"status": "grouped"}, ["grouped"]),
        ({"instance": "I9"}, ["hostile"]),
        ({"q": "PENDING-1"}, ["pending"]),
        ({"kind": "campaign_failure", "status": "dead"}, ["hostile"]),
    ],
)
def test_filters_narrow_the_list(pages: Pages, params: dict[str, str], names: list[str] | None) -> None:
    ids = pages.ids
    html = pages.get("/ui/notifications", params=params)
    shown = listed(html)
    if names is not None:
        assert shown == [ids[n] for n in names]
    elif params == {"kind": "crm_sync"}:
        crm = [ids[f"bulk-{i}"] for i in range(1, BULK, 2)] + [ids["pending"], ids["acked"]]
        assert shown == sorted(crm, reverse=True)[:50]
        assert link(html, "Older") == f"/ui/notifications?kind=crm_sync&before={shown[-1]}"
    else:
        dead = [ids[f"bulk-{i}"] for i in range(0, BULK, 2)] + [ids["hostile"]]
        assert shown == sorted(dead, reverse=True)[:50]
    for name, value in params.items():  # the form shows what was asked
        if name in ("kind", "status"):
            assert f'<option value="{value}" selected>' in html
        else:
            assert f'name="{name}" type="{"search" if name == "q" else "text"}" value="{value}"' in html


def test_a_text_search_stops_at_its_window_and_continues_older(pages: Pages) -> None:
    ids = pages.ids
    html = pages.get("/ui/notifications", params={"q": "needle"})
    assert listed(html) == [] and "Searched back to" in html
    onward = link(html, "Search older")
    assert onward is not None and link(html, "Older") is None  # one way onward: the search's continuation
    assert onward == f"/ui/notifications?q=needle&before={ids['needle'] + 1}"  # the gap is skipped
    found = pages.get(onward)
    assert listed(found) == [ids["needle"]] and "Searched back to" not in found
    assert link(found, "Newer") is not None


def test_an_unknown_status_is_ignored_and_said(pages: Pages) -> None:
    html = pages.get("/ui/notifications", params={"status": "<bogus>", "before": "x", "after": "-1"})
    assert "Unknown status &#39;&lt;bogus&gt;&#39;: showing every status." in html
    assert len(listed(html)) == 50


def test_the_detail_page_shows_fields_deliveries_and_the_messages(pages: Pages) -> None:
    ids = pages.ids
    html = pages.get(f"/ui/notifications/{ids['acked']}")
    assert "<h1>Notification</h1>" in html and "acked-1" in html
    assert '<span class="status status-acknowledged">acknowledged</span>' in html
    assert "U2 (bo)" in html and "its own message" in html
    assert 'class="nb-message nb-slack"' in html and 'class="nb-message nb-card' in html
    assert '<link rel="stylesheet" href="/ui/static/chat.css">' in html
    grouped = pages.get(f"/ui/notifications/{ids['grouped']}")
    assert "alert group of 1 (firing)" in grouped and "inside an alert group" in grouped
    muted = pages.get(f"/ui/notifications/{ids['muted']}")
    assert "Muted: stored, not posted anywhere." in muted and "a engagement mute by U1 (ana)" in muted


def test_hostile_text_renders_inert(pages: Pages) -> None:
    ids = pages.ids
    pages = [
        pages.get(f"/ui/notifications/{ids['hostile']}", "admin"),
        pages.get("/ui/notifications", params={"instance": "I9"}),
    ]
    for html in pages:
        assert "<script" not in html and "<img src=x" not in html
        assert not re.search(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", html, re.I)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_dead_delivery_offers_retry_to_admins_only(pages: Pages) -> None:
    ids = pages.ids
    (row,) = pages.bot.rows("SELECT id FROM outbox WHERE event_id = ?", (ids["hostile"],))
    form = f'<form method="post" action="/ui/outbox/{row[0]}/retry">'
    admin = pages.get(f"/ui/notifications/{ids['hostile']}", "admin")
    assert form in admin and 'name="csrf"' in admin
    viewer = pages.get(f"/ui/notifications/{ids['hostile']}")
    assert "/retry" not in viewer and "Retry" not in viewer


@pytest.mark.parametrize(
    "path", ["/ui/notifications/999999", f"/ui/notifications/{2**63}", "/ui/notifications/1" + "0" * 30]
)
def test_an_unknown_notification_is_a_404_page(pages: Pages, path: str) -> None:
    r = pages.clients["viewer"].get(path)
    assert r.status_code == 404 and "<h1>Not found</h1>" in r.text and "is stored" in r.text


def test_the_outbox_pages_dead_rows_by_keyset_both_ways(pages: Pages) -> None:
    first = pages.get("/ui/outbox", "admin")
    rows = [int(i) for i in re.findall(r'<th scope="row" class="num">(\d+)</th>', first)]
    assert len(rows) == 100 and link(first, "Newer") is None
    older = link(first, "Older")
    assert older == f"/ui/outbox?before={rows[-1]}"
    second = pages.get(older, "admin")
    rest = [int(i) for i in re.findall(r'<th scope="row" class="num">(\d+)</th>', second)]
    dead = pages.bot.rows("SELECT id FROM outbox WHERE status = 'dead' ORDER BY event_id DESC, id DESC")
    assert rows + rest == [r[0] for r in dead] and link(second, "Older") is None
    newer = link(second, "Newer")
    assert newer == f"/ui/outbox?after={rest[0]}"
    assert re.findall(r'<th scope="row" class="num">(\d+)</th>', pages.get(newer, "admin")) == [
        str(r) for r in rows
    ]
    assert f'<a href="/ui/notifications/{pages.ids["hostile"]}">hostile-1</a>' in first


def test_the_pending_tab_lists_pending_rows_with_the_next_attempt(pages: Pages) -> None:
    html = pages.get("/ui/outbox?status=pending")
    assert "pending-1" in html and "after: timeout" in html and link(html, "Older") is None
