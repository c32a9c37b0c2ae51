"""The notification pages' templates: accessible, escaped, CSP-clean, with the roles and names the browser tests use."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from notifbot.commands.listing import ListPage, RecentRow, Stop
from notifbot.config import parse_settings
from notifbot.config.preview import preview
from notifbot.sources.events import parse_event
from notifbot.store.event_detail import Delivery
from notifbot.ui.notifications import Detail, Item, Request, detail_values, list_values, when
from tests.unit.ui.test_templates import ADMIN, EVIL, _base, assert_accessible, render

T0 = 2_000_000_000.0
ITEM = Item(
    7,
    when("2026-12-01T10:00:00Z", T0),
    f"audit{EVIL}",
    f"Title{EVIL}",
    f"I1{EVIL}",
    f"sum{EVIL}",
    "dead",
    "status-dead",
    f"×2 group, firing{EVIL}",
)
REQUEST = Request({"kind": f"k{EVIL}", "instance": f"i{EVIL}", "status": "dead", "q": f"q{EVIL}"}, 9, None)
HOSTILE = parse_event(
    {
        "kind": "campaign_failure",
        "id": f"key{EVIL}",
        "summary": f"{EVIL} <javascript:alert(1)|x>",
        "fields": {"campaign_name": EVIL, "url": "javascript:alert(2)"},
        "labels": {"team": EVIL},
    },
    now=datetime(2026, 12, 1, tzinfo=UTC),
)


def row(notification: Any) -> RecentRow:
    return RecentRow(
        7,
        "campaign_failure",
        notification,
        {"url": "javascript:alert(2)", "n": [1, EVIL]},
        "2026-12-01T10:00:00Z",
        "dead",
        {"dead": 1},
        mute_kind=None,
        instance=f"I{EVIL}",
        received_at="2026-12-01T10:00:01Z",
    )


DELIVERIES = [
    Delivery(3, f"ops{EVIL}", "slack", f"C1{EVIL}", "dead", 5, f"err{EVIL}", T0, None, None, None, "own"),
    Delivery(4, "teams", "teams", "T1", "delivered", 1, None, T0, T0, f"U1{EVIL}", T0, "group", 2, "firing"),
]
PREVIEW = preview(parse_settings({}, source="test"), interactive=True)
NOTHING = Request({"kind": "", "instance": "", "status": "", "q": ""}, None, None)
LIST = list_values(ListPage([ITEM], 6, 8, Stop(6, "2026-12-01T09:00:00Z")), [ITEM], REQUEST)
EMPTY = list_values(ListPage([], None, None), [], NOTHING)
DETAIL = detail_values(Detail(row(HOSTILE), DELIVERIES), PREVIEW, True, T0)
UNREADABLE = detail_values(Detail(row(None), []), PREVIEW, False, T0)
RENDERED = {
    "list": ("notifications.html", _base(ADMIN, **{**LIST, "problem": f"Unknown status {EVIL}"})),
    "list empty": ("notifications.html", _base(ADMIN, **EMPTY)),
    "detail": ("notification.html", _base(ADMIN, **DETAIL)),
    "detail unreadable": ("notification.html", _base(ADMIN, **UNREADABLE)),
}


@pytest.mark.parametrize("case", RENDERED)
def test_markup_is_accessible_escaped_and_csp_clean(case: str) -> None:
    html, page = render(*RENDERED[case])
    assert_accessible(html, page, signed_in=True)
    assert "<script>alert" not in html and "\"'&" not in html
    assert "javascript:" not in "".join(str(a.get("href")) for a in page.named("a"))


def test_the_list_has_its_table_form_and_pager() -> None:
    html, page = render(*RENDERED["list"])
    assert "<caption>Notifications</caption>" in html
    (form,) = [f for f in page.named("form") if f.get("method") == "get"]
    assert form["aria-label"] == "Filter notifications" and form["action"] == "/ui/notifications"
    hrefs = {a.get("href") for a in page.named("a")}
    assert "/ui/notifications/7" in hrefs
    assert any(h and h.startswith("/ui/notifications?kind=k") and "before=6" in h for h in hrefs)
    assert '<span class="status status-dead">dead</span>' in html
    assert "Searched back to 2026-12-01 09:00:00 UTC." in html and ">Search older</a>" in html
    assert (
        ">Older</a>" not in html and ">Newer</a>" in html and ">Newest</a>" in html
    )  # onward: "Search older"
    assert '<option value="dead" selected>' in html
    empty, _ = render(*RENDERED["list empty"])
    assert "No notifications stored yet." in empty and "Older" not in empty and "Newest" not in empty
    assert NOTHING.href() == "/notifications"


def test_the_detail_page_has_retry_for_a_dead_row_and_the_two_messages() -> None:
    html, page = render(*RENDERED["detail"])
    assert [f["action"] for f in page.named("form") if f.get("method") == "post"][-1] == "/ui/outbox/3/retry"
    assert "alert group of 2 (firing)" in html and "its own message" in html
    assert 'class="nb-message nb-slack"' in html and 'class="nb-message nb-card nb-card-full"' in html
    assert '<link rel="stylesheet" href="/ui/static/chat.css">' in html
    unreadable, _ = render(*RENDERED["detail unreadable"])
    assert "its messages cannot be shown" in unreadable and "/retry" not in unreadable
    assert "No destination" in unreadable
