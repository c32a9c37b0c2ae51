"""`/marketo` in Swedish: every command's reply in `sv` within Slack's limits, Swedish names, `--dela`, resolution."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from notifbot.commands.args import AlertRef, Command
from notifbot.commands.core import handle, texts_of
from notifbot.commands.model import Invocation
from notifbot.commands.parse import parse, parse_alert_reply
from notifbot.commands.table import COMMANDS, ON_ALERT, TYPED
from notifbot.render.limits import slack_limit_problems
from notifbot.render.slack_reply import render_reply
from notifbot.replies import Reply
from notifbot.store import replicas
from notifbot.store.runner import Database
from tests.unit.commands.conftest import NOW, Harness, make_harness, settings
from tests.unit.commands.test_quota import CT_8AM, INSERT, USERS, row
from tests.unit.commands.test_triggers import INSERT as CAMPAIGNS
from tests.unit.commands.test_triggers import campaign

CHANNEL = "C0123ABCD"  # the `ops` destination's channel in conftest.settings
MARKETO = {"instances": [{"munchkin_id": "123-ABC-456", "client_id": "id", "client_secret": "secret"}]}


async def ask(h: Harness, text: str, **inv: Any) -> Reply:
    """The reply to `text` asked by a Swedish user in Stockholm, checked against Slack's limits."""
    base = Invocation(text=text, user_id="U0ADMIN", user_name="ana", channel_id=CHANNEL)
    hints = {"locale_hint": "sv-SE", "zone_hint": "Europe/Stockholm", **inv}
    reply = await handle(replace(base, **hints), h.ctx)
    assert slack_limit_problems(render_reply(reply)) == [], text
    return reply


def shown(reply: Reply) -> str:
    return json.dumps(render_reply(reply), ensure_ascii=False)


@pytest.fixture
async def sv(tmp_path: Path) -> AsyncIterator[Harness]:
    db = Database(tmp_path / "n.db")
    yield make_harness(db, settings(marketo=MARKETO))
    db.close()


# --- names and options ---------------------------------------------------------------------------------------


def test_every_command_word_is_unique() -> None:
    words = [w for spec in COMMANDS for w in spec.words]
    assert len(words) == len(set(words)), sorted(w for w in words if words.count(w) > 1)
    assert len(TYPED) + len(ON_ALERT) == len(words)


@pytest.mark.parametrize(
    ("word", "name"),
    [
        ("hjälp", "help"),
        ("hjalp", "help"),
        ("kvot", "quota"),
        ("inaktiva-triggers", "stale-triggers"),
        ("inaktiva", "stale-triggers"),
        ("vilande-triggers", "stale-triggers"),
        ("vilande", "stale-triggers"),
        ("senaste", "recent"),
        ("tystade", "mutes"),
        ("rutter", "routes"),
        ("KVOT", "quota"),
    ],
)
def test_swedish_names_parse_to_their_command(word: str, name: str) -> None:
    assert parse(word) == parse(name) and parse(word).name == name and parse(word).error is None


def test_swedish_names_take_the_same_arguments() -> None:
    assert parse("tysta crm_sync 2h") == parse("mute crm_sync 2h")
    assert parse("avtysta crm_sync") == parse("unmute crm_sync")
    assert parse("inaktiva 30") == parse("stale-triggers 30")
    assert parse("senaste audit 5") == parse("recent audit 5")


def test_dela_shares_like_share() -> None:
    assert parse("kvot --dela") == Command("quota", share=True)
    assert parse("quota --DELA") == Command("quota", share=True)
    assert parse("inaktiva 30 --dela") == Command("stale-triggers", number=30, share=True)


@pytest.mark.parametrize("word", ["kvittera", "kvitterat", "kvitt", "Kvittera ", "ack"])
def test_thread_replies_acknowledge_in_swedish(word: str) -> None:
    alert = AlertRef("C1", "1.2")
    assert parse_alert_reply(word, alert) == Command("acknowledge", alert=alert)


# --- which language --------------------------------------------------------------------------------------------


async def test_the_user_beats_the_channel_which_beats_the_global_setting(tmp_path: Path) -> None:
    s = settings(
        locale="en",
        destinations={
            "ops": {"type": "slack", "channel": CHANNEL, "locale": "sv"},
            "log": {"type": "console"},
        },
    )
    ctx = make_harness(Database(tmp_path / "n.db"), s).ctx
    inv = Invocation("quota", "U1", channel_id=CHANNEL)
    assert texts_of(inv, ctx).locale == "sv"  # the channel's destination
    assert texts_of(replace(inv, locale_hint="en-US"), ctx).locale == "en"  # the user's own
    assert (
        texts_of(replace(inv, locale_hint="en-US"), ctx, shared=True).locale == "sv"
    )  # --share: the channel
    assert texts_of(replace(inv, locale_hint="fr-FR"), ctx).locale == "sv"  # no catalog: on to the channel
    assert texts_of(replace(inv, channel_id="C0THER"), ctx).locale == "en"  # the global setting
    glob = make_harness(Database(tmp_path / "g.db"), settings(locale="sv", timezone="Europe/Stockholm")).ctx
    other = texts_of(replace(inv, channel_id="C0THER"), glob)
    assert (other.locale, other.zone and other.zone.key) == ("sv", "Europe/Stockholm")
    plain = make_harness(Database(tmp_path / "p.db"), settings()).ctx
    assert (texts_of(inv, plain).locale, texts_of(inv, plain).zone) == ("en", None)


