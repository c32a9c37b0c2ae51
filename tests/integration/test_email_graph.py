"""The Microsoft Graph mailbox reader in the running bot, through the real msgraph-sdk against the fake Graph."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest

from notifbot.app import Bot
from notifbot.commands.handlers import status_reply
from notifbot.sources.email.graph_mail import PAGE_SIZE
from notifbot.sources.email.graph_reader import GraphMailboxReader
from tests.fakes.graph import FakeGraph
from tests.fakes.graph_mail import MailFailure
from tests.fakes.slack import FakeSlack
from tests.integration.conftest import BotFactory, rows, wait_for
from tests.integration.email_support import mail

TOKEN = "xoxb-graph-mail"
GRAPH_TOKEN = "graph-mail-token"
PROCESSED = "notifbot/processed"
_boxes = itertools.count(1)


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraph]:
    with FakeGraph(token=GRAPH_TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, min_interval=0.0) as fake:
        yield fake


@pytest.fixture
def fresh(slack: FakeSlack, graph: FakeGraph) -> FakeSlack:
    slack.reset()
    graph.mail.fail_next.clear()
    graph.mail.requests.clear()
    graph.token = GRAPH_TOKEN
    return slack


@pytest.fixture
def address(graph: FakeGraph) -> str:
    """A fresh shared mailbox on the fake Graph."""
    box = f"marketo-alerts-{next(_boxes)}@contoso.com"
    graph.mail.add_mailbox(box)
    return box


def config(slack: FakeSlack, server: FakeGraph, address: str, **box: Any) -> dict[str, Any]:
    """One mailbox `alerts` read through Graph (first poll at start, then only when a test polls), all to Slack."""
    settings = {"mailbox": address, **box.pop("graph", {})}
    mailbox = {"name": "alerts", "graph": settings, "instance": "123-ABC-456", "poll_seconds": 3600, **box}
    return {
        "email": {"mailboxes": [mailbox]},
        "teams": {"graph_url": server.graph_url},
        "slack": {"api_url": slack.api_url, "interactive": False, "timeout_seconds": 2.0},
        "destinations": {"ops": {"type": "slack", "channel": "C1"}},
        "routes": [{"to": ["ops"]}],
        "delivery": {"poll_seconds": 0.05, "backoff_base_seconds": 0.05, "slack_interval_seconds": 0},
    }


async def start(bot_factory: BotFactory, cfg: dict[str, Any], token: str = GRAPH_TOKEN) -> Bot:
    bot: Bot = await bot_factory({"SLACK_BOT_TOKEN": TOKEN, "GRAPH_ACCESS_TOKEN": token}, **cfg)
    return bot


def reader_of(bot: Bot) -> GraphMailboxReader:
    reader = bot.email.readers[0] if bot.email else None
    assert isinstance(reader, GraphMailboxReader)
    return reader


def first_poll_done(bot: Bot) -> bool:
    return bool(rows(bot, "SELECT 1 FROM poller_state WHERE instance = 'mailbox alerts'"))


def subjects_posted(slack: FakeSlack) -> list[str]:
    found = [re.search(r"Subject: (.*?); From:", m["text"]) for m in slack.messages]
    return sorted(m.group(1) if m else "?" for m in found)


def poll_state(bot: Bot) -> list[tuple[Any, ...]]:
    return rows(bot, "SELECT instance, poller, last_success_at IS NOT NULL, last_error FROM poller_state")


async def test_mails_become_routed_notifications_and_move_to_the_processed_folder(
    bot_factory: BotFactory, fresh: FakeSlack, graph: FakeGraph, address: str
) -> None:
    graph.mail.deliver(
        address,
        mail("Campaign failure: Nurture step", "The campaign Nurture step failed: asset not approved."),
        mail("Sync stopped", "The CRM sync stopped."),
        mail("Too big", "x" * 3000),
    )
    bot = await start(bot_factory, config(fresh, graph, address, max_message_bytes=2048))
    await wait_for(lambda: len(fresh.messages) == 3)
    assert any(m["text"].startswith("Campaign failed: Nurture step") for m in fresh.messages)
    found = rows(bot, "SELECT summary, kind, instance, source, fields, labels FROM events ORDER BY id")
    events = {r[0]: (r[1], r[2], r[3], json.loads(r[4]), json.loads(r[5])) for r in found}
    kind, instance, source, fields, labels = events["Campaign failure: Nurture step"]
    assert (kind, instance, source, labels) == (
        "campaign_failure",
        "123-ABC-456",
        "email",
        {"mailbox": "alerts"},
    )
    assert fields["campaign_name"] == "Nurture step" and fields["from"] == "noreply@marketo.com"
    big = events["Too big"][3]
    assert "max_message_bytes" in big["note"] and "text" not in big  # only the headers were used
    await wait_for(lambda: graph.mail.subjects(address, "Inbox") == [])
    assert graph.mail.subjects(address, PROCESSED) == sorted(events)  # created when missing
    await wait_for(lambda: poll_state(bot) == [("mailbox alerts", "graph", 1, None)])
    deltas = [(t, p) for m, t, p in graph.mail.requests if "/messages/delta" in t]
    assert "$select=id,internetMessageId,from,subject,receivedDateTime,categories" in deltas[0][0].replace(
        "%24", "$"
    )
    assert all(p == f"odata.maxpagesize={PAGE_SIZE}" for _, p in deltas)
    # the next round: our moves come back as @removed (ignored), the new mail is read
    graph.mail.deliver(address, mail("Next round"))
    assert await reader_of(bot).run_once() == 3600
    await wait_for(lambda: len(fresh.messages) == 4)
    assert any("$deltatoken=" in t.replace("%24", "$") for _, t, _ in graph.mail.requests)
    assert graph.mail.subjects(address, PROCESSED) == sorted([*events, "Next round"])
    assert subjects_posted(fresh).count("Next round") == 1 and poll_state(bot)[0][3] is None


async def test_a_restart_mid_backlog_posts_each_mail_exactly_once_across_pages(
    bot_factory: BotFactory, fresh: FakeSlack, graph: FakeGraph, address: str
) -> None:
    total = PAGE_SIZE + 5  # two delta pages
    ids = graph.mail.deliver(address, *(mail(f"Backlog {i:02d}") for i in range(total)))
    # the second page is committed (posted), then moving its second mail fails: the bot stops there
    graph.mail.fail_next.append(MailFailure(503, match=rf"POST .*messages/{ids[PAGE_SIZE + 1]}/move"))
    cfg = config(fresh, graph, address)
    bot = await start(bot_factory, cfg)
    await wait_for(lambda: "HTTP 503" in str(poll_state(bot)))
    await wait_for(lambda: len(fresh.messages) == total)
    assert not graph.mail.fail_next
    assert len(graph.mail.subjects(address, PROCESSED)) == PAGE_SIZE + 1
    await bot.stop()
    again = await start(bot_factory, cfg)  # same database: resumes at the second page's link
    await wait_for(lambda: graph.mail.subjects(address, "Inbox") == [])
    assert reader_of(again).failures == 0
    assert graph.mail.subjects(address, PROCESSED) == [f"Backlog {i:02d}" for i in range(total)]
    await asyncio.sleep(0.3)  # a second post, if any, would be delivered by now
    assert subjects_posted(fresh) == [f"Backlog {i:02d}" for i in range(total)]  # each once
    pages = [t for _, t, _ in graph.mail.requests if "/messages/delta" in t]
    assert any("skiptoken" in t for t in pages)


async def test_a_category_marks_mail_in_place_and_it_is_not_read_again(
    bot_factory: BotFactory, fresh: FakeSlack, graph: FakeGraph, address: str
) -> None:
    graph.mail.deliver(address, mail("Flag me"), mail("Not ours", sender="someone@else.test"), mail("Me too"))
    cfg = config(
        fresh, graph, address, graph={"processed_category": "notifbot"}, allowed_senders=["@marketo.com"]
    )
    bot = await start(bot_factory, cfg)
    await wait_for(lambda: len(fresh.messages) == 2)
    expected = {
        "Flag me": ["notifbot"],
        "Me too": ["notifbot"],
        "Not ours": [],
    }  # a refused sender: untouched
    await wait_for(lambda: graph.mail.categories(address, "Inbox") == expected)
    assert await reader_of(bot).run_once() == 3600  # the PATCHes come back as updates: skipped
    await asyncio.sleep(0.3)
    assert subjects_posted(fresh) == ["Flag me", "Me too"] and graph.mail.subjects(address, PROCESSED) == []
    assert graph.mail.folder_at(graph.mail.mailboxes[address], "notifbot") is None


async def test_an_expired_delta_link_reads_the_folder_again_without_posting_twice(
    bot_factory: BotFactory,
    fresh: FakeSlack,
    graph: FakeGraph,
    address: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    graph.mail.deliver(address, mail("Stuck in the inbox"))
    graph.mail.fail_next.append(MailFailure(403, match=r"POST .*/move", code="ErrorAccessDenied"))
    bot = await start(bot_factory, config(fresh, graph, address))
    await wait_for(lambda: "Mail.ReadWrite.Shared" in str(poll_state(bot)))  # stored, not movable: went on
    await wait_for(lambda: len(fresh.messages) == 1)  # delivered by the worker meanwhile
    graph.mail.expire_delta_tokens()
    graph.mail.deliver(address, mail("After the expiry"))
    assert await reader_of(bot).run_once() == 3600
    await wait_for(lambda: len(fresh.messages) == 2)
    await asyncio.sleep(0.3)
    assert subjects_posted(fresh) == ["After the expiry", "Stuck in the inbox"]  # read twice, posted once
    assert graph.mail.subjects(address, PROCESSED) == ["After the expiry", "Stuck in the inbox"]
    assert any("expired" in r.getMessage() and "from the start" in r.getMessage() for r in caplog.records)


async def assert_status_names(bot: Bot, *expected: str) -> None:
    await wait_for(lambda: poll_state(bot) and poll_state(bot)[0][3] is not None)
    error = str(poll_state(bot)[0][3])
    assert error.startswith("mailbox 'alerts' (marketo-alerts-") and all(e in error for e in expected), error
    status = repr(await status_reply(bot.ctx))
    assert "mailbox alerts · graph" in status and expected[0] in status


async def test_a_wrong_sign_in_is_named_in_status_and_clears_once_fixed(
    bot_factory: BotFactory,
    fresh: FakeSlack,
    graph: FakeGraph,
    address: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    graph.mail.deliver(address, mail("Waits for the sign-in"))
    bot = await start(bot_factory, config(fresh, graph, address), token="expired-token")
    await assert_status_names(bot, "HTTP 401", "notifbot teams login")
    assert any(r.levelno == logging.ERROR and "HTTP 401" in r.getMessage() for r in caplog.records)
    assert "expired-token" not in caplog.text
    graph.token = "expired-token"  # the sign-in is fixed
    assert await reader_of(bot).run_once() == 3600
    await wait_for(lambda: len(fresh.messages) == 1)
    assert reader_of(bot).failures == 0 and reader_of(bot).last_error is None


async def test_a_missing_folder_or_permission_is_a_clear_error(
    bot_factory: BotFactory, fresh: FakeSlack, graph: FakeGraph, address: str
) -> None:
    bot = await start(bot_factory, config(fresh, graph, address, graph={"folder": "Inbox/Marketo"}))
    await assert_status_names(bot, "the folder 'Inbox/Marketo' does not exist", "graph.folder")
    graph.mail.denied.add(address)
    try:
        await reader_of(bot).run_once()
        await assert_status_names(bot, "HTTP 403", "Mail.ReadWrite.Shared")
    finally:
        graph.mail.denied.discard(address)


async def test_throttling_waits_as_long_as_retry_after_says(
    bot_factory: BotFactory, fresh: FakeSlack, graph: FakeGraph, address: str
) -> None:
    bot = await start(bot_factory, config(fresh, graph, address))
    await wait_for(lambda: first_poll_done(bot))
    graph.mail.deliver(address, mail("After the throttle"))
    graph.mail.fail_next.append(
        MailFailure(429, match=r"GET .*/messages/delta", retry_after="42", code="TooManyRequests")
    )
    assert await reader_of(bot).run_once() == 42  # longer than the backoff: Retry-After wins
    await assert_status_names(bot, "throttled", "Retry-After 42 s")
    assert await reader_of(bot).run_once() == 3600
    await wait_for(lambda: len(fresh.messages) == 1)


async def test_graph_out_of_reach_is_a_named_error(
    bot_factory: BotFactory, fresh: FakeSlack, graph: FakeGraph, address: str
) -> None:
    cfg = config(fresh, graph, address)
    cfg["teams"] = {"graph_url": "http://127.0.0.1:9/v1.0"}  # nothing listens on the discard port
    bot = await start(bot_factory, cfg)
    await assert_status_names(bot, "cannot reach Microsoft Graph", "will retry")
    assert await bot.not_ready_reason() is None  # the bot runs on


async def test_moving_a_message_someone_else_removed_is_a_warning_naming_it(
    bot_factory: BotFactory,
    fresh: FakeSlack,
    graph: FakeGraph,
    address: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await start(bot_factory, config(fresh, graph, address))
    await wait_for(lambda: first_poll_done(bot))
    reader = reader_of(bot)
    assert reader._processed_id is not None
    await reader.api.move("gone-already", reader._processed_id)  # Graph answers 404: left alone
    [record] = [r for r in caplog.records if "a read message was gone" in r.getMessage()]
    assert record.levelname == "WARNING" and getattr(record, "message_id", None) == "gone-already"
