"""The catalogs are complete: every message of the template has its Swedish text, placeholders and menu paths kept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from notifbot.i18n import available, catalogs

TEMPLATE = catalogs.LOCALES.parent / "notifbot.pot"
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")
# a Marketo menu path as Marketo shows it: capitalised words joined by arrows ("Admin → Web Services")
MENU_PATH = re.compile(r"[A-Z][\w-]*(?: [A-Z&][\w-]*)*(?: → [A-Z][\w-]*(?: [A-Z&][\w-]*)*)+")


def _read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def _messages(catalog: Catalog) -> Iterator[Message]:
    return (m for m in catalog if m.id)


def _key(m: Message) -> tuple[str | None, object]:
    return (m.context, m.id)


def _forms(value: object) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, tuple | list) else (str(value or ""),)


TRANSLATED = sorted(available() - {catalogs.SOURCE})


def test_the_template_has_messages() -> None:
    assert len(list(_messages(_read(TEMPLATE)))) > 10


@pytest.mark.parametrize("locale", sorted(available()))
def test_every_message_is_in_every_catalog(locale: str) -> None:
    wanted = {_key(m) for m in _messages(_read(TEMPLATE))}
    catalog = _read(catalogs.po_path(locale))
    have = {_key(m) for m in _messages(catalog)}
    assert sorted(map(str, wanted - have)) == [], "run `make messages`"
    assert sorted(map(str, have - wanted)) == [], "run `make messages` (entries no longer in the code)"
    assert not catalog.obsolete, f"obsolete entries in {locale}: {list(catalog.obsolete)[:5]}"


def test_english_needs_no_translation() -> None:
    translated = [m.id for m in _messages(_read(catalogs.po_path("en"))) if any(_forms(m.string))]
    assert translated == [], "en.po keeps every msgstr empty: the message id is the English text"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_message_has_its_translation(locale: str) -> None:
    catalog = _read(catalogs.po_path(locale))
    missing = [str(_key(m)) for m in _messages(catalog) if not all(_forms(m.string)) or m.fuzzy]
    assert missing == [], f"{len(missing)} messages untranslated or fuzzy in {locale}.po"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_placeholders_and_menu_paths_are_kept(locale: str) -> None:
    problems: list[str] = []
    for m in _messages(_read(catalogs.po_path(locale))):
        ids, strings = _forms(m.id), _forms(m.string)
        wanted = {name for text in ids for name in PLACEHOLDER.findall(text)}
        for text in strings:
            if text and set(PLACEHOLDER.findall(text)) - wanted:
                problems.append(f"{m.id!r}: {text!r} has a placeholder the English has not")
            if text and len(ids) == 1 and set(PLACEHOLDER.findall(text)) != wanted:
                problems.append(f"{m.id!r}: {text!r} drops a placeholder")
            for path in MENU_PATH.findall(ids[0]):
                if text and path not in text:
                    problems.append(f"{m.id!r}: the menu path {path!r} is not kept verbatim")
    assert problems == []
