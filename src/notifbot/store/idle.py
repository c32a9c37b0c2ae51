"""How long each active trigger campaign has been idle, computed in Python: one definition for every store backend.

The inputs are plain stored columns (ISO text as the pollers wrote it, or whatever an older version or a hand edit
left there) and the activity scan's cursor. Timestamps are read the way SQLite's `julianday()` read them when this
was SQL (tests/unit/store/test_idle.py holds that SQL and checks both agree on random rows), so no campaign changes
its idle time, basis or order by moving the computation out of the database.

Idle since (`jd`, a Julian day) and on what basis:
  activity: the newest activity seen for the campaign;
  at_least: none since `covered_from` (where the activity scan's coverage starts) for a campaign that was active
            before notifbot first listed the instance: idle at least since then, capped by createdAt;
  created:  none since it was created, within the coverage;
  observed: none since notifbot saw it active (or since coverage began, if later); no coverage yet: since seen.
A campaign Marketo itself scheduled for cleanup had no one qualify for 6 months, whatever notifbot saw.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

CLEANUP_DAYS = 180  # Marketo deactivates trigger campaigns idle for over 6 months
ACTIVITY_POLLER = "activities"  # its cursor's `covered_from` says since when no activity can have been missed

_UNIX_EPOCH_JD = 2_440_587.5
_DAY_MS = 86_400_000
_MAX_JD_MS = 464_269_060_799_999  # 9999-12-31 23:59:59.999, the last instant julianday() answers
_FIRST_SECOND = -62_135_596_800  # 0001-01-01T00:00:00Z
_LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z
_SPACE = " \t\n\v\f\r"
_CANONICAL = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d):(\d\d)Z)?\Z", re.ASCII)
_NUMBER = re.compile(r"[ \t\n\v\f\r]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t\n\v\f\r]*\Z")


def julian_day(dt: datetime) -> float:
    """`dt` as a Julian day number, the unit of idle times."""
    return dt.timestamp() / 86_400 + _UNIX_EPOCH_JD


def from_julian(jd: float) -> datetime:
    """A Julian day number back as an aware UTC datetime (to the second; clamped to years 1 to 9999)."""
    seconds = round((jd - _UNIX_EPOCH_JD) * 86_400)
    return datetime.fromtimestamp(min(max(seconds, _FIRST_SECOND), _LAST_SECOND), UTC)


def _cdiv(a: int, b: int) -> int:
    """Integer division truncating toward zero, as C's `/`."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _digits(text: str, at: int, n: int, low: int, high: int) -> int | None:
    """The `n` ASCII digits at `at` as a number within [low, high], else None."""
    chunk = text[at : at + n]
    if len(chunk) != n or not all("0" <= c <= "9" for c in chunk):
        return None
    value = int(chunk)
    return value if low <= value <= high else None


def _zone(text: str, at: int) -> int | None:
    """Minutes east of UTC from a trailing "Z" / "±HH:MM" (spaces around allowed; nothing: 0), else None."""
    while at < len(text) and text[at] in _SPACE:
        at += 1
    if at == len(text):
        return 0
    sign, minutes = text[at], 0
    if sign in "Zz":
        at += 1
    elif sign in "+-":
        hours = _digits(text, at + 1, 2, 0, 14)
        mins = _digits(text, at + 4, 2, 0, 59)
        if hours is None or mins is None or text[at + 3] != ":":
            return None
        minutes, at = (hours * 60 + mins) * (1 if sign == "+" else -1), at + 6
    else:
        return None
    return minutes if text[at:].strip(_SPACE) == "" else None


