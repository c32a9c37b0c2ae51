"""A pseudo-locale 40 % longer than English, accented: every sample still fits Slack's limits and Teams' card size."""

from __future__ import annotations

import gettext
import math
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifbot.groups import MESSAGE_ITEMS, GroupView, ThreadItems
from notifbot.i18n import Texts
from notifbot.kinds import load_samples
from notifbot.model import Acked, Notification, Severity
from notifbot.render.card import MAX_CARD_BYTES, card_size
from notifbot.render.slack import render_slack, render_slack_thread
from notifbot.render.teams import render_teams, render_teams_thread
from notifbot.sources.events import parse_event
from tests.unit.render.helpers import all_text, assert_valid
from tests.unit.render.teams_helpers import assert_valid_card

T = datetime(2026, 11, 28, 10, tzinfo=UTC)
SAMPLES = load_samples()
PLACEHOLDER = re.compile(r"(\{[^{}]*\})")
ACCENTS = str.maketrans("aeiouyAEIOUYcnsz", "åéîøüÿÅÉÎØÜŸçñšž")


def stretch(message: str) -> str:
    """`message` accented and 40 % longer, its `{placeholders}` untouched."""
    parts = [p if PLACEHOLDER.fullmatch(p) else p.translate(ACCENTS) for p in PLACEHOLDER.split(message)]
    text = "".join(parts)
    return text + "·" * math.ceil(len(message) * 0.4) if message.strip() else message


class Pseudo(gettext.NullTranslations):
    """Every message stretched: what a long translation does to the layout."""

    def gettext(self, message: str) -> str:
        return stretch(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return stretch(msgid1 if n == 1 else msgid2)

    def pgettext(self, context: str, message: str) -> str:
        return stretch(message)


PSEUDO = Texts("sv", ZoneInfo("Europe/Stockholm"), Pseudo())


def sample(name: str) -> Notification:
    return parse_event(SAMPLES[name], now=T)


def group_of(n: Notification, count: int, state: str = "firing", digest: str | None = None) -> GroupView:
    items = tuple(stretch(f"Event {i} <x>") for i in range(min(count, MESSAGE_ITEMS)))
    key = "kind=crm_sync, instance=123-ABC-456, " + "x" * 300
    return GroupView(
        n, count, T, T + timedelta(minutes=5), items, Severity.CRITICAL, state, key, digest=digest
    )


def test_the_pseudo_locale_is_longer_and_keeps_placeholders() -> None:
    assert PSEUDO._("Campaign {verb}: {name}").startswith("Cåmpåîgñ {verb}: {name}")
    assert len(PSEUDO._("Acknowledge")) >= 1.4 * len("Acknowledge")


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_in_the_pseudo_locale_fits_slack(name: str) -> None:
    n = sample(name)
    acked = Acked("U0123ABCD", T + timedelta(minutes=3))
    for message in (
        render_slack(n, texts=PSEUDO),
        render_slack(n, interactive=True, texts=PSEUDO),
        render_slack(n, interactive=True, acked=acked, texts=PSEUDO),
        render_slack(replace(n, status="resolved"), texts=PSEUDO),
        render_slack(n, interactive=True, group=group_of(n, 42), texts=PSEUDO),
        render_slack(n, interactive=True, group=group_of(n, 3, "resolved"), texts=PSEUDO),
        render_slack(n, group=group_of(n, 300, digest=stretch("digest kind=x · 1 dec. 08:00")), texts=PSEUDO),
    ):
        assert_valid(message)
        assert "·" in all_text(message)  # the catalog's words reached the message


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_in_the_pseudo_locale_is_a_valid_teams_card(name: str) -> None:
    n = sample(name)
    for card in (
        render_teams(n, texts=PSEUDO),
        render_teams(n, acked=Acked("someone@example.com", T), texts=PSEUDO),
        render_teams(replace(n, status="resolved"), texts=PSEUDO),
        render_teams(n, group=group_of(n, 42), texts=PSEUDO),
    ):
        assert_valid_card(card)
        assert card_size(card) <= MAX_CARD_BYTES


def test_threads_in_the_pseudo_locale_fit() -> None:
    labels = tuple(stretch(f"Item {i}") for i in range(200))
    items = ThreadItems(labels, 0, 200)
    assert_valid(render_slack_thread(items, texts=PSEUDO))
    card = render_teams_thread(items, texts=PSEUDO)
    assert_valid_card(card)
    assert card_size(card) <= MAX_CARD_BYTES
    resolved = ThreadItems((), 0, 0, resolved=True)
    assert_valid(render_slack_thread(resolved, texts=PSEUDO))
    assert_valid_card(render_teams_thread(resolved, texts=PSEUDO))
