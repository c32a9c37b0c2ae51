"""The `teams` destination: posts Adaptive Cards to channels through Microsoft Graph, at most once per outbox row.

Each row's card carries a deterministic attachment id. Before re-posting a row that failed before, the channel's
recent messages are searched for that id: a POST that Teams accepted although we saw a 503 or a timeout is
recorded instead of posted twice.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from notifbot.destinations.spec import NO_TEXTS, DestinationModel, DestinationSpec, SenderContext, TargetTexts
from notifbot.errors import DeliveryError, PermanentDeliveryError, RateLimitedError
from notifbot.links import DEFAULT_LINKS, LinkPolicy
from notifbot.render.teams import render_teams, render_teams_thread

if TYPE_CHECKING:  # msgraph loads only when Microsoft Graph is configured
    from notifbot.groups import GroupView, ThreadItems
    from notifbot.i18n import Texts
    from notifbot.model import Acked, Notification
    from notifbot.store.outbox import OutboxRow
    from notifbot.teams.graph import GraphApi

log = logging.getLogger("notifbot.delivery.teams")
UPDATE_RATE_LIMITS = 5
_NAMESPACE = uuid.UUID("5d1f6c3e-7f0b-4a55-9a53-6e6f74696662")
_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


class TeamsDestination(DestinationModel):
    """`type: teams`: a channel posted to through Microsoft Graph as the signed-in service account."""

    type: Literal["teams"]
    team_id: str
    channel_id: str


def attachment_id(outbox_id: int, key: str) -> str:
    """The stable attachment id of one outbox row's card (its idempotency marker in the channel)."""
    return uuid.uuid5(_NAMESPACE, f"{outbox_id}:{key}").hex


def split_target(target: str) -> tuple[str, str]:
    """`team_id/channel_id` → (team_id, channel_id)."""
    team, sep, channel = target.partition("/")
    if not sep or not team or not channel:
        raise PermanentDeliveryError(f"bad Teams target {target!r}: expected team_id/channel_id")
    return team, channel