def _clock(text: str, at: int) -> tuple[int, int] | None:
    """(milliseconds into the day, minutes of zone offset) from "HH:MM[:SS[.fff…]]" and an optional zone."""
    hours, mins = _digits(text, at, 2, 0, 24), _digits(text, at + 3, 2, 0, 59)
    if hours is None or mins is None or text[at + 2 : at + 3] != ":":
        return None
    at, seconds = at + 5, 0.0
    if text[at : at + 1] == ":":
        whole = _digits(text, at + 1, 2, 0, 59)
        if whole is None:
            return None
        at, fraction, scale = at + 3, 0.0, 1.0
        if text[at : at + 1] == "." and "0" <= text[at + 1 : at + 2] <= "9":
            at += 1
            # the same float steps as SQLite's, for equal results
            while at < len(text) and "0" <= text[at] <= "9":
                fraction, scale, at = fraction * 10.0 + (ord(text[at]) - 48), scale * 10.0, at + 1
            fraction /= scale
        seconds = whole + fraction
    zone = _zone(text, at)
    if zone is None:
        return None
    return hours * 3_600_000 + mins * 60_000 + int(seconds * 1000 + 0.5), zone


def _civil_ms(year: int, month: int, day: int) -> int | None:
    """Midnight of a (proleptic Gregorian, unnormalised) date in Julian-day milliseconds, SQLite's arithmetic."""
    if year < -4713 or year > 9999:
        return None
    if month <= 2:
        year, month = year - 1, month + 12
    a = _cdiv(year, 100)
    b = 2 - a + _cdiv(a, 4)
    x1, x2 = _cdiv(36525 * (year + 4716), 100), _cdiv(306001 * (month + 1), 10000)
    return int((x1 + x2 + day + b - 1524.5) * _DAY_MS)


def _raw_number(value: float) -> int | None:
    return int(value * 86_400_000.0 + 0.5) if 0.0 <= value < 5_373_484.5 else None


@lru_cache(maxsize=16_384)  # campaigns share timestamps (one snapshot's observed_since, one cursor)
def _parse_ms(text: str) -> int | None:
    canonical = _CANONICAL.match(text)  # the form the bot stores, read without the general walk
    if canonical is not None:
        y, mo, d, h, mi, sec = (int(g or 0) for g in canonical.groups())
        if 1 <= mo <= 12 and 1 <= d <= 31 and h <= 24 and mi <= 59 and sec <= 59:
            midnight = _civil_ms(y, mo, d)
            return None if midnight is None else midnight + h * 3_600_000 + mi * 60_000 + sec * 1000
    neg = text.startswith("-")
    body = text[1:] if neg else text
    year, month, day = _digits(body, 0, 4, 0, 9999), _digits(body, 5, 2, 1, 12), _digits(body, 8, 2, 1, 31)
    if year is not None and month is not None and day is not None and body[4:5] == "-" and body[7:8] == "-":
        at = 10
        while at < len(body) and (body[at] in _SPACE or body[at] == "T"):
            at += 1
        clock = _clock(body, at) if at < len(body) else (0, 0)
        if clock is not None:
            midnight = _civil_ms(-year if neg else year, month, day)
            return None if midnight is None else midnight + clock[0] - clock[1] * 60_000
    clock = _clock(text, 0)
    if clock is not None:
        midnight = _civil_ms(2000, 1, 1)
        return None if midnight is None else midnight + clock[0] - clock[1] * 60_000
    if text.strip(_SPACE).lower() == "now":
        return None  # julianday('now') is the clock, not a stored time: garbage here
    return _raw_number(float(text)) if _NUMBER.match(text) else None


def sqlite_julianday(value: object) -> float | None:
    """What SQLite's `julianday(value)` answers (None for NULL and unreadable text), for stored text and numbers.

    Read as SQLite does: "YYYY-MM-DD[( |T)HH:MM[:SS[.f…]]][Z|±HH:MM]", a bare "HH:MM…" (on 2000-01-01), or a Julian
    day number; days up to 31 in any month roll over; times before -4713 or after 9999 are None.
    """
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int | float):
        ms = _raw_number(float(value))
    elif isinstance(value, str):
        ms = _parse_ms(value)
    else:
        return None
    return ms / _DAY_MS if ms is not None and 0 <= ms <= _MAX_JD_MS else None


