"""The gettext catalogs shipped in `i18n/locales/`: which locales exist, and loading one (the .mo, else its .po)."""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

DOMAIN = "notifbot"
LOCALES = Path(__file__).parent / "locales"
SOURCE = "en"  # the language of the message ids: needs no translation


def po_path(locale: str) -> Path:
    """Where the catalog source of `locale` lives."""
    return LOCALES / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def available() -> frozenset[str]:
    """The locales notifbot can speak: `en` and every locale with a catalog."""
    found = {p.parent.parent.name for p in LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return frozenset(found | {SOURCE})


def compile_po(po: Path) -> bytes:
    """The .mo bytes of one .po, fuzzy entries left out (as `pybabel compile` and the build hook do)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f)
    out = BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def load(locale: str) -> gettext.NullTranslations:
    """The translations of `locale`: the compiled .mo when it is at least as new as its .po, else the .po compiled now.

    The source language and an unknown locale give the message ids themselves (en.po keeps every msgstr empty).
    """
    po = po_path(locale)
    if locale == SOURCE or not po.exists():
        return gettext.NullTranslations()
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as f:
            return gettext.GNUTranslations(f)
    return gettext.GNUTranslations(BytesIO(compile_po(po)))
