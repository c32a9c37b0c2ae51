"""Messages in the team's language and times in its zone: gettext catalogs and Babel formats (docs/design/locale.md)."""

from __future__ import annotations

from notifbot.i18n.catalogs import available
from notifbot.i18n.names import LocaleName, ZoneName
from notifbot.i18n.texts import EN, N_, Texts, language, texts_for, zone_for

__all__ = ["EN", "N_", "LocaleName", "Texts", "ZoneName", "available", "language", "texts_for", "zone_for"]
