"""Tests 6–9 of docs/design/first-hour.md §7.2: the operations console at /ui, driven in Chromium.

One bot per module, served in a thread with `server.console: true` on a store seeded before it starts (events in
every status, dead outbox rows, quota samples); one sign-in through the form is reused by the tests that only need
to be signed in. The combinatorics of the request checks are HTTP tests (tests/integration/test_console_auth.py);
here the browser shows what a person gets: the keyboard reaches Retry, and a real cross-site page cannot use it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from markupsafe import escape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from notifbot.central_time import last_central_midnight
from notifbot.commands.quota import burn, forecast
from notifbot.i18n import EN
from notifbot.ui.auth import COOKIE
from tests.browser.console_store import INSTANCE, STATUSES, Seeded, seed
from tests.browser.support import axe_violations
from tests.fakes.server import ThreadedServer
from tests.integration.test_console_auth import ConsoleBot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page
    from playwright.sync_api import Request as BrowserRequest

TOKEN = "console-browser-" + "K3y5" * 8
MAX_TABS = 40  # from the top of the outbox page to a row's Retry: far fewer with a handful of rows
PAGE_SIZE = 50  # notifications a page (ui/notifications.py)
# each row of the notification list: (event id from its link, kind, status)
LIST_ROWS = """() => [...document.querySelectorAll("table.notifications tbody tr")].map(tr => [
  Number(tr.querySelector("th a").getAttribute("href").split("/").pop()),
  tr.cells[2].textContent.trim(),
  tr.querySelector(".status").textContent.trim(),
])"""
# each row of a quota data table: (ISO time, calls used, share of the quota)
SAMPLE_ROWS = """t => [...t.tBodies[0].rows].map(tr => [
  tr.querySelector("time").getAttribute("datetime"), tr.cells[1].textContent.trim(), tr.cells[2].textContent.trim(),
])"""


@dataclass
class Console:
    """The module's bot and what was stored in it."""

    bot: ConsoleBot
    seeded: Seeded

    @property
    def url(self) -> str:
        return self.bot.base_url

    def status(self, row: int) -> str:
        return self.bot.status(row)


class Site(ThreadedServer):
    """Another site on loopback: serves whatever HTML a test puts in `pages`, at http://localhost:PORT."""

    thread_name = "other-site"

    def __init__(self) -> None:
        self.host, self.port = "127.0.0.1", 0
        self.pages: dict[str, str] = {}
        self._app = Starlette(routes=[Route("/{name}", self.serve)])

    async def serve(self, request: Request) -> Response:
        html = self.pages.get(request.path_params["name"])
        return HTMLResponse(html) if html is not None else Response(status_code=404)

    @property
    def base_url(self) -> str:
        """`localhost`, not the bot's `127.0.0.1`: another site (SameSite) and another origin (the Origin check)."""
        return f"http://localhost:{self.port}"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """The bot with the console on, over a seeded store; delivery polls once a minute, so only Retry's wake-up
    delivers a requeued row at once."""
    tmp = tmp_path_factory.mktemp("console")
    bot = ConsoleBot(
        tmp,
        {"NOTIFBOT_CONSOLE_TOKEN": TOKEN},
        server={"port": 0, "console": True},
        delivery={"poll_seconds": 60},
    )
    seeded = seed(Path(bot.db_path))
    with bot:
        yield Console(bot, seeded)


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with Site() as s:
        yield s


@pytest.fixture
def context_options(console: Console) -> dict[str, Any]:
    return {"base_url": console.url}


def sign_in(page: Page) -> None:
    """Signs in through the form as a person would (the token typed, the button pressed)."""
    page.get_by_label("Console token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/ui/")


@pytest.fixture(scope="module")
def session_cookies(browser: Browser, console: Console) -> list[Any]:
    """The cookies of one sign-in through the form, for the tests that only need to be signed in."""
    ctx = browser.new_context(base_url=console.url)
    try:
        page = ctx.new_page()
        page.goto("/ui/login")
        sign_in(page)
        return list(ctx.cookies())
    finally:
        ctx.close()


@pytest.fixture
def signed_in(context: BrowserContext, session_cookies: list[Any]) -> BrowserContext:
    """The test's context with the module's session."""
    context.add_cookies(session_cookies)
    return context


_dead = itertools.count()


def dead_row(console: Console) -> int:
    """A seeded dead row no other test has used."""
    return console.seeded.dead[next(_dead)]


# -- test 6: the notification list


def expected_rows(console: Console, kind: str | None = None) -> list[tuple[int, str, str]]:
    """The stored events as the list should show them, newest first (a Retry test's event: status "retried?")."""
    seeded = console.seeded
    rows = [(i, k, s) for i, (k, s) in seeded.events.items()]
    rows += [(i, "audit", "retried?") for i in seeded.retry_events]
    return sorted((r for r in rows if kind in (None, r[1])), reverse=True)


def shown_rows(page: Page, console: Console) -> list[tuple[int, str, str]]:
    """The list's rows as (id, kind, status); a Retry test's event shows "retried?" when dead, pending or
    delivered (whether its row was retried yet depends on the order the tests ran in)."""
    retried = set(console.seeded.retry_events)
    rows = [(int(i), str(k), str(s)) for i, k, s in page.evaluate(LIST_ROWS)]
    return [
        (i, k, "retried?" if i in retried and s in ("dead", "pending", "delivered") else s)
        for i, k, s in rows
    ]


