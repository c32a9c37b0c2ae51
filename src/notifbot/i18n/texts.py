"""`Texts`: one locale and time zone as a value — its translated messages and its numbers, dates and durations."""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime, format_time, get_timezone_name
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent, get_group_symbol

from notifbot.central_time import CENTRAL
from notifbot.i18n import catalogs
from notifbot.iso_time import parse_time
from notifbot.text import (
    CT_OUT_OF_RANGE,
    TOO_LARGE,
    UTC_OUT_OF_RANGE,
    as_text,
    clock_12h,
    format_count,
    format_ct,
    format_date,
    format_utc,
    format_when,
    to_number,
)
from notifbot.text import (
    format_percent as format_percent_en,
)


def N_(message: str) -> str:
    """Marks `message` for the catalog where it is defined; it is translated where it is shown (`Texts._`)."""
    return message


# the placeholders text.py shows for values it cannot show, so `Texts.value` can translate them
PLACEHOLDERS = (
    N_("(a number too large to show)"),
    N_("(a value too deeply nested to show)"),
    N_("(a value that cannot be shown)"),
    N_("US Central time out of range"),
    N_("out of range in UTC"),
)

# CLDR patterns per locale for what `en` writes by hand (today's English output is kept exactly)
_DATE_TIME = "d MMM y HH:mm"
_DAY_TIME = "d MMM HH:mm"
_DATE = "d MMM y"
_CLOCK = "HH:mm"


