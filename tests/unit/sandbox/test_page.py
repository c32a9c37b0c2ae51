"""The page's pieces: which channels and messages each reader sees, the wait before a redirect, the Origin check."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from starlette.requests import Request

from notifbot.kinds import load_samples
from notifbot.sandbox.chat import Chat
from notifbot.sandbox.guard import same_origin
from notifbot.sandbox.interact import BotLink, sample_titles
from notifbot.sandbox.page import ConsoleLink, Page, settle
from notifbot.sandbox.slack_api import VIEWER, YOU, SlackApi
from tests.unit.render.html_tree import parse


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    chat = Chat()
    link = BotLink(chat, SlackApi(chat), bot_url="http://127.0.0.1:9", signing_secret="s")
    yield Page(chat, link, channels={"C0OPS": "ops", "C0CRM": "crm"}, bot_url="http://127.0.0.1:9")
    await link.aclose()


async def test_configured_channels_come_first_then_any_other_the_bot_posted_in(page: Page) -> None:
    page.chat.post("C0NEW", "a channel the configuration does not name")
    page.chat.post("C0CRM", "crm")
    assert [(c.id, c.name, c.anchor) for c in page.columns(YOU)] == [
        ("C0OPS", "ops", "ch-C0OPS"),
        ("C0CRM", "crm", "ch-C0CRM"),
        ("C0NEW", "C0NEW", "ch-C0NEW"),
    ]


async def test_a_reader_sees_the_slack_messages_with_their_own_answers_in_order(page: Page) -> None:
    chat = page.chat
    chat.post("C0OPS", "first")
    mine = chat.ephemeral("C0OPS", YOU, "for you")
    chat.ephemeral("C0OPS", VIEWER, "for the viewer")
    chat.card("C0OPS", {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "card"}]})
    chat.post("C0OPS", "second")
    ops = page.columns(YOU)[0]
    texts = [parse(str(html)).text() for html in ops.slack]
    assert [next(w for w in ("first", "for you", "second") if w in t) for t in texts] == [
        "first",
        "for you",
        "second",
    ]
    assert len(ops.teams) == 1 and "card" in parse(str(ops.teams[0])).text()
    page.dismissed.add(("C0OPS", mine.ts))
    assert len(page.columns(YOU)[0].slack) == 2
    assert any("for the viewer" in parse(str(h)).text() for h in page.columns(VIEWER)[0].slack)


def test_the_sample_menu_lists_each_sample_by_the_title_its_kind_gives_it() -> None:
    titles = sample_titles()
    assert list(titles) == list(load_samples())
    assert titles["campaign_failure"] == "Campaign failed: Q4 Webinar Invites"
    assert titles["crm_sync_dynamics"].startswith("Microsoft Dynamics: ")
    assert all(title and "_" not in title.split(":")[0] for title in titles.values())


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1:8090", "http://127.0.0.1:9999/ui/"),
        ("localhost:8090", "http://localhost:9999/ui/"),  # the page's own host: its cookie reaches the bot
        ("[::1]:8090", ""),  # the bot listens on 127.0.0.1 only, where a cookie for [::1] never goes
    ],
)
async def test_the_console_opens_on_the_page_s_host_at_the_bot_s_port(
    page: Page, host: str, url: str
) -> None:
    request = Request({"type": "http", "headers": [(b"host", host.encode())]})
    assert page.console_url(request) == ""  # this page has no console
    page.console = ConsoleLink(9999)
    assert page.console_url(request) == url


async def test_notices_show_with_their_channel(page: Page) -> None:
    page.chat.notice("C0CRM", "Slack refused a message (invalid_blocks)")
    crm = page.columns(YOU)[1]
    assert [parse(str(n)).text() for n in crm.notices] == ["Slack refused a message (invalid_blocks)"]


async def test_settle_returns_at_the_first_change_in_the_channel_or_after_its_timeout() -> None:
    chat = Chat()
    seq = chat.seq
    chat.post("C0OTHER", "elsewhere")
    started = time.monotonic()
    waiting = asyncio.ensure_future(settle(chat, seq, "C0OPS", timeout=5))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    chat.post("C0OPS", "here")
    await waiting
    assert time.monotonic() - started < 1
    await settle(chat, chat.seq, "C0OPS", timeout=0.01)  # nothing comes: returns anyway
    assert chat.subscribers == 0


@pytest.mark.parametrize(
    ("origin", "host", "fetch_site", "accepted"),
    [
        ("http://127.0.0.1:8090", "127.0.0.1:8090", None, True),
        ("http://localhost:8090", "localhost:8090", None, True),
        ("http://localhost:8090", "127.0.0.1:8090", None, False),  # another origin, even on this machine
        ("http://evil.example", "127.0.0.1:8090", None, False),
        ("null", "127.0.0.1:8090", None, False),
        (None, "127.0.0.1:8090", "same-origin", True),
        (None, "127.0.0.1:8090", "cross-site", False),
        (None, "127.0.0.1:8090", None, False),
        ("http://127.0.0.1:8090", None, None, False),
    ],
)
def test_same_origin(origin: str | None, host: str | None, fetch_site: str | None, accepted: bool) -> None:
    assert same_origin(origin, host, fetch_site) is accepted