async def test_the_users_zone_comes_with_the_users_language(tmp_path: Path) -> None:
    ctx = make_harness(Database(tmp_path / "n.db"), settings(timezone="America/Chicago")).ctx
    inv = Invocation("quota", "U1", locale_hint="sv-SE", zone_hint="Europe/Stockholm")
    assert texts_of(inv, ctx).zone.key == "Europe/Stockholm"  # type: ignore[union-attr]
    assert texts_of(replace(inv, zone_hint="Not/AZone"), ctx).zone.key == "America/Chicago"  # type: ignore[union-attr]


async def test_share_answers_in_the_channels_language(sv: Harness) -> None:
    shared = await ask(sv, "kvot --dela", locale_hint="en-US")
    assert shared.visibility == "in_channel" and shared.title == "Marketo API quota"  # channel: global en
    mine = await ask(sv, "kvot")
    assert mine.visibility == "ephemeral" and mine.title == "Marketos API-kvot"


# --- every command in Swedish -----------------------------------------------------------------------------------


async def test_help_in_swedish_shows_the_swedish_name_then_the_english(sv: Harness) -> None:
    reply = await ask(sv, "hjälp")
    lines = [i.text for i in reply.sections[0].items]
    assert "/marketo kvot [--dela] (quota)" in lines
    assert "/marketo inaktiva-triggers [dagar] [--dela] (stale-triggers)" in lines
    assert "/marketo status" in lines  # the same word in Swedish: shown once
    assert reply.title == "/marketo — aviseringar från Marketo"
    assert reply.footer == (
        "Kommandon som bara visar information är öppna för alla; tysta och avtysta kräver en notifbot-administratör "
        "(`slack.admins`)."
    )
    english = await sv.ask("help")
    assert "/marketo quota [--share]" in [i.text for i in english.sections[0].items]


async def test_parse_errors_in_swedish(sv: Harness) -> None:
    reply = await ask(sv, "kvot --högt")
    assert reply.sections[0].text == "Tyvärr: okänt alternativ '--högt' för quota."
    mute = await ask(sv, "tysta crm_sync")
    assert (mute.sections[0].text or "").startswith("Tyvärr: hur länge? användning: tysta [typ]")
    assert (await sv.ask("mute crm_sync")).sections[0].text == (
        'Sorry, how long? usage: mute [kind] [key=value …] <duration> [--reason "why"], e.g. `mute crm_sync 2h '
        '--reason "user rotation"` or `mute kind=campaign_failure instance=123-ABC-456 campaign_name=Q4* 4h`.'
    )


async def test_quota_in_swedish_with_the_local_reset_and_ct_beside(sv: Harness) -> None:
    sv.now = CT_8AM + timedelta(hours=4, minutes=40)  # 12:40 CT, 19:40 in Stockholm
    await sv.sql(
        INSERT,
        row(CT_8AM, 10_000),
        row(CT_8AM + timedelta(hours=4), 20_000, users=USERS, errors=json.dumps({"606": 12, "615": 3})),
    )
    reply = await ask(sv, "kvot")
    facts = {f.label: f.value for f in reply.sections[0].facts}
    assert facts["Använt i dag"] == "20\xa0000 av 40\xa0000 (50\xa0%)"
    assert facts["Kvar"] == "20\xa0000"
    assert facts["Återställs"] == "om 11 h 20 min, 1 dec. 07:00 (00:00 CT)"
    assert facts["Mätt"] == "12:00 CT (för 40 min sedan)"
    assert facts["API-fel i dag"] == "606 (gräns för anropstakt): 12 · 615 (gräns för samtidiga anrop): 3"
    assert "tar kvoten slut kl. 20:00 CT, 4 h före återställningen" in (reply.sections[0].text or "")
    users = reply.sections[1]
    assert users.title == "Största API-användare — 123-ABC-456"
    assert users.items[0].detail == "12\xa0000 anrop (60\xa0% av dagens)"
    assert reply.footer is not None and reply.footer.startswith("Marketos dagliga API-kvot återställs")


async def test_quota_in_english_with_chicago_keeps_todays_reset_text(tmp_path: Path) -> None:
    h = make_harness(Database(tmp_path / "n.db"), settings(marketo=MARKETO, timezone="America/Chicago"))
    h.now = CT_8AM + timedelta(hours=4, minutes=40)
    await h.sql(INSERT, row(CT_8AM, 10_000), row(CT_8AM + timedelta(hours=4), 20_000))
    facts = {f.label: f.value for f in (await h.ask("quota")).sections[0].facts}
    assert facts["Resets"] == "in 11 h 20 min (00:00 CT)"