@dataclass(frozen=True, eq=False)
class Texts:
    """The messages and formats of one locale, with the time zone times are shown in (None: UTC with CT beside)."""

    locale: str
    zone: ZoneInfo | None
    catalog: gettext.NullTranslations

    @property
    def english(self) -> bool:
        """Whether this is the source language (today's hand-written English formats)."""
        return self.locale == catalogs.SOURCE

    # --- messages -------------------------------------------------------------------------------------------------

    def _(self, message: str) -> str:
        """`message` in this locale."""
        return self.catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The singular or plural form for `n`, in this locale."""
        return self.catalog.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        """`message` as used in `context` ("fact", "button", "heading", …), in this locale."""
        return self.catalog.pgettext(context, message)

    def value(self, value: object) -> str:
        """Any field value as display text (`text.as_text`), with yes/no and the placeholders in this locale."""
        if isinstance(value, bool):
            return self._("yes") if value else self._("no")
        text = as_text(value)
        return self._(text) if text in PLACEHOLDERS else text

    # --- numbers --------------------------------------------------------------------------------------------------

    def count(self, n: object) -> str:
        """`n` with the locale's thousands separators ("48,123", "48 123"); non-numbers come back as text."""
        if self.english:
            return format_count(n)
        group = get_group_symbol(self.locale)
        if isinstance(n, int) and not isinstance(n, bool):
            try:
                return f"{n:,}".replace(",", group)
            except ValueError:
                return self._(TOO_LARGE)
        number = to_number(n)
        if number is None:
            return self.value(n)
        if number.is_integer() and abs(number) < 1e18:
            return f"{int(number):,}".replace(",", group)
        return format_decimal(Decimal(str(round(number, 2))), "#,##0.##", locale=self.locale)

    def percent(self, value: object) -> str:
        """A percentage with at most one decimal ("97.5%", "97,5 %"); non-numbers come back as text."""
        if self.english:
            return format_percent_en(value)
        number = to_number(value)
        if number is None:
            return self.value(value)
        share = Decimal(str(round(number, 1))) / 100
        return format_percent(share, locale=self.locale, decimal_quantization=False)

    # --- times ----------------------------------------------------------------------------------------------------

    def clock(self, dt: datetime) -> str:
        """The wall-clock time of `dt` in its own zone: "4:40 PM", "16:40"."""
        return clock_12h(dt) if self.english else format_time(dt, _CLOCK, locale=self.locale)

    def day_clock(self, local: datetime) -> str:
        """A day and clock in `local`'s own zone, for periods: "Dec 1 8:00", "1 dec. 08:00"."""
        if self.english:
            return local.strftime("%b %d %H:%M").replace(" 0", " ")
        return format_datetime(local, _DAY_TIME, locale=self.locale)

    def utc(self, dt: datetime) -> str:
        """A time in UTC: "Nov 28, 2026 10:00 UTC", "28 nov. 2026 10:00 UTC"."""
        if self.english:
            return format_utc(dt)
        try:
            utc = dt.astimezone(UTC)
        except OverflowError:
            return f"{dt.isoformat()} ({self._(UTC_OUT_OF_RANGE)})"
        return f"{format_datetime(utc, _DATE_TIME, locale=self.locale)} UTC"

    def ct(self, dt: datetime) -> str:
        """A time in US Central with its day: "Nov 29, 12:00 AM CT", "29 nov. 00:00 CT"."""
        if self.english:
            return format_ct(dt)
        try:
            local = dt.astimezone(CENTRAL)
        except OverflowError:
            return self.utc(dt)
        return f"{format_datetime(local, _DAY_TIME, locale=self.locale)} CT"

    def clock_ct(self, dt: datetime, now: datetime | None = None) -> str:
        """A US Central clock time ("4:40 PM CT"), with the day when it is not the same Central day as `now`."""
        local = dt.astimezone(CENTRAL)
        if now is not None and now.astimezone(CENTRAL).date() != local.date():
            return self.ct(dt)
        return f"{self.clock(local)} CT"

    def when(self, value: object) -> str:
        """A point in time in this zone with US Central beside it; without a zone in UTC with CT beside; else as given."""
        dt = parse_time(value)
        if dt is None:
            return self.value(value)
        if self.zone is not None and self.zone.key not in ("UTC", "Etc/UTC"):
            try:
                local = dt.astimezone(self.zone)
                central = dt.astimezone(CENTRAL)
            except OverflowError:
                pass
            else:
                return self._local(local, central)
        if self.english:
            return format_when(value)
        utc = self.utc(dt)
        try:
            dt.astimezone(CENTRAL)
        except OverflowError:
            return utc if utc.endswith(")") else f"{utc} ({self._(CT_OUT_OF_RANGE)})"
        return f"{utc} ({self.ct(dt)})"

    def _local(self, local: datetime, central: datetime) -> str:
        """A local time with its zone's name, then the US Central time beside it (none when the zone is Central)."""
        if self.english:
            text = f"{local:%b} {local.day}, {local.year} {local:%H:%M}"
        else:
            text = format_datetime(local, _DATE_TIME, locale=self.locale)
        if self.zone is not None and self.zone.key == CENTRAL.key:
            return f"{text} CT"
        beside = self.ct(central) if central.date() != local.date() else f"{self.clock(central)} CT"
        return f"{text} {self.zone_label(local)} ({beside})"

    def reset(self, dt: datetime, now: datetime | None = None) -> str:
        """When the quota resets: local time with the CT time beside ("07:00 (00:00 CT)"); US Central alone without a zone.

        The day is shown when it is not today (`now`'s local day), or always when `now` is not given.
        """
        if self.zone is None or self.zone.key == CENTRAL.key:
            return self.clock_ct(dt, now) if now is not None else self.ct(dt)
        local = dt.astimezone(self.zone)
        clock = self.clock(local)
        if now is None or now.astimezone(self.zone).date() != local.date():
            day = (
                f"{local:%b} {local.day},"
                if self.english
                else format_datetime(local, "d MMM", locale=self.locale)
            )
            clock = f"{day} {clock}"
        return f"{clock} ({self.clock(dt.astimezone(CENTRAL))} CT)"

    def date(self, value: object) -> str:
        """A calendar date ("Dec 1, 2026", "1 dec. 2026") from a date-time or date string, else the text as given."""
        if self.english:
            return format_date(value)
        dt = parse_time(value)
        if dt is None:
            return self.value(value)
        return format_datetime(dt, _DATE, locale=self.locale)

    def zone_label(self, local: datetime) -> str:
        """How a time in this zone is labelled: its short name when the locale has one in letters, else its city."""
        if self.zone is None:
            return "UTC"
        try:
            name = get_timezone_name(local, width="short", locale=self.locale)
        except (LookupError, ValueError):
            name = ""
        if name.isalpha():
            return name
        return self.zone.key.rsplit("/", 1)[-1].replace("_", " ")

    def span(self, delta: timedelta) -> str:
        """A duration in two units: "3 d 4 h", "7 h 20 min", "45 min", "less than a minute"."""
        minutes = int(delta.total_seconds() // 60)
        if minutes <= 0:
            return self._("less than a minute")
        days, rest = divmod(minutes, 1440)
        hours, mins = divmod(rest, 60)
        # TRANSLATORS: a number of days, hours or minutes in a short duration ("3 d 4 h", "7 h 20 min")
        d, h, m = self._("{n} d"), self._("{n} h"), self._("{n} min")
        if days:
            return f"{d.format(n=days)} {h.format(n=hours)}" if hours else d.format(n=days)
        if hours:
            return f"{h.format(n=hours)} {m.format(n=mins)}" if mins else h.format(n=hours)
        return m.format(n=mins)

    def ago(self, then: datetime, now: datetime) -> str:
        """ "5 min ago", or "just now"."""
        delta = now - then
        if delta < timedelta(minutes=1):
            return self._("just now")
        return self.pgettext("relative", "{span} ago").format(span=self.span(delta))

    def join(self, words: list[str]) -> str:
        """Words as a list in a sentence: "a, b and c", "a, b och c"."""
        if not words:
            return ""
        if self.english:
            return " and ".join(filter(None, (", ".join(words[:-1]), words[-1])))
        return format_list(words, locale=self.locale)


def language(locale: str | None) -> str:
    """The catalog a locale tag asks for ("sv-SE", "sv_SE" → "sv"); `en` when there is none for it."""
    lang = (locale or "").replace("_", "-").split("-")[0].lower()
    return lang if lang in catalogs.available() else catalogs.SOURCE


def zone_for(timezone: str | None) -> ZoneInfo | None:
    """The zone an IANA name names, or None (no name, or one this machine does not know)."""
    if not timezone:
        return None
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=256)
def texts_for(locale: str | None = None, timezone: str | None = None) -> Texts:
    """The `Texts` of a locale tag and an IANA zone name (each loaded once; unknown ones fall back to `en`, no zone)."""
    lang = language(locale)
    return Texts(lang, zone_for(timezone), catalogs.load(lang))


EN = texts_for()
