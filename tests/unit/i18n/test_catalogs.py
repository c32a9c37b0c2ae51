"""Catalogs: the .mo the build writes and the .po compiled in memory give the same messages."""

from __future__ import annotations

import gettext
import shutil
from pathlib import Path

import pytest

from notifbot.i18n import available, catalogs


def test_en_and_sv_are_available() -> None:
    assert {"en", "sv"} <= available()


def _messages(t: gettext.NullTranslations) -> dict[object, object]:
    return dict(getattr(t, "_catalog", {}))


def test_the_compiled_mo_and_the_po_compiled_in_memory_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "locales"
    shutil.copytree(catalogs.LOCALES, root, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(catalogs, "LOCALES", root)
    from_po = catalogs.load("sv")
    po = catalogs.po_path("sv")
    po.with_suffix(".mo").write_bytes(catalogs.compile_po(po))
    from_mo = catalogs.load("sv")
    assert isinstance(from_mo, gettext.GNUTranslations)
    assert _messages(from_po) == _messages(from_mo)
    assert from_po.gettext("just now") == "nyss"
    po.touch()  # a .po edited after the last build is read, not its stale .mo
    mo = po.with_suffix(".mo")
    mo.write_bytes(b"not a catalog")
    import os

    os.utime(mo, (po.stat().st_mtime - 10, po.stat().st_mtime - 10))
    assert catalogs.load("sv").gettext("just now") == "nyss"


def test_an_unknown_locale_gives_the_message_ids() -> None:
    assert catalogs.load("xx").gettext("just now") == "just now"
