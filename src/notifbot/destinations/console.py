"""The `console` destination: prints each rendered message to stdout, so `make run` shows what Slack would get."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal, TextIO

from notifbot.delivery.settings import DeliverySettings
from notifbot.destinations.spec import NO_TEXTS, DestinationModel, DestinationSpec, SenderContext, TargetTexts
from notifbot.links import DEFAULT_LINKS, LinkPolicy
from notifbot.render.console import render_console, render_console_json
from notifbot.render.slack import render_slack, render_slack_thread

if TYPE_CHECKING:
    from notifbot.groups import GroupView, ThreadItems
    from notifbot.i18n import Texts
    from notifbot.model import Notification
    from notifbot.store.outbox import OutboxRow


class ConsoleDestination(DestinationModel):
    """`type: console`: stdout, as readable text or JSON."""

    type: Literal["console"]
    format: Literal["text", "json"] = "text"


class ConsoleDelivery:
    """Writes messages as readable text (or JSON) so `make run` shows what Slack would get."""

    dest_type = "console"

    def __init__(
        self,
        formats: Mapping[str, str],
        stream: TextIO | None = None,
        *,
        links: LinkPolicy = DEFAULT_LINKS,
        texts: TargetTexts = NO_TEXTS,
    ) -> None:
        self._formats = formats
        self._stream = stream
        self._links = links
        self._texts = texts

    def texts(self, target: str) -> Texts:
        """The language and time zone of the console destinations (one target: check-config makes them agree)."""
        return self._texts(target)

    async def send(self, row: OutboxRow, n: Notification) -> str | None:
        message = render_slack(
            n, links=self._links, texts=self.texts(row.target), templates=self._texts.templates
        )
        if self._formats.get(row.destination, "text") == "json":
            text = render_console_json(message)
        else:
            text = render_console(message)
        stream = self._stream or sys.stdout
        stream.write(f"── notifbot → {row.destination} ──\n{text}\n\n")
        stream.flush()
        return None

    can_edit = True  # shows what Slack would get: the group's post, each edit and each thread reply

    def _write(self, destination: str, heading: str, message: dict[str, object]) -> None:
        fmt = self._formats.get(destination, "text")
        text = render_console_json(message) if fmt == "json" else render_console(message)
        stream = self._stream or sys.stdout
        stream.write(f"── notifbot → {destination}{heading} ──\n{text}\n\n")
        stream.flush()

    async def post_group(self, row: OutboxRow, view: GroupView) -> str | None:
        self._write(row.destination, "", self._group_message(row.target, view))
        return f"group-{row.group_id}" if row.digest_id is None else f"digest-{row.digest_id}"

    async def edit_group(self, row: OutboxRow, message_id: str, view: GroupView) -> None:
        t = self.texts(row.target)
        heading = t._(" (update: now {n})").format(n=view.count)
        self._write(row.destination, heading, self._group_message(row.target, view))

    async def reply_group(self, row: OutboxRow, message_id: str, reply: ThreadItems) -> None:
        t = self.texts(row.target)
        message = render_slack_thread(reply, texts=t)
        self._write(row.destination, t._(" (in the thread)"), message)

    def _group_message(self, target: str, view: GroupView) -> dict[str, object]:
        texts = self.texts(target)
        return render_slack(
            view.shown,
            links=self._links,
            group=view,
            acked=view.acked,
            texts=texts,
            templates=self._texts.templates,
        )

    async def close(self) -> None:
        return None


def _build(dests: Mapping[str, ConsoleDestination], ctx: SenderContext) -> ConsoleDelivery:
    # always built, configured or not: rows left for a console destination that was removed still print
    formats = {name: d.format for name, d in dests.items()}
    return ConsoleDelivery(formats, ctx.stdout, links=ctx.links, texts=ctx.target_texts(dests, _target))


def _target(dest: ConsoleDestination) -> str:
    return "stdout"


def _no_pacing(delivery: DeliverySettings) -> float:
    return 0.0


SPEC = DestinationSpec(
    type="console",
    model=ConsoleDestination,
    target=_target,
    interval=_no_pacing,
    build=_build,
    describe=lambda dest, t: t._("console, {format}").format(format=dest.format),
)
