"""What one destination type declares, once: config model, target address, pacing, sender factory, checks, words."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TextIO, TypeVar

from pydantic import BaseModel, ConfigDict

from notifbot.delivery.settings import DeliverySettings
from notifbot.i18n import EN, LocaleName, Texts, ZoneName, texts_for
from notifbot.links import DEFAULT_LINKS, LinkPolicy

if TYPE_CHECKING:
    from notifbot.delivery.worker import Sender
    from notifbot.render.templates import Templates
    from notifbot.teams.graph import GraphApi


class DestinationModel(BaseModel):
    """Base of every destination's config model (`destinations.NAME` in the configuration); unknown keys refused."""

    model_config = ConfigDict(extra="forbid")

    type: str
    locale: LocaleName | None = None  # this destination's language (None: the global `locale`)
    timezone: ZoneName | None = None  # how its times are shown (None: the global `timezone`)


C = TypeVar("C", bound=DestinationModel)


@dataclass(frozen=True)
class TargetTexts:
    """The language and time zone of each outbox target (its destination's); `default` for any other target.

    `templates` are the admin's title, summary and advice per kind and locale (`templates:`), for every target.
    """

    by_target: Mapping[str, Texts]
    default: Texts = EN
    templates: Templates | None = None

    def __call__(self, target: str) -> Texts:
        return self.by_target.get(target, self.default)


NO_TEXTS = TargetTexts({})  # every target in English, times in UTC with CT beside (today's messages)


@dataclass(frozen=True)
class SenderContext:
    """Plain values the sender factories take (never Settings or Env: destinations sit below config)."""

    links: LinkPolicy = DEFAULT_LINKS  # which hosts every renderer may label as Marketo's
    stdout: TextIO | None = None  # the console's stream (None: sys.stdout at write time)
    slack_token: str = ""
    slack_api_url: str = "https://slack.com/api/"
    slack_timeout: float = 10.0
    slack_interactive: bool = False  # alerts carry Acknowledge/Mute buttons
    graph: GraphApi | None = None  # the Microsoft Graph client, when one is configured
    workflow_timeout: float = 10.0
    locale: str = "en"  # the global `locale`, for destinations that set none
    timezone: str | None = None  # the global `timezone`, likewise
    # the admin's title, summary and advice per kind and locale (`templates:`), compiled; None: the catalog's words
    templates: Templates | None = None

    def texts(self, dest: DestinationModel) -> Texts:
        """The language and time zone messages to `dest` are written in (its own, else the global ones)."""
        return texts_for(dest.locale or self.locale, dest.timezone or self.timezone)

    def target_texts(self, dests: Mapping[str, C], target: Callable[[C], str]) -> TargetTexts:
        """Each destination's target → its `Texts` (check-config makes destinations sharing a target agree)."""
        by_target = {target(dest): self.texts(dest) for dest in dests.values()}
        return TargetTexts(by_target, texts_for(self.locale, self.timezone), self.templates)


def _no_problems(name: str, dest: Any) -> list[str]:
    return []


def _no_secrets(dest: Any) -> list[str]:
    return []


@dataclass(frozen=True)
class DestinationSpec(Generic[C]):
    """Everything notifbot knows about one destination type; `destinations/__init__` registers one per type."""

    type: str
    model: builtins.type[C]
    # the outbox target of one configured destination: its channel, or a stable stand-in without secrets
    target: Callable[[C], str]
    # seconds the worker leaves between two sends to one target (from the delivery settings)
    interval: Callable[[DeliverySettings], float]
    # the Sender for every configured destination of this type (name → config), or None when none is needed
    build: Callable[[Mapping[str, C], SenderContext], Sender | None]
    # what `/marketo routes` says after the destination's name, e.g. "Slack channel C0123ABCD"
    describe: Callable[[C, Texts], str]
    # problems of one destination (check-config and start-up), each "destinations.NAME.key: what to do"
    problems: Callable[[str, C], list[str]] = _no_problems
    # secret values written in the destination's config, redacted from logs
    secrets: Callable[[C], list[str]] = _no_secrets
    # environment variables a destination of this type needs, with the hint shown when one is unset
    required_env: tuple[tuple[str, str], ...] = ()
    uses_graph: bool = False  # needs Microsoft Graph (its URL, sign-in and the Teams extra)
    # edits a posted message in place and replies in its thread (alert groups); else one summary post per interval
    edits: bool = True
