"""The `slack` destination: renders Block Kit and posts it through SlackSender, at most once per outbox row.

Every post carries message metadata `notifbot_alert` with the row's id and the event key. Slack has no idempotency
key, so before re-posting a row whose earlier attempt may have reached Slack (a timeout, a lost answer, a 5xx, a
claim abandoned mid-send) the channel's history since that attempt is read (conversations.history with
include_all_metadata): a post found there is recorded as the delivery instead of posting twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from notifbot.destinations.spec import NO_TEXTS, DestinationModel, DestinationSpec, SenderContext, TargetTexts
from notifbot.errors import DeliveryError, PermanentDeliveryError, RateLimitedError, TransientDeliveryError
from notifbot.links import DEFAULT_LINKS, LinkPolicy
from notifbot.render.slack import render_slack, render_slack_thread

if TYPE_CHECKING:  # slack_sdk loads only when a Slack destination is configured
    from notifbot.groups import GroupView, ThreadItems
    from notifbot.i18n import Texts
    from notifbot.model import Notification
    from notifbot.slack.sender import HistoryUnreadable, SlackSender
    from notifbot.store.outbox import OutboxRow

log = logging.getLogger("notifbot.delivery.slack")

EVENT_TYPE = "notifbot_alert"
MARGIN_SECONDS = 60.0  # look this far before the first unsure attempt: our clock and Slack's may disagree
PAGE_SIZE = 15  # the most a page may hold for apps under Slack's 2025 history limits; fine for all others
MAX_PAGES = 20  # 300 messages since the first unsure attempt; past that, post again and say so
_MAX_SCANS = 1000


class SlackDestination(DestinationModel):
    """`type: slack`: a channel id (C…/G…) the bot posts in."""

    type: Literal["slack"]
    channel: Annotated[str, Field(min_length=1)]


def alert_metadata(outbox_id: int, key: str) -> dict[str, Any]:
    """The message metadata that identifies one outbox row's post in the channel."""
    return {"event_type": EVENT_TYPE, "event_payload": {"outbox_id": outbox_id, "key": key}}


def is_post_of(message: dict[str, Any], outbox_id: int, key: str) -> bool:
    """True when a history message is this row's post (same event key, and same row where one is recorded)."""
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != EVENT_TYPE:
        return False
    payload = metadata.get("event_payload")
    if not isinstance(payload, dict) or payload.get("key") != key:
        return False
    return bool(payload.get("outbox_id", outbox_id) == outbox_id)


@dataclass
class _Scan:
    """How far the search for one row's post got; a 429 or a failure between pages resumes it, not starts over."""

    unsure_since: float
    oldest: str
    cursor: str | None = None
    pages: int = 0


