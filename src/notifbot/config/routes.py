"""The route models: which destinations a notification reaches, and how its messages are grouped, digested, reminded."""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from notifbot.durations import duration_value, format_duration
from notifbot.model import Severity

MatchValue = str | int | float | bool | list[str | int | float | bool]
Duration = Annotated[timedelta, BeforeValidator(duration_value)]
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
# Slack's mention forms an admin may write in config (never taken from event text)
_MENTION = re.compile(r"^(<!here>|<!channel>|<!subteam\^[A-Z0-9]{2,20}>|<@[UW][A-Z0-9]{2,20}>)( \S.*)?$")
DAY = timedelta(days=1)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _between(value: timedelta, low: timedelta, high: timedelta, what: str) -> timedelta:
    if not low <= value <= high:
        raise ValueError(f"{what} must be between {format_duration(low)} and {format_duration(high)}")
    return value


class GroupSettings(_Strict):
    """One message per group: a burst waits `wait`, later events edit it at most every `interval`, `repeat` re-posts."""

    # match keys whose values make a group: kind, severity, instance, or any field or label name
    by: Annotated[list[str], Field(min_length=1, max_length=10)] = Field(
        default_factory=lambda: ["kind", "instance"]
    )
    wait: Duration = timedelta(seconds=30)
    interval: Duration = timedelta(minutes=5)
    repeat: Duration = timedelta(hours=4)

    @property
    def by_tuple(self) -> tuple[str, ...]:
        """`by` as a tuple (hashable: the routing caches a policy per route)."""
        return tuple(self.by)

    @field_validator("by")
    @classmethod
    def _keys(cls, value: list[str]) -> list[str]:
        for key in value:
            if not _KEY.match(key):
                raise ValueError(f"{key!r} is not a match key (kind, severity, instance, a field or a label)")
        if len(set(value)) != len(value):
            raise ValueError("a key is listed twice")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        _between(self.wait, timedelta(0), timedelta(hours=1), "wait")
        _between(self.interval, timedelta(seconds=1), DAY, "interval")
        _between(self.repeat, self.interval, timedelta(days=28), "repeat (at least the interval)")
        return self


class DigestSettings(_Strict):
    """One summary message per period, posted at a local time; empty periods post nothing."""

    every: Duration = DAY
    at: time = time(8, 0)  # local time a period ends and its digest is posted ("08:00")
    timezone: str = "UTC"  # an IANA time zone, e.g. Europe/Stockholm

    @field_validator("at", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted 8:00 as 480 (sexagesimal minutes)
        if isinstance(value, int) and not isinstance(value, bool):
            return time(value // 60, value % 60) if 0 <= value < 24 * 60 else value
        if isinstance(value, str) and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value.strip()):
            raise ValueError(f'{value!r} is not a time of day: use HH:MM, e.g. "08:00"')
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone, e.g. Europe/Stockholm or UTC") from None
        return value

    @model_validator(mode="after")
    def _period(self) -> Self:
        every = _between(self.every, timedelta(hours=1), timedelta(days=7), "every")
        if every.total_seconds() % 3600 or (every < DAY and DAY % every) or (every > DAY and every % DAY):
            raise ValueError(
                "every must be whole hours dividing a day (1h, 2h, 3h, 4h, 6h, 8h, 12h) or whole days"
            )
        return self


class RemindSettings(_Strict):
    """Re-notify a group's thread while it is unacknowledged, every `after`, at most `max` times."""

    after: Duration
    max: Annotated[int, Field(ge=1, le=20)] = 3
    severity: Severity = Severity.CRITICAL  # the least severe group reminded
    mention: str | None = None  # e.g. "<!here>" or "<!subteam^S0123ABC>", put before the reminder

    @field_validator("after")
    @classmethod
    def _after(cls, value: timedelta) -> timedelta:
        return _between(value, timedelta(minutes=1), timedelta(days=7), "after")

    @field_validator("mention")
    @classmethod
    def _mention(cls, value: str | None) -> str | None:
        if value is not None and not _MENTION.match(value):
            raise ValueError(
                f"{value[:40]!r}: use a Slack mention: <!here>, <!channel>, <!subteam^ID> or <@U…>, optionally "
                "followed by text"
            )
        return value


class Route(_Strict):
    """Notifications matching `match` go to `to`: grouped (`group`), digested (`digest`) or one message each."""

    match: dict[str, MatchValue] = Field(default_factory=dict)
    to: Annotated[list[str], Field(min_length=1)]
    continue_: bool = Field(default=False, alias="continue")
    # a GroupSettings, false for one message per event, or unset for the default repeat grouping
    group: GroupSettings | Literal[False] | None = None
    digest: DigestSettings | None = None
    remind: RemindSettings | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("group", mode="plain")
    @classmethod
    def _group(cls, value: Any) -> GroupSettings | Literal[False] | None:
        """False or None as given, else the group settings (`true` meaning the defaults), validated as one model."""
        if value is None or value is False:
            return value
        return GroupSettings.model_validate({} if value is True else value)

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if self.digest is not None and self.group:
            raise ValueError("a route either groups (group) or digests (digest), not both")
        if self.digest is not None and self.remind is not None:
            raise ValueError("a digest is a summary, not an alert: remind needs group, not digest")
        return self
