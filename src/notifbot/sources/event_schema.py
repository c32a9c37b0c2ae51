"""Pydantic schema of the generic event JSON envelope (docs/reference.md §Event JSON); each kind's fields: `notifbot.kinds`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, NotRequired, Required

from pydantic import ConfigDict, StringConstraints, TypeAdapter, with_config
from typing_extensions import TypedDict


@with_config(ConfigDict(extra="forbid"))
class EventIn(TypedDict):
    """The envelope of one generic event."""

    kind: Required[Annotated[str, StringConstraints(min_length=1, max_length=100)]]
    id: NotRequired[Annotated[str, StringConstraints(min_length=1, max_length=200)] | None]
    instance: NotRequired[Annotated[str, StringConstraints(max_length=100)] | None]
    occurred_at: NotRequired[datetime | None]
    severity: NotRequired[Literal["critical", "warning", "info"] | None]
    summary: NotRequired[Annotated[str, StringConstraints(max_length=3_000)] | None]
    fields: NotRequired[dict[str, Any]]
    labels: NotRequired[dict[str, Annotated[str, StringConstraints(max_length=200)]]]
    # "resolved": the problem is over; its alert group's message is marked resolved (docs/reference.md)
    status: NotRequired[Literal["firing", "resolved"] | None]


EVENT = TypeAdapter(EventIn)
