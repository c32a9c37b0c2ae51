"""The Adobe I/O journal poller in the running bot, against the fake journal and IMS on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from notifbot.app import Bot
from notifbot.model import Notification
from notifbot.sources.adobe_io.ims import ImsTokens
from notifbot.sources.adobe_io.journal import JournalPoller
from notifbot.store.runner import Database
from tests.fakes.adobe_io import JOURNAL_PATH, FakeAdobeIO, marketo_event
from tests.integration.conftest import BotFactory, client_for, rows

CLIENT, SECRET = "adobe-client-1", "adobe-s3cret-xyz"
JOB = "adobe-io-journal"


@pytest.fixture
def adobe() -> Iterator[FakeAdobeIO]:
    with FakeAdobeIO(CLIENT, SECRET, page_limit=10) as fake:
        yield fake


def env_for(fake: FakeAdobeIO) -> dict[str, str]:
    return {
        "ADOBE_CLIENT_ID": CLIENT,
        "ADOBE_CLIENT_SECRET": SECRET,
        "ADOBE_IO_KEYS_URL": fake.base_url,
        "ADOBE_IMS_URL": f"{fake.base_url}/ims/token/v3",
    }


def journal_config(fake: FakeAdobeIO, restart: str = "earliest", **extra: Any) -> dict[str, Any]:
    return {"journal_url": fake.base_url + JOURNAL_PATH, "journal_restart": restart, **extra}


def events(n: int, start: int = 0) -> list[dict[str, Any]]:
    data = {"componentType": "campaign_failure", "eventAction": {"campaignId": 1, "error": "asset"}}
    return [marketo_event("campaign_failure", f"j-{i}", CLIENT, data=data) for i in range(start, start + n)]


async def test_reads_every_page_by_link_then_waits_as_told(
    bot_factory: BotFactory, adobe: FakeAdobeIO
) -> None:
    adobe.append(*events(25))
    adobe.retry_after = 7
    bot: Bot = await bot_factory(env_for(adobe), adobe_io=journal_config(adobe))
    assert JOB in bot.pollers.names
    delay = await bot.pollers.run_now(JOB)
    assert delay == 7  # 204 + retry-after
    assert rows(bot, "SELECT count(*), min(source) FROM events") == [(25, "adobe_io_journal")]
    assert [q.get("since") for q in adobe.journal_requests] == [None, "p9", "p19", "p24"]
    assert adobe.token_requests == 1
    await bot.pollers.run_now(JOB)
    assert adobe.journal_requests[-1]["since"] == "p24"  # the same next link after a 204
    assert adobe.token_requests == 1  # the token is cached until it expires


async def test_restart_resumes_at_the_last_committed_position(
    bot_factory: BotFactory, adobe: FakeAdobeIO
) -> None:
    adobe.append(*events(15))
    first: Bot = await bot_factory(env_for(adobe), adobe_io=journal_config(adobe))
    await first.pollers.run_now(JOB)
    await first.stop()
    adobe.append(*events(10, start=15))
    adobe.journal_requests.clear()
    second: Bot = await bot_factory(env_for(adobe), adobe_io=journal_config(adobe))
    await second.pollers.run_now(JOB)
    assert adobe.journal_requests[0]["since"] == "p14"
    assert rows(second, "SELECT count(*) FROM events") == [(25,)]
    assert rows(second, "SELECT count(*) FROM outbox") == [(25,)]


async def test_position_is_saved_only_after_the_commit(adobe: FakeAdobeIO, tmp_path: Any) -> None:
    adobe.append(*events(5))
    db = Database(tmp_path / "j.db")
    failing = True

    async def accept(ns: list[Notification]) -> object:
        if failing:
            raise RuntimeError("disk full")
        return None

    async with httpx.AsyncClient() as http:
        tokens = ImsTokens(f"{adobe.base_url}/ims/token/v3", CLIENT, SECRET, ["adobeio_api"], http)
        poller = JournalPoller(
            adobe.base_url + JOURNAL_PATH, CLIENT, tokens, http, db, accept, restart="earliest"
        )
        assert await poller.run_once() == 5.0  # backoff
        assert await poller.cursor() is None
        failing = False
        await poller.run_once()
        assert (await poller.cursor() or "").endswith("since=p4&limit=10")
    db.close()


async def test_webhook_and_journal_overlap_delivers_once(bot_factory: BotFactory, adobe: FakeAdobeIO) -> None:
    event = events(1)[0]
    adobe.append(event)
    bot: Bot = await bot_factory(env_for(adobe), adobe_io=journal_config(adobe))
    body, headers = adobe.signed(event)
    async with client_for(bot, "52.1.2.3") as client:
        r = await client.post("/hooks/adobe-io", content=body, headers=headers)
    assert r.status_code == 200
    await bot.pollers.run_now(JOB)
    assert rows(bot, "SELECT key, source FROM events") == [("adobe-io-j-0", "adobe_io")]
    assert rows(bot, "SELECT count(*) FROM outbox") == [(1,)]
    async with client_for(bot) as client:
        metrics = (await client.get("/metrics")).text
    assert 'notifbot_events_duplicate_total{source="adobe_io_journal"} 1.0' in metrics


async def test_gone_restarts_at_latest_and_says_events_may_be_missed(
    bot_factory: BotFactory, adobe: FakeAdobeIO
) -> None:
    adobe.append(*events(5))
    bot: Bot = await bot_factory(env_for(adobe), adobe_io=journal_config(adobe, "latest"))
    assert bot.journal is not None
    await bot.db.call(
        lambda c: c.execute(
            "INSERT INTO poller_state (instance, poller, cursor) VALUES ('adobe-io', ?, ?)",
            (bot.journal.poller, f"{adobe.base_url}{JOURNAL_PATH}?since=p1&limit=10"),
        )
    )
    adobe.expired_before = 4
    await bot.pollers.run_now(JOB)
    assert adobe.journal_requests[0]["since"] == "p1"
    assert adobe.journal_requests[1] == {"latest": "true"}
    stored = rows(bot, "SELECT kind, original_kind, severity, summary FROM events")
    assert len(stored) == 1
    kind, original, severity, summary = stored[0]
    assert (kind, original, severity) == ("other", "adobe_io_journal_expired", "warning")
    assert summary in (
        "",
        None,
    )  # worded per channel by the kind (kinds/adobe_text.py), not stored in English
    (event,) = rows(bot, "SELECT id FROM events")
    from notifbot.i18n import EN, texts_for
    from notifbot.kinds import describe
    from notifbot.store.events import get_event

    n = await bot.db.call(lambda c: get_event(c, event[0]))
    assert n is not None
    assert "may have been missed" in (describe(n, t=EN).summary or "")
    assert "kan ha missats" in (describe(n, t=texts_for("sv")).summary or "")
    adobe.append(*events(2, start=5))
    await bot.pollers.run_now(JOB)
    assert rows(bot, "SELECT count(*) FROM events WHERE kind = 'campaign_failure'") == [(2,)]


async def test_throttling_and_errors_back_off(bot_factory: BotFactory, adobe: FakeAdobeIO) -> None:
    bot: Bot = await bot_factory(env_for(adobe), adobe_io=journal_config(adobe))
    adobe.fail_next(429, {"retry-after": "30"})
    assert await bot.pollers.run_now(JOB) == 30
    adobe.fail_next(503)
    assert await bot.pollers.run_now(JOB) == 10  # second failure in a row: 5 s, then 10 s
    adobe.append(*events(1))
    assert await bot.pollers.run_now(JOB) == 1  # caught up, 204 retry-after 1
    state = rows(bot, "SELECT last_error, last_success_at FROM poller_state WHERE instance = 'adobe-io'")
    assert "503" in state[0][0] and state[0][1] is not None


async def test_refused_token_is_renewed_once(bot_factory: BotFactory, adobe: FakeAdobeIO) -> None:
    adobe.append(*events(1))
    bot: Bot = await bot_factory(env_for(adobe), adobe_io=journal_config(adobe))
    await bot.pollers.run_now(JOB)
    adobe.tokens.clear()  # IMS revoked every token
    adobe.append(*events(1, start=1))
    await bot.pollers.run_now(JOB)
    assert adobe.token_requests == 2
    assert rows(bot, "SELECT count(*) FROM events") == [(2,)]


async def test_bad_credentials_are_reported_without_the_secret(
    bot_factory: BotFactory, adobe: FakeAdobeIO
) -> None:
    env = env_for(adobe) | {"ADOBE_CLIENT_SECRET": "wrong-s3cret-value"}
    bot: Bot = await bot_factory(env, adobe_io=journal_config(adobe))
    assert await bot.pollers.run_now(JOB) == 300
    (error,) = rows(bot, "SELECT last_error FROM poller_state WHERE instance = 'adobe-io'")[0]
    assert "IMS refused" in error and "wrong-s3cret-value" not in error
    assert json.dumps(rows(bot, "SELECT * FROM poller_state")).find("s3cret") == -1


async def test_hostile_journal_events_are_stored_and_the_position_moves_on(
    bot_factory: BotFactory, adobe: FakeAdobeIO
) -> None:
    """The journal's JSON is read by the standard library, which keeps lone surrogates and nests deep."""
    odd = marketo_event(
        "campaign_abort",
        "j-odd",
        CLIENT,
        data={"munchkinId": "\ud800", "eventAction": {"campaignName": "a\udc00"}},
    )
    odd["eventid"] = "j-odd-\ud800"
    deep = marketo_event(
        "web_services", "j-deep", CLIENT, data={"eventAction": {"x": json.loads("[" * 400 + "]" * 400)}}
    )
    edge = marketo_event("web_services", "j-edge", CLIENT, time="0001-01-01T00:00:00+14:00")
    adobe.append(odd, deep, edge, *events(2))
    bot: Bot = await bot_factory(env_for(adobe), adobe_io=journal_config(adobe))
    await bot.pollers.run_now(JOB)
    assert rows(bot, "SELECT count(*) FROM events") == [(5,)]
    assert adobe.journal_requests[-1].get("since") == "p4"  # every event committed, the position moved on
    (key,) = next(r for r in rows(bot, "SELECT key FROM events") if r[0].startswith("adobe-io-j-odd"))
    assert key == "adobe-io-j-odd-\ufffd"
