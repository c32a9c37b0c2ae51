"""The IMAP mailbox reader in the running bot, against a real Dovecot on loopback through the real IMAPClient."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notifbot.app import Bot
from notifbot.commands.handlers import status_reply
from notifbot.sources.email.reader import IDLE_RETRY_POLLS, MailboxReader
from tests.fakes.slack import FakeSlack
from tests.integration.conftest import BotFactory, rows, wait_for
from tests.integration.email_support import Dovecot, IdleRefusingProxy, MailUser, mail
from tests.integration.process import BotProcess

TOKEN = "xoxb-email"
PROCESSED = "notifbot.processed"  # notifbot/processed in Dovecot's "." hierarchy delimiter
JOB = "email-alerts"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN, min_interval=0.0) as fake:
        yield fake


@pytest.fixture
def user(dovecot: Dovecot) -> MailUser:
    return dovecot.add_user()


@pytest.fixture
def fresh(slack: FakeSlack) -> FakeSlack:
    slack.reset()
    return slack


def config(slack: FakeSlack, dovecot: Dovecot, user: MailUser, **mailbox: Any) -> dict[str, Any]:
    """Bot settings overrides: one mailbox `alerts` on the test server (implicit TLS), everything to Slack."""
    imap = {
        "host": "127.0.0.1",
        "port": dovecot.tls_port,
        "security": "tls",
        "username": user.username,
        "password": user.password,
        "ca_file": str(dovecot.cert),
        "timeout_seconds": 5,
        **mailbox.pop("imap", {}),
    }
    box = {"name": "alerts", "imap": imap, "instance": "123-ABC-456", "poll_seconds": 30, **mailbox}
    return {
        "email": {"mailboxes": [box]},
        "slack": {"api_url": slack.api_url, "interactive": False, "timeout_seconds": 2.0},
        "destinations": {"ops": {"type": "slack", "channel": "C1"}},
        "routes": [{"to": ["ops"]}],
        # a killed bot's claims on outbox rows expire after lease_seconds
        "delivery": {
            "poll_seconds": 0.05,
            "backoff_base_seconds": 0.05,
            "slack_interval_seconds": 0,
            "lease_seconds": 2,
        },
    }


async def start(bot_factory: BotFactory, cfg: dict[str, Any], env: dict[str, str] | None = None) -> Bot:
    bot: Bot = await bot_factory({"SLACK_BOT_TOKEN": TOKEN, **(env or {})}, **cfg)
    return bot


def subjects_posted(slack: FakeSlack) -> list[str]:
    """The e-mail subject each Slack message was posted for (read from the message text)."""
    found = [re.search(r"Subject: (.*?); From:", m["text"]) for m in slack.messages]
    return sorted(m.group(1) if m else "?" for m in found)


def email_events(bot: Bot) -> list[dict[str, Any]]:
    found = rows(bot, "SELECT key, kind, instance, source, summary, fields, labels FROM events ORDER BY id")
    names = ("key", "kind", "instance", "source", "summary", "fields", "labels")
    out = [dict(zip(names, r, strict=True)) for r in found]
    for e in out:
        e["fields"], e["labels"] = json.loads(e["fields"]), json.loads(e["labels"])
    return out


async def test_appended_mails_are_posted_once_and_moved_to_the_processed_folder(
    bot_factory: BotFactory, fresh: FakeSlack, dovecot: Dovecot, user: MailUser
) -> None:
    dovecot.append(
        user,
        mail("Campaign failure: Nurture step", "The campaign Nurture step failed: asset not approved."),
        mail("HTML only", None, html="<p>Sync <b>failed</b></p><script>alert(1)</script><a href='https://app-ab12.marketo.com/x'>Open</a>"),
        mail("With attachment", "See the list.", attachment=b"email,reason\n" * 50),
    )  # fmt: skip
    bot = await start(bot_factory, config(fresh, dovecot, user))
    await wait_for(lambda: len(fresh.messages) == 3)
    assert subjects_posted(fresh) == [
        "?",
        "HTML only",
        "With attachment",
    ]  # "?": classified, titled by its kind
    assert any(m["text"].startswith("Campaign failed: Nurture step") for m in fresh.messages)
    events = {e["summary"]: e for e in email_events(bot)}
    first = events["Campaign failure: Nurture step"]
    assert (first["kind"], first["instance"], first["source"]) == ("campaign_failure", "123-ABC-456", "email")
    assert first["fields"]["campaign_name"] == "Nurture step"
    assert first["fields"]["text"] == "The campaign Nurture step failed: asset not approved."
    assert first["fields"]["from"] == "noreply@marketo.com" and first["labels"] == {"mailbox": "alerts"}
    html = events["HTML only"]["fields"]["text"]
    assert "Sync failed" in html and "alert(1)" not in html and "https://app-ab12.marketo.com/x" in html
    attached = events["With attachment"]["fields"]
    assert attached["attachments"] == ["leads.csv"] and "email,reason" not in json.dumps(attached)
    await wait_for(lambda: dovecot.uids(user, "INBOX") == [])
    assert sorted(dovecot.subjects(user, PROCESSED)) == sorted(events)
    state = "SELECT instance, last_success_at IS NOT NULL, last_error FROM poller_state"
    await wait_for(lambda: rows(bot, state) == [("mailbox alerts", 1, None)])  # for /marketo status
    await asyncio.sleep(0.3)
    assert len(fresh.messages) == 3  # each once


async def test_idle_wakes_the_reader_when_mail_arrives(
    bot_factory: BotFactory, fresh: FakeSlack, dovecot: Dovecot, user: MailUser
) -> None:
    bot = await start(bot_factory, config(fresh, dovecot, user, poll_seconds=3600))
    reader = bot.email.readers[0] if bot.email else None
    assert reader is not None
    await wait_for(lambda: reader._connected)
    assert reader._session.can_idle
    await asyncio.sleep(0.5)  # the first poll is now waiting in IDLE for up to an hour
    started = time.monotonic()
    dovecot.append(user, mail("Arrived during IDLE"))
    await wait_for(lambda: len(fresh.messages) == 1, timeout=5)
    assert time.monotonic() - started < 3
    assert subjects_posted(fresh) == ["Arrived during IDLE"]


async def test_polling_reads_new_mail_when_the_server_has_no_idle(
    bot_factory: BotFactory, fresh: FakeSlack
) -> None:
    server = Dovecot(idle=False)
    try:
        user = server.add_user()
        server.append(user, mail("Before start"))
        bot = await start(bot_factory, config(fresh, server, user, poll_seconds=1))
        await wait_for(lambda: len(fresh.messages) == 1)
        reader = bot.email.readers[0] if bot.email else None
        assert reader is not None and not reader._session.can_idle
        server.append(user, mail("Found by the next poll"))
        await wait_for(lambda: len(fresh.messages) == 2, timeout=5)
        assert subjects_posted(fresh) == ["Before start", "Found by the next poll"]
        await wait_for(lambda: server.uids(user, "INBOX") == [])
    finally:
        server.stop()


def deleted_by_someone_else(server: Dovecot, user: MailUser) -> None:
    """A mail flagged \\Deleted by another client, from a sender the reader leaves alone: it must stay."""
    with server.session(user) as c:
        c.append("INBOX", mail("Not ours", sender="someone@else.test"), flags=[b"\\Deleted"])


async def test_without_move_mail_is_copied_and_only_those_uids_expunged(
    bot_factory: BotFactory, fresh: FakeSlack
) -> None:
    server = Dovecot(hide=("MOVE",), users=1)
    try:
        user = server.add_user()
        deleted_by_someone_else(server, user)
        server.append(user, mail("First"), mail("Second"))
        cfg = config(fresh, server, user, allowed_senders=["@marketo.com"])
        bot = await start(bot_factory, cfg)
        await wait_for(lambda: len(fresh.messages) == 2)
        await wait_for(lambda: server.subjects(user, PROCESSED) == ["First", "Second"])
        await wait_for(lambda: server.subjects(user, "INBOX") == ["Not ours"])
        reader = bot.email.readers[0] if bot.email else None
        assert reader is not None and reader._session.marking == "copy"
    finally:
        server.stop()


async def test_without_move_or_uidplus_mail_is_flagged_and_nothing_expunged(
    bot_factory: BotFactory, fresh: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    server = Dovecot(hide=("MOVE", "UIDPLUS"), users=1)
    try:
        user = server.add_user()
        deleted_by_someone_else(server, user)
        server.append(user, mail("Stays flagged"))
        cfg = config(fresh, server, user, allowed_senders=["@marketo.com"], poll_seconds=1)
        bot = await start(bot_factory, cfg)
        await wait_for(lambda: len(fresh.messages) == 1)
        reader = bot.email.readers[0] if bot.email else None
        assert reader is not None
        async with reader._lock:  # between polls: a reconnect does not log the advice again
            await reader._disconnect()
        server.append(user, mail("Next poll"))
        await wait_for(lambda: len(fresh.messages) == 2, timeout=5)
        await bot.stop()
        assert server.subjects(user, "INBOX") == ["Not ours", "Stays flagged", "Next poll"]
        with server.session(user) as c:
            c.select_folder("INBOX", readonly=True)
            assert len(c.search(["KEYWORD", "NotifbotProcessed"])) == 2
            assert len(c.search(["DELETED"])) == 1
            assert not c.folder_exists(PROCESSED)
        advice = [r for r in caplog.records if "neither MOVE nor UIDPLUS" in r.getMessage()]
        assert len(advice) == 1 and "imap.processed_keyword" in advice[0].getMessage()
    finally:
        server.stop()


async def test_a_server_refusing_idle_is_polled_instead(
    bot_factory: BotFactory,
    fresh: FakeSlack,
    dovecot: Dovecot,
    user: MailUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    proxy = IdleRefusingProxy(dovecot.plain_port)
    try:
        imap = {"port": proxy.port, "security": "plain"}
        bot = await start(bot_factory, config(fresh, dovecot, user, imap=imap, poll_seconds=1))
        await wait_for(lambda: proxy.refused == 1)
        started = time.monotonic()
        dovecot.append(user, mail("Found by polling"))
        await wait_for(lambda: len(fresh.messages) == 1, timeout=5)
        assert time.monotonic() - started < 3  # the next poll, not a 5 s error backoff
        dovecot.append(user, mail("And the one after"))
        await wait_for(lambda: len(fresh.messages) == 2, timeout=5)
        await bot.stop()
        assert 1 <= proxy.refused <= 2  # tried again after a few polls (IDLE_RETRY_POLLS), not at every poll
        fallback = [r for r in caplog.records if "refused or dropped IDLE" in r.getMessage()]
        assert len(fallback) == proxy.refused and not [
            r for r in caplog.records if r.levelno >= logging.ERROR
        ]
    finally:
        proxy.stop()


async def test_idle_is_tried_again_after_a_few_polls_and_used_once_it_works(
    bot_factory: BotFactory,
    fresh: FakeSlack,
    dovecot: Dovecot,
    user: MailUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "notifbot.email")
    proxy = IdleRefusingProxy(dovecot.plain_port)
    try:
        imap = {"port": proxy.port, "security": "plain"}
        bot = await start(bot_factory, config(fresh, dovecot, user, imap=imap, poll_seconds=1))
        await wait_for(lambda: proxy.refused == 1)
        proxy.refusing = False  # the glitch is over
        await wait_for(lambda: proxy.passed >= 1, timeout=IDLE_RETRY_POLLS + 3)
        assert proxy.refused == 1
        assert any(r.getMessage() == "trying IDLE again" for r in caplog.records)
        dovecot.append(user, mail("Read while IDLE works again"))
        await wait_for(lambda: len(fresh.messages) == 1, timeout=5)
        await wait_for(lambda: proxy.passed >= 2, timeout=5)  # back in IDLE at every poll, not paused
        reader = bot.email.readers[0] if bot.email else None
        assert isinstance(reader, MailboxReader) and reader._idle_pause == 0
    finally:
        proxy.stop()


async def test_starttls_with_an_xoauth2_token_from_the_environment(
    bot_factory: BotFactory, fresh: FakeSlack, dovecot: Dovecot, user: MailUser
) -> None:
    # Dovecot's passwd-file passdb checks an XOAUTH2 token like a password: the user's password is the token here
    imap = {
        "port": dovecot.plain_port,
        "security": "starttls",
        "password": None,
        "xoauth2_token_env": "IMAP_TOKEN",
    }
    dovecot.append(user, mail("Over STARTTLS"))
    await start(bot_factory, config(fresh, dovecot, user, imap=imap), env={"IMAP_TOKEN": user.password})
    await wait_for(lambda: len(fresh.messages) == 1)
    assert subjects_posted(fresh) == ["Over STARTTLS"]


async def test_xoauth2_token_from_a_command_and_plain_to_loopback(
    bot_factory: BotFactory, fresh: FakeSlack, dovecot: Dovecot, user: MailUser, tmp_path: Path
) -> None:
    script = tmp_path / "token.sh"
    script.write_text(f"#!/bin/sh\necho '{user.password}'\n")
    script.chmod(0o755)
    imap = {
        "port": dovecot.plain_port,
        "security": "plain",
        "password": None,
        "xoauth2_token_command": str(script),
    }
    dovecot.append(user, mail("Plain on loopback"))
    await start(bot_factory, config(fresh, dovecot, user, imap=imap))
    await wait_for(lambda: len(fresh.messages) == 1)


async def test_a_uidvalidity_change_reads_the_folder_again_without_reposting(
    bot_factory: BotFactory,
    fresh: FakeSlack,
    dovecot: Dovecot,
    user: MailUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    old = [mail(f"Old {i}", message_id=f"<old-{i}-{user.username}@marketo.test>") for i in range(2)]
    dovecot.append(user, *old, folder="Marketo.Alerts")  # Marketo/Alerts in Dovecot's "." delimiter
    cfg = config(fresh, dovecot, user, imap={"folder": "Marketo/Alerts"})
    first = await start(bot_factory, cfg)
    await wait_for(lambda: len(fresh.messages) == 2)
    await wait_for(lambda: dovecot.uids(user, "Marketo.Alerts") == [])
    await first.stop()
    before = dovecot.uidvalidity(user, "Marketo.Alerts")
    # the server rebuilt the folder: the new mail takes UID 1, below the old cursor, and the old mails come back
    dovecot.recreate(user, "Marketo.Alerts", mail("New after rebuild"), *old)
    assert dovecot.uidvalidity(user, "Marketo.Alerts") != before
    second = await start(bot_factory, cfg)
    await wait_for(lambda: len(fresh.messages) == 3)
    await wait_for(lambda: dovecot.uids(user, "Marketo.Alerts") == [])
    await asyncio.sleep(0.3)
    assert subjects_posted(fresh) == ["New after rebuild", "Old 0", "Old 1"]  # the old ones once each
    assert rows(second, "SELECT count(*) FROM events") == [(3,)]
    assert any("UIDVALIDITY changed" in r.getMessage() for r in caplog.records)


async def test_processed_keyword_marks_mail_in_place(
    bot_factory: BotFactory, fresh: FakeSlack, dovecot: Dovecot, user: MailUser
) -> None:
    dovecot.append(user, mail("Keep me here"))
    bot = await start(bot_factory, config(fresh, dovecot, user, imap={"processed_keyword": "NotifbotDone"}))
    await wait_for(lambda: len(fresh.messages) == 1)
    await bot.stop()
    with dovecot.session(user) as c:
        c.select_folder("INBOX", readonly=True)
        assert c.search(["KEYWORD", "NotifbotDone"]) == c.search("ALL") != []
        assert not c.folder_exists(PROCESSED)


@pytest.mark.slow
async def test_restart_mid_backlog_delivers_each_mail_exactly_once(
    fresh: FakeSlack, dovecot: Dovecot, user: MailUser, tmp_path: Path, procs: list[BotProcess]
) -> None:
    total = 250  # three batches
    dovecot.append(user, *(mail(f"Backlog {i:04d}") for i in range(total)))
    cfg = {"storage": {"path": str(tmp_path / "notifbot.db")}, **config(fresh, dovecot, user)}
    bot = BotProcess(tmp_path, cfg, env={"SLACK_BOT_TOKEN": TOKEN})
    procs.append(bot)
    bot.start()

    def stored() -> int:
        conn = sqlite3.connect(tmp_path / "notifbot.db")
        try:
            return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
        except sqlite3.OperationalError:
            return 0
        finally:
            conn.close()

    deadline = time.monotonic() + 30
    while stored() == 0:
        assert time.monotonic() < deadline, bot.stderr()
        time.sleep(0.005)
    bot.kill9()  # mid-backlog: after a commit, before (some of) the cursor saves and moves
    at_kill = stored()
    assert 0 < at_kill < total
    bot.start()
    deadline = time.monotonic() + 60
    while len(fresh.messages) < total:
        assert time.monotonic() < deadline, (len(fresh.messages), bot.stderr())
        time.sleep(0.05)
    time.sleep(0.5)
    assert stored() == total
    assert len(fresh.messages) == total
    assert subjects_posted(fresh) == [f"Backlog {i:04d}" for i in range(total)]
    assert dovecot.uids(user, "INBOX") == []
    assert len(dovecot.uids(user, PROCESSED)) == total
    bot.terminate()


async def test_an_oversized_mail_becomes_a_notification_with_its_subject_and_a_note(
    bot_factory: BotFactory, fresh: FakeSlack, dovecot: Dovecot, user: MailUser
) -> None:
    dovecot.append(user, mail("Huge digest", "see attachment", attachment=b"x" * 50_000))
    bot = await start(bot_factory, config(fresh, dovecot, user, max_message_bytes=4096))
    await wait_for(lambda: len(fresh.messages) == 1)
    [event] = email_events(bot)
    assert event["summary"] == "Huge digest"
    assert "max_message_bytes" in event["fields"]["note"] and "text" not in event["fields"]
    assert "attachments" not in event["fields"]
    await wait_for(lambda: dovecot.uids(user, "INBOX") == [])


async def test_a_sender_not_allowed_is_left_unmarked_and_logged_once(
    bot_factory: BotFactory,
    fresh: FakeSlack,
    dovecot: Dovecot,
    user: MailUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dovecot.append(user, mail("From Marketo"), mail("From a stranger", sender="someone@evil.test"))
    cfg = config(fresh, dovecot, user, allowed_senders=["@Marketo.com"], poll_seconds=1)
    cfg["email"]["mailboxes"][0]["imap"]["processed_keyword"] = None
    bot = await start(bot_factory, cfg)
    await wait_for(lambda: len(fresh.messages) == 1)
    await bot.pollers.run_now(JOB)
    assert subjects_posted(fresh) == ["From Marketo"]
    assert dovecot.subjects(user, "INBOX") == ["From a stranger"]
    refused = [r for r in caplog.records if "not in allowed_senders" in r.getMessage()]
    assert len(refused) == 1 and refused[0].__dict__["sender"] == "someone@evil.test"


@pytest.mark.parametrize(
    ("imap", "expected"),
    [
        ({"folder": "Missing"}, "folder 'Missing' does not exist: create it or fix imap.folder"),
        ({"port": 1}, "cannot connect (is the server up and the port right?)"),
    ],
    ids=["missing-folder", "server-down"],
)
async def test_a_mailbox_that_cannot_be_read_logs_a_named_error_and_retries_with_backoff(
    bot_factory: BotFactory,
    fresh: FakeSlack,
    dovecot: Dovecot,
    user: MailUser,
    caplog: pytest.LogCaptureFixture,
    imap: dict[str, Any],
    expected: str,
) -> None:
    bot = await start(bot_factory, config(fresh, dovecot, user, imap=imap))
    delay = await bot.pollers.run_now(JOB)
    assert delay >= 2.5  # the delivery backoff: 5 s ± 50 % after the first failure
    assert_named_error(caplog, expected)
    assert await bot.not_ready_reason() is None  # the bot runs on
    again = await bot.pollers.run_now(JOB)
    assert again >= 5  # backing off: 10 s ± 50 % after the second failure
    status = repr(await status_reply(bot.ctx))  # /marketo status names the mailbox and its error
    assert "mailbox alerts · imap" in status and expected in status


def assert_named_error(caplog: pytest.LogCaptureFixture, expected: str) -> None:
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "notifbot.email"]
    assert errors, caplog.text
    message = errors[-1].getMessage()
    assert message.startswith("mailbox 'alerts' (user") and expected in message, message
    assert "retrying in" in message and "pw-" not in caplog.text


async def test_a_wrong_password_logs_a_named_error_without_the_password(
    bot_factory: BotFactory, fresh: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    # its own server: Dovecot delays every later login from the failing address (anvil's auth penalty)
    server = Dovecot(users=1)
    try:
        user = server.add_user()
        bot = await start(bot_factory, config(fresh, server, user, imap={"password": "wrong-password-123"}))
        # the scheduled first poll; not run_now, whose second login Dovecot would delay by seconds
        await wait_for(lambda: any(r.name == "notifbot.email" for r in caplog.records))
        assert_named_error(caplog, "login refused: check the username and password")
        assert re.search(r"retrying in [3-8] s", caplog.text)
        assert "wrong-password-123" not in caplog.text
        assert await bot.not_ready_reason() is None
        await bot.stop()
    finally:
        server.stop()