def _sqlite_text(value: object) -> str:
    """A number as SQLite renders it as text ("%!.15g": always a decimal point in a REAL)."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        text = format(value, ".15g")
        mantissa, e, exponent = text.partition("e")
        if "." not in mantissa and mantissa.lstrip("-").isdigit():
            mantissa += ".0"
        return mantissa + e + exponent
    return str(value)


def julian(value: object) -> float | None:
    """A stored timestamp as a Julian day: the whole text, else its first 19 characters read as UTC."""
    if value is None:
        return None
    jd = sqlite_julianday(value)
    return jd if jd is not None else sqlite_julianday(_sqlite_text(value)[:19])


def _first_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, item in pairs:
        out.setdefault(key, item)  # a repeated key: the first one counts
    return out


def _reject(constant: str) -> object:
    raise ValueError(constant)  # NaN / Infinity are not JSON


def covered_from(cursor: object) -> float | None:
    """The activity scan's `covered_from` in its stored cursor (JSON text) as a Julian day; None if it has none."""
    if not isinstance(cursor, str):
        return None
    try:
        state = json.loads(cursor, object_pairs_hook=_first_keys, parse_constant=_reject)
    except (ValueError, RecursionError):
        return None
    if not isinstance(state, dict):
        return None
    value = state.get("covered_from")
    if isinstance(value, dict | list):
        return None  # an object or array is no time
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        value = float(value)  # SQLite reads a JSON integer past 64 bits as a REAL
    return julian(value)


@dataclass(frozen=True)
class CampaignRow:
    """The stored columns of an active trigger campaign that its idle time depends on."""

    instance: str
    campaign_id: int
    name: str
    program_name: str | None
    url: str | None
    cleanup_stage: str | None
    cleanup_on: str | None
    at_risk_notified_at: float | None
    predates_watch: int
    last_activity_at: str | None
    observed_since: str | None
    created_at: str | None


CAMPAIGN_COLUMNS = ", ".join(CampaignRow.__dataclass_fields__)


@dataclass(frozen=True)
class Idle:
    """A campaign, since when it is idle (`jd`, Julian day), for how many whole `days`, and on what `basis`."""

    row: CampaignRow
    jd: float
    days: int
    basis: str
    due_passed: bool  # Marketo's scheduled deactivation date is behind us (a bare date counts until it ends)

    @property
    def idle_since(self) -> datetime:
        """`jd` as an aware UTC datetime."""
        return from_julian(self.jd)

    @property
    def seen_activity(self) -> bool:
        """Whether an activity of the campaign was seen (its idle time rests on it)."""
        return self.basis == "activity"


def _due(cleanup_on: str | None) -> float | None:
    """When a scheduled cleanup takes effect: a bare date at the end of that day."""
    if cleanup_on is None:
        return None
    if len(cleanup_on) <= 10:
        jd = sqlite_julianday(cleanup_on)
        return None if jd is None else jd + 1
    return julian(cleanup_on)


def classify_one(row: CampaignRow, coverage: float | None, now: float) -> Idle | None:
    """`row`'s idle time at Julian day `now` given the scan's coverage start; None if no stored time is readable."""
    la, os_, cr = julian(row.last_activity_at), julian(row.observed_since), julian(row.created_at)
    since: float | None
    if la is not None:
        basis, since = "activity", la
    elif coverage is None or row.predates_watch == 0:
        basis = "observed"
        since = None if os_ is None else max(os_, coverage if coverage is not None else os_)
    elif cr is not None and cr >= coverage:
        basis, since = "created", cr
    else:
        basis, since = "at_least", coverage
    scheduled = row.cleanup_stage == "scheduled"
    if since is not None and scheduled:
        since = min(since, now - CLEANUP_DAYS)
    if since is None:
        return None
    due = _due(row.cleanup_on) if scheduled else None
    return Idle(row, since, int(now - since), basis, due is not None and due <= now)


def classify(rows: Iterable[CampaignRow], coverage: Mapping[str, float | None], now: float) -> list[Idle]:
    """The idle times of `rows` (active campaigns), most idle first (then by name, instance, id).

    `coverage`: per instance, `covered_from(cursor)` of its activity scan; `now`: a Julian day.
    """
    out = [i for r in rows if (i := classify_one(r, coverage.get(r.instance), now)) is not None]
    out.sort(key=lambda i: (i.jd, i.row.name, i.row.instance, i.row.campaign_id))
    return out
