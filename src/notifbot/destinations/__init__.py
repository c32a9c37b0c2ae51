"""The destination types, one module each, and their registry: type name → spec, and the config union.

Adding a type: write its module (config model, spec, Sender), then add it to `Destination` and `SPECS` here;
tests/unit/test_destinations.py checks the two agree, and the contract test runs against its fake.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from notifbot.delivery.settings import DeliverySettings
from notifbot.destinations import console, slack, teams, teams_workflow
from notifbot.destinations.console import ConsoleDestination
from notifbot.destinations.slack import SlackDestination
from notifbot.destinations.spec import DestinationSpec, SenderContext
from notifbot.destinations.teams import TeamsDestination
from notifbot.destinations.teams_workflow import TeamsWorkflowDestination
from notifbot.i18n import EN, Texts

if TYPE_CHECKING:
    from notifbot.delivery.worker import Sender

Destination = Annotated[
    SlackDestination | TeamsDestination | TeamsWorkflowDestination | ConsoleDestination,
    Field(discriminator="type"),
]

SPECS: Mapping[str, DestinationSpec[Any]] = {
    m.SPEC.type: m.SPEC for m in (slack, teams, teams_workflow, console)
}
DESTINATION_TYPES = tuple(SPECS)

__all__ = [
    "DESTINATION_TYPES",
    "SPECS",
    "ConsoleDestination",
    "Destination",
    "DestinationSpec",
    "SenderContext",
    "SlackDestination",
    "TeamsDestination",
    "TeamsWorkflowDestination",
    "build_senders",
    "describe",
    "intervals",
    "spec_for",
    "target_of",
]


def spec_for(dest: Any) -> DestinationSpec[Any]:
    """The spec of a configured destination (any member of `Destination`)."""
    return SPECS[dest.type]


def target_of(dest: Any) -> str:
    """The outbox target of a configured destination: its channel, or a stable stand-in without secrets."""
    return spec_for(dest).target(dest)


def describe(dest: Any, t: Texts = EN) -> str:
    """What `/marketo routes` says about a configured destination in `t`'s language, e.g. "Slack channel C0123ABCD"."""
    return spec_for(dest).describe(dest, t)


def intervals(delivery: DeliverySettings) -> dict[str, float]:
    """The worker's pacing table: seconds between two sends to one target, per destination type."""
    return {name: spec.interval(delivery) for name, spec in SPECS.items()}


def build_senders(destinations: Mapping[str, Any], ctx: SenderContext) -> dict[str, Sender]:
    """One Sender per destination type in use (the console's always), built from plain values."""
    senders: dict[str, Sender] = {}
    for name, spec in SPECS.items():
        mine = {n: d for n, d in destinations.items() if d.type == name}
        sender = spec.build(mine, ctx)
        if sender is not None:
            senders[name] = sender
    return senders