async def test_stale_triggers_in_swedish(sv: Harness) -> None:
    await sv.sql(
        CAMPAIGNS, campaign(1, "Gammal", "2026-05-01T00:00:00Z"), campaign(2, "Ny", "2026-11-01T00:00:00Z")
    )
    reply = await ask(sv, "inaktiva 30")
    assert reply.title == "Vilande triggerkampanjer"
    assert reply.sections[0].text == (
        "1 av 2 aktiva triggerkampanjer har inte haft någon som kvalificerat sig på 30+ dagar (längst vilande "
        "först). 1 riskerar Marketos kvartalsvisa rensning."
    )
    assert reply.sections[0].items[0].detail == (
        "Website · vilande i 213 dagar (senaste aktivitet 1 maj 2026) · riskerar Marketos kvartalsvisa rensning"
    )
    assert "En gång per kvartal" in (reply.footer or "")


async def test_mute_mutes_and_unmute_in_swedish(sv: Harness) -> None:
    muted = await ask(sv, 'tysta crm_sync 2h --reason "byte av användare"')
    assert muted.title == "Tystade crm_sync i 2 h"
    text = muted.sections[0].text or ""
    assert text.startswith("Fram till 30 nov. 2026 22:00 CET (15:00 CT) sparas nya crm_sync-aviseringar")
    assert {f.label for f in muted.sections[0].facts} == {"Typ", "Till", "Tystad av", "Skäl"}
    listed = await ask(sv, "tystade")
    assert listed.title == "Aktiva tystningar (1)"
    assert listed.sections[0].items[0].detail == "2 h kvar · av U0ADMIN (ana) · byte av användare"
    ended = await ask(sv, "avtysta crm_sync")
    assert ended.title == "Avtystade crm_sync"
    assert ended.sections[0].text == "Avslutade 1 tystning; nya crm_sync-aviseringar publiceras igen."
    none = await ask(sv, "avtysta crm_sync")
    assert none.sections[0].text == "Ingen aktiv tystning för crm_sync. Inget är tystat."


async def test_refusal_in_swedish(sv: Harness) -> None:
    reply = await ask(sv, "tysta crm_sync 2h", user_id="U0NOBODY")
    assert reply.title == "Inte tillåtet" and not reply.ok
    assert (reply.sections[0].text or "").startswith(
        "Bara notifbot-administratörer (`slack.admins`) kan tysta;"
    )


async def test_recent_in_swedish(sv: Harness) -> None:
    empty = await ask(sv, "senaste")
    assert empty.title == "Senaste aviseringar"
    assert (empty.sections[0].text or "").startswith("Inga aviseringar sparade ännu.")
    await sv.notify("audit", {"user": "ana"}, "a-1")
    reply = await ask(sv, "senaste")
    assert reply.sections[0].text == "Den senaste 1 aviseringen av 1 sparade, nyaste först."
    assert "Status: levererad, väntar" in (reply.footer or "")
    detail = reply.sections[0].items[0].detail or ""
    assert detail.startswith("väntar · audit") and "CET" in detail


async def test_routes_and_status_in_swedish(sv: Harness) -> None:
    routes = await ask(sv, "rutter")
    assert routes.title == "Rutter"
    assert routes.sections[0].items[0].text.startswith("1. allt annat → ops")
    assert routes.sections[0].items[0].detail == "slutar här"
    await sv.db.call(replicas.beat, "bot-a", "host-a", 100, "9.9.9", time.time() - 60)
    await sv.db.call(replicas.beat, "bot-b", "host-b", 101, "9.9.9", time.time() - 60)
    status = await ask(sv, "status")
    assert status.title == "notifbot-status"
    facts = {f.label: f.value for f in status.sections[0].facts}
    assert facts["Drifttid"] == "2 d (sedan 28 nov. 2026 20:00 CET (13:00 CT))"
    assert facts["Senaste leverans"] == "ingen ännu"
    assert facts["Olösta larmgrupper"] == "inga"
    assert status.sections[1].title == "Hämtning från Marketo"
    assert status.sections[1].items[0].text == "123-ABC-456 · API-budget"
    assert status.sections[1].items[0].detail == "500 anrop per dag; väntar på första hämtningen"
    assert (status.sections[2].title or "").startswith("Repliker")
    assert "kör ingen hämtning" in shown(status)


async def test_every_swedish_command_fits_slacks_limits(sv: Harness) -> None:
    sv.now = NOW
    await sv.sql(INSERT, row(NOW - timedelta(hours=2), 10_000, users=USERS), row(NOW, 20_000, users=USERS))
    for i in range(40):
        await sv.notify("audit", {"user": f"användare-{i}"}, f"a-{i}")
    for text in (
        "hjälp",
        "kvot",
        "inaktiva",
        "senaste 50",
        "tystade",
        "rutter",
        "status",
        "tysta all 1h",
        "nonsens",
    ):
        await ask(sv, text)  # `ask` checks the rendered reply against render.limits