class SlackDelivery:
    """Posts a notification to its Slack channel; a row that may already be there is looked for first."""

    dest_type = "slack"

    def __init__(
        self,
        sender: SlackSender,
        *,
        interactive: bool = False,
        links: LinkPolicy = DEFAULT_LINKS,
        texts: TargetTexts = NO_TEXTS,
    ) -> None:
        self.sender = sender
        self.interactive = interactive
        self.links = links
        self._texts = texts
        self._scans: dict[int, _Scan] = {}
        self._warned: set[tuple[str, str]] = set()

    async def send(self, row: OutboxRow, n: Notification) -> str | None:
        if row.unsure_since is not None:
            found = await self.find(row, n.key)
            if found is not None:
                return found
        message = render_slack(
            n,
            interactive=self.interactive,
            links=self.links,
            texts=self.texts(row.target),
            templates=self._texts.templates,
        )
        return await self.sender.post(row.target, message, metadata=alert_metadata(row.id, n.key))

    def texts(self, target: str) -> Texts:
        """The language and time zone of the channel `target`."""
        return self._texts(target)

    can_edit = True  # alert groups: one message, edited in place, detailed in its thread

    async def post_group(self, row: OutboxRow, view: GroupView) -> str | None:
        """Posts an alert group's message (looked for first when an earlier attempt may have landed)."""
        if row.unsure_since is not None:
            found = await self.find(row, view.first.key)
            if found is not None:
                return found
        message = self._group_message(row.target, view)
        return await self.sender.post(row.target, message, metadata=alert_metadata(row.id, view.first.key))

    async def edit_group(self, row: OutboxRow, message_id: str, view: GroupView) -> None:
        """Edits the group's message in place: count, time span, items, state."""
        message = self._group_message(row.target, view)
        await self.sender.update(row.target, message_id, message)

    async def reply_group(self, row: OutboxRow, message_id: str, reply: ThreadItems) -> None:
        """Adds items (or the resolve) to the group message's thread."""
        message = render_slack_thread(reply, texts=self.texts(row.target))
        await self.sender.post(row.target, message, thread_ts=message_id)

    def _group_message(self, target: str, view: GroupView) -> dict[str, Any]:
        return render_slack(
            view.shown,
            interactive=self.interactive,
            links=self.links,
            group=view,
            acked=view.acked,
            texts=self.texts(target),
            templates=self._texts.templates,
        )

    async def find(self, row: OutboxRow, key: str) -> str | None:
        """The ts of this row's earlier post in its channel, or None when it is not there (or cannot be read).

        Raises RateLimitedError (the worker waits Retry-After and calls again) and TransientDeliveryError when
        the history cannot be read now (the row is tried again later, unposted); either way the search resumes at
        the page it stopped on. Messages newer than the search's first page cannot be this row's earlier post.
        """
        from notifbot.slack.sender import HistoryUnreadable  # loaded already, with the sender

        since = row.unsure_since or 0.0
        scan = self._scans.get(row.id)
        if scan is None or scan.unsure_since != since:
            if len(self._scans) >= _MAX_SCANS:
                self._scans.clear()
            scan = self._scans[row.id] = _Scan(since, f"{max(0.0, since - MARGIN_SECONDS):.6f}")
        try:
            found = await self._search(row, key, scan)
        except RateLimitedError:
            raise
        except HistoryUnreadable as exc:
            self._warn_once(row.target, exc)
            found = None
        except PermanentDeliveryError as exc:
            self._warn_once(row.target, HistoryUnreadable(str(exc), "error"))
            found = None
        except DeliveryError as exc:
            raise TransientDeliveryError(
                f"could not look in Slack channel {row.target} for an earlier post of this alert ({exc}); "
                "will look again before posting"
            ) from exc
        self._scans.pop(row.id, None)
        return found

    async def _search(self, row: OutboxRow, key: str, scan: _Scan) -> str | None:
        while scan.pages < MAX_PAGES:
            page = await self.sender.history(
                row.target, oldest=scan.oldest, limit=PAGE_SIZE, cursor=scan.cursor
            )
            scan.pages += 1
            for message in page.messages:
                if is_post_of(message, row.id, key) and message.get("ts"):
                    log.info(
                        "found the earlier post in Slack; not posting again",
                        extra={
                            "outbox_id": row.id,
                            "destination": row.destination,
                            "message_id": message["ts"],
                        },
                    )
                    return str(message["ts"])
            if page.next_cursor is None:
                return None
            scan.cursor = page.next_cursor
        log.warning(
            "more messages in the Slack channel since the unsure attempt than notifbot reads; posting again, "
            "the alert may appear twice",
            extra={"outbox_id": row.id, "destination": row.destination, "pages": scan.pages},
        )
        return None

    def _warn_once(self, channel: str, exc: HistoryUnreadable) -> None:
        if (channel, exc.code) in self._warned:
            return
        self._warned.add((channel, exc.code))
        log.warning(
            "%s; until then an alert whose answer from Slack was lost is posted again and may appear twice",
            exc,
        )

    async def close(self) -> None:
        await self.sender.close()


def _build(dests: Mapping[str, SlackDestination], ctx: SenderContext) -> SlackDelivery | None:
    if not dests:
        return None
    from notifbot.slack.sender import SlackSender

    sender = SlackSender(ctx.slack_token, ctx.slack_api_url, timeout=ctx.slack_timeout)
    texts = ctx.target_texts(dests, _target)
    return SlackDelivery(sender, interactive=ctx.slack_interactive, links=ctx.links, texts=texts)


def _target(dest: SlackDestination) -> str:
    return dest.channel


SPEC = DestinationSpec(
    type="slack",
    model=SlackDestination,
    target=_target,
    interval=lambda delivery: delivery.slack_interval_seconds,
    build=_build,
    describe=lambda dest, t: t._("Slack channel {channel}").format(channel=dest.channel),
    required_env=(("SLACK_BOT_TOKEN", "a slack destination is configured; set the bot token (xoxb-…)"),),
)