class TeamsGraphDelivery:
    """Posts to Teams channels through Graph; remembers which rows failed so their retry checks before posting."""

    dest_type = "teams"

    def __init__(
        self,
        api: GraphApi,
        *,
        lookback: int = 20,
        links: LinkPolicy = DEFAULT_LINKS,
        texts: TargetTexts = NO_TEXTS,
    ) -> None:
        self.api = api
        self.lookback = lookback
        self.links = links
        self._texts = texts
        self._failed: set[int] = set()

    def texts(self, target: str) -> Texts:
        """The language and time zone of the channel `target` (team_id/channel_id)."""
        return self._texts(target)

    async def send(self, row: OutboxRow, n: Notification) -> str | None:
        team, channel = split_target(row.target)
        marker = attachment_id(row.id, n.key)
        if row.attempts > 0 or row.unsure_since is not None or row.id in self._failed:
            try:
                found = await self.api.find_by_attachment(team, channel, marker, top=self.lookback)
            except DeliveryError as exc:
                log.warning(
                    "could not check for an earlier post; posting",
                    extra={"outbox_id": row.id, "error": str(exc)},
                )
                found = None
            if found:
                log.info(
                    "found the earlier post; not posting again",
                    extra={"outbox_id": row.id, "message_id": found},
                )
                self._failed.discard(row.id)
                return found
        try:
            card = render_teams(
                n, links=self.links, texts=self.texts(row.target), templates=self._texts.templates
            )
            message_id = await self.api.post_card(team, channel, card, marker)
        except RateLimitedError:
            raise  # refused before posting: the resend needs no check
        except DeliveryError:
            self._failed.add(row.id)
            raise
        self._failed.discard(row.id)
        return message_id

    can_edit = True  # alert groups: one card, edited in place, detailed in replies in its thread

    async def post_group(self, row: OutboxRow, view: GroupView) -> str | None:
        """Posts an alert group's card, at most once per row (looked for first after a failed attempt)."""
        team, channel = split_target(row.target)
        marker = attachment_id(row.id, view.first.key)
        if row.attempts > 0 or row.unsure_since is not None or row.id in self._failed:
            try:
                found = await self.api.find_by_attachment(team, channel, marker, top=self.lookback)
            except DeliveryError:
                found = None
            if found:
                self._failed.discard(row.id)
                return found
        card = self._group_card(row.target, view)
        try:
            message_id = await self.api.post_card(team, channel, card, marker)
        except RateLimitedError:
            raise
        except DeliveryError:
            self._failed.add(row.id)
            raise
        self._failed.discard(row.id)
        return message_id

    def _group_card(self, target: str, view: GroupView) -> dict[str, Any]:
        """The group's card in its channel's language."""
        return render_teams(
            view.shown,
            links=self.links,
            group=view,
            acked=view.acked,
            texts=self.texts(target),
            templates=self._texts.templates,
        )

    async def edit_group(self, row: OutboxRow, message_id: str, view: GroupView) -> None:
        """Edits the group's card in place (its count, time span, items, state)."""
        team, channel = split_target(row.target)
        card = self._group_card(row.target, view)
        await self.api.update_card(team, channel, message_id, card, attachment_id(row.id, view.first.key))

    async def reply_group(self, row: OutboxRow, message_id: str, reply: ThreadItems) -> None:
        """Adds items (or the resolve) as a reply in the group card's thread."""
        team, channel = split_target(row.target)
        marker = uuid.uuid5(_NAMESPACE, f"{row.id}:reply:{reply.first}:{reply.resolved}").hex
        card = render_teams_thread(reply, texts=self.texts(row.target))
        await self.api.post_card(team, channel, card, marker, reply_to=message_id)

    async def update(
        self, target: str, message_id: str, outbox_id: int, n: Notification, acked: Acked | None
    ) -> None:
        """Re-renders a posted alert (e.g. acknowledged) and edits the same message in place."""
        team, channel = split_target(target)
        card = render_teams(
            n, acked=acked, links=self.links, texts=self.texts(target), templates=self._texts.templates
        )
        marker = attachment_id(outbox_id, n.key)
        for _ in range(UPDATE_RATE_LIMITS):
            try:
                await self.api.update_card(team, channel, message_id, card, marker)
                return
            except RateLimitedError as exc:  # the channel's 1 write/s is shared with new posts: wait our turn
                await asyncio.sleep(min(exc.retry_after or 1.0, 30.0))
        await self.api.update_card(team, channel, message_id, card, marker)

    async def close(self) -> None:
        await self.api.close()


def _build(dests: Mapping[str, TeamsDestination], ctx: SenderContext) -> TeamsGraphDelivery | None:
    if not dests or ctx.graph is None:
        return None
    return TeamsGraphDelivery(ctx.graph, links=ctx.links, texts=ctx.target_texts(dests, _target))


def _target(dest: TeamsDestination) -> str:
    return f"{dest.team_id}/{dest.channel_id}"


def _problems(name: str, dest: TeamsDestination) -> list[str]:
    at, problems = f"destinations.{name}", []
    if not _GUID.fullmatch(dest.team_id):
        problems.append(
            f"{at}.team_id: expected the team's group id (a GUID, from the channel link's groupId)"
        )
    if not (dest.channel_id.startswith("19:") and "@thread" in dest.channel_id):
        problems.append(
            f"{at}.channel_id: expected a channel id like 19:…@thread.tacv2 (from the channel link)"
        )
    return problems


SPEC = DestinationSpec(
    type="teams",
    model=TeamsDestination,
    target=_target,
    interval=lambda delivery: delivery.teams_interval_seconds,
    build=_build,
    describe=lambda dest, t: t._("Teams channel {channel} in team {team}").format(
        channel=dest.channel_id, team=dest.team_id
    ),
    problems=_problems,
    uses_graph=True,
)
