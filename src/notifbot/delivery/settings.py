"""The outbox worker's settings model (`delivery:` in the configuration); config imports it from here."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from notifbot.durations import duration_value


class DeliverySettings(BaseModel):
    """How the outbox worker paces and retries; the defaults follow Slack's published limits."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: Annotated[int, Field(ge=1, le=100)] = 8
    backoff_base_seconds: Annotated[float, Field(gt=0)] = 2.0
    backoff_max_seconds: Annotated[float, Field(gt=0)] = 600.0
    lease_seconds: Annotated[float, Field(gt=0)] = 30.0
    poll_seconds: Annotated[float, Field(gt=0)] = 1.0
    drain_seconds: Annotated[float, Field(ge=0)] = 10.0
    slack_interval_seconds: Annotated[float, Field(ge=0)] = 1.0
    teams_interval_seconds: Annotated[float, Field(ge=0)] = 1.0  # Graph: 1 request/s per channel
    teams_workflow_interval_seconds: Annotated[float, Field(ge=0)] = 0.25  # Workflows throttle above 4 req/s
    max_retry_after_seconds: Annotated[float, Field(gt=0)] = 300.0
    # the same problem (kind, instance, salient fields) repeating within this window edits its first message with a
    # count instead of posting again, on routes without `group`; 0 turns it off (every event its own message)
    repeat_window: Annotated[timedelta, BeforeValidator(duration_value), Field(le=timedelta(days=1))] = (
        timedelta(minutes=10)
    )