def test_the_list_shows_every_stored_notification_with_its_status(
    page: Page, signed_in: BrowserContext, console: Console
) -> None:
    expected = expected_rows(console)
    assert {s for _, _, s in expected} == {*STATUSES, "dead", "retried?"}  # every status, shown or not
    page.goto("/ui/notifications")
    assert page.get_by_role("table", name="Notifications").is_visible()
    assert shown_rows(page, console) == expected[:PAGE_SIZE]
    assert page.get_by_role("link", name="Newer").count() == 0
    page.get_by_role("link", name="Older").click()
    page.wait_for_url("**/ui/notifications?*before=*")
    assert shown_rows(page, console) == expected[PAGE_SIZE:]
    assert page.get_by_role("link", name="Older").count() == 0  # the oldest page
    assert page.get_by_role("link", name="Newer").is_visible()
    assert axe_violations(page) == []  # here, not on the first page: the same template, a third of the rows
    # a kind filter, chosen in the form as a person would
    filters = page.get_by_role("form", name="Filter notifications")
    filters.get_by_label("Kind").select_option("crm_sync")
    filters.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/ui/notifications?*kind=crm_sync*")
    crm_sync = expected_rows(console, "crm_sync")
    assert 0 < len(crm_sync) < PAGE_SIZE  # one page
    assert shown_rows(page, console) == crm_sync


# -- test 7: Retry by keyboard


def test_retry_by_keyboard_requeues_the_dead_row(
    page: Page, signed_in: BrowserContext, console: Console
) -> None:
    row = dead_row(console)
    page.goto("/ui/outbox")
    retry = page.get_by_role("button", name=f"Retry row {row}", exact=True)
    assert retry.is_visible()
    assert axe_violations(page) == []
    # Tab from the top of the page (nothing focused) until the row's Retry has the focus
    button = retry.element_handle()  # found once: a role locator would compute every button's name per press
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if button.evaluate("b => b === document.activeElement"):
            break
    else:
        pytest.fail(f"Retry row {row} was not reached in {MAX_TABS} Tab presses")
    outline = button.evaluate(
        "b => getComputedStyle(b).outlineStyle + ' ' + getComputedStyle(b).outlineWidth"
    )
    assert outline == "solid 2px"  # the focus is visible (console.css :focus-visible)
    with page.expect_response(lambda r: r.url.endswith(f"/ui/outbox/{row}/retry")) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 303
    assert answer.value.headers["location"] == f"/ui/outbox?requeued={row}"
    page.wait_for_url(f"**/ui/outbox?requeued={row}")
    assert page.get_by_role("status").filter(has_text=f"Row {row} is queued again").is_visible()
    assert console.status(row) in ("pending", "delivered")  # the store, not only the page
    assert page.get_by_role("button", name=f"Retry row {row}", exact=True).count() == 0


# -- test 8: sign-in, and a cross-site page cannot retry


def test_a_signed_out_visit_signs_in_and_another_site_cannot_retry(
    page: Page, context: BrowserContext, console: Console, site: Site
) -> None:
    page.goto("/ui/outbox")
    assert page.url == f"{console.url}/ui/login"
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    assert axe_violations(page) == []
    sign_in(page)
    assert page.get_by_text("Signed in as admin").is_visible()
    assert [c["name"] for c in context.cookies()] == [COOKIE]
    # the other site even knows this session's CSRF token (every form of the session carries the same one): only
    # SameSite and the Origin check are left to stop it
    sign_out = page.locator("form", has=page.get_by_role("button", name="Sign out"))
    csrf = sign_out.locator("input[name=csrf]").get_attribute("value")
    assert csrf
    row = dead_row(console)
    action = f"{console.url}/ui/outbox/{row}/retry"
    site.pages["attack"] = (
        '<!doctype html><html lang="en"><head><title>Win a prize</title></head><body>'
        f'<form method="post" action="{escape(action)}"><input type="hidden" name="csrf" value="{escape(csrf)}">'
        "</form><script>document.forms[0].submit()</script></body></html>"
    )
    sent: list[BrowserRequest] = []
    page.on("request", lambda r: sent.append(r) if r.url == action else None)
    with page.expect_response(action) as answer:
        page.goto(f"{site.base_url}/attack")
    headers = sent[0].all_headers()
    assert answer.value.status == 403  # the Origin check (Sec-Fetch-Site: cross-site), before the session's
    assert headers["origin"] == site.base_url and headers["sec-fetch-site"] == "cross-site"
    assert "cookie" not in headers  # SameSite=Strict: the session never left the browser
    assert console.status(row) == "dead"


# -- test 9: the quota page


def test_the_quota_chart_s_table_and_forecast_are_the_stored_samples(
    page: Page, signed_in: BrowserContext, console: Console
) -> None:
    samples = console.seeded.samples
    day_start = last_central_midnight(datetime.fromtimestamp(samples[-1].sampled_at, UTC))
    caption = f"API calls today — {INSTANCE}"
    page.goto("/ui/quota")
    assert page.get_by_role("img", name=caption).is_visible()  # the inline SVG, named by its <title>
    table = page.get_by_role("table", name=caption)
    shown = [
        (datetime.fromisoformat(at).timestamp(), int(used.replace(",", "")), percent)
        for at, used, percent in table.evaluate(SAMPLE_ROWS)
    ]
    assert shown == [(s.sampled_at, s.used, EN.percent(100 * s.used / s.quota)) for s in samples]
    panel = page.locator(f"#quota-{INSTANCE}")
    assert panel.locator("dd.forecast").inner_text() == forecast(samples, day_start)
    b = burn(samples, day_start)
    assert b is not None
    reset = panel.locator("dd.reset")
    assert reset.inner_text().startswith(EN.ct(b.reset_at))
    assert datetime.fromisoformat(str(reset.locator("time").get_attribute("datetime"))) == b.reset_at
    assert axe_violations(page) == []
