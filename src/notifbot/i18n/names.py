"""The config types of a locale and a time zone name (`locale: sv`, `timezone: Europe/Stockholm`), checked on load."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from notifbot.i18n.catalogs import available
from notifbot.i18n.texts import zone_for


def check_locale(value: str) -> str:
    """`value` when notifbot has a catalog for it."""
    if value not in available():
        raise ValueError(f"unknown locale {value!r}: notifbot speaks {', '.join(sorted(available()))}")
    return value


def check_zone(value: str) -> str:
    """`value` when it names an IANA time zone this machine knows."""
    if zone_for(value) is None:
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as Europe/Stockholm or America/Chicago"
        )
    return value


LocaleName = Annotated[str, AfterValidator(check_locale)]
ZoneName = Annotated[str, AfterValidator(check_zone)]
