"""Reads one Microsoft 365 mailbox folder through Microsoft Graph's message delta; same notifications as over IMAP.

One poll resolves the folders once (the processed folder created when missing), then reads delta pages from the
saved link (a page's next link, or the last round's delta link) to the end of the round. For each page: every new
message's MIME (`$value`) goes through the same `message.handle` as IMAP mail → commit → move it to the processed
folder (or add the category) → save the link. A crash re-reads at most that page, which the Message-ID dedupe
absorbs. `@removed` entries (our own moves among them) are ignored, and so are messages carrying the category
already. An expired delta link restarts the folder from the start, logged; nothing is posted twice or deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from notifbot.config.settings import MailboxSettings
from notifbot.kinds.mail import EmailRule
from notifbot.model import Kind
from notifbot.sources.email.graph_mail import DeltaExpired, DeltaItem, GraphMailbox
from notifbot.sources.email.poll import Accept, Batch, PollingReader
from notifbot.store.graph_mail_cursors import forget_graph_delta_link, graph_delta_link, save_graph_delta_link
from notifbot.store.runner import Database

if TYPE_CHECKING:
    from msgraph.graph_service_client import GraphServiceClient

log = logging.getLogger("notifbot.email")
MAX_PAGES_PER_POLL = 200  # then the poll ends (its progress saved) and the next one goes on


class GraphMailboxReader(PollingReader[str]):
    """One mailbox folder read through Graph with the `teams:` sign-in; `run_once` is its scheduled poll."""

    poller = "graph"
    ref_name = "message_id"

    def __init__(
        self,
        mailbox: MailboxSettings,
        db: Database,
        accept: Accept,
        client: GraphServiceClient,
        rules: Sequence[tuple[Kind, EmailRule]] = (),
    ) -> None:
        super().__init__(mailbox, db, accept, rules)
        assert mailbox.graph is not None  # wiring builds this reader for Graph mailboxes only
        self.graph = mailbox.graph
        self.api = GraphMailbox(client, mailbox.name, mailbox.graph)
        self._folder_id: str | None = None
        self._processed_id: str | None = None

    async def _poll(self) -> float:
        """Reads the delta pages from the saved link to the end of the round, each committed, marked, then saved."""
        if self._folder_id is None:
            await self._resolve()
        assert self._folder_id is not None
        folder = self.graph.folder
        link = await self._db.call(graph_delta_link, self.name, folder)
        restarted = False
        for _ in range(MAX_PAGES_PER_POLL):
            if self._stop.is_set():
                break
            try:
                page = await self.api.delta(self._folder_id, link, folder)
            except DeltaExpired as exc:
                if restarted or link is None:
                    raise
                log.warning(
                    "%s: reading the folder again from the start; mail stored before is recognised by its "
                    "Message-ID and not posted again",
                    exc,
                    extra={"mailbox": self.name, "folder": folder},
                )
                await self._db.call(forget_graph_delta_link, self.name, folder)
                link, restarted = None, True
                continue
            fresh = [i for i in page.items if not self._done(i)]
            batch = await self._read(fresh)
            link = page.next_link or page.delta_link
            save = partial(self._save, link)
            await self._commit(batch, partial(self._mark, {i.id: i for i in fresh}), save)
            if page.next_link is None:
                break
        else:  # a long backlog: the next poll goes on right away from the saved link
            await self._succeeded()
            return 0.0
        await self._succeeded()
        return self.mailbox.poll_seconds

    def _done(self, item: DeltaItem) -> bool:
        """Left the folder (our own moves too), or carries notifbot's category already."""
        category = self.graph.processed_category
        return item.removed or (category is not None and category in item.categories)

    async def _resolve(self) -> None:
        """The folder read, and the processed folder (created when missing) unless a category marks mail."""
        folder_id = await self.api.folder_id(self.graph.folder)
        if self.graph.processed_category is None:
            self._processed_id = await self.api.folder_id(self.graph.processed_folder, create=True)
        self._folder_id = folder_id
        log.info(
            "mailbox ready",
            extra={
                "mailbox": self.name,
                "address": self.graph.mailbox,
                "folder": self.graph.folder,
                "marking": "category" if self.graph.processed_category else "move",
            },
        )

    async def _read(self, items: list[DeltaItem]) -> Batch[str]:
        """The page's new messages, whole (a page is bounded: stopping waits for it rather than skip any)."""
        batch: Batch[str] = Batch()
        for item in items:
            raw = await self.api.content(item.id)
            if raw is None:
                continue  # moved or deleted since the page was read
            self._parse(batch, item.id, raw, len(raw))
        return batch

    async def _mark(self, items: dict[str, DeltaItem], ids: list[str]) -> None:
        category = self.graph.processed_category
        for message_id in ids:
            if category is not None:
                await self.api.categorize(message_id, [*items[message_id].categories, category])
            else:
                assert self._processed_id is not None
                await self.api.move(message_id, self._processed_id)

    async def _save(self, link: str | None) -> None:
        if link:
            await self._db.call(save_graph_delta_link, self.name, self.graph.folder, link)

    async def _after_failure(self) -> None:
        self._folder_id = self._processed_id = (
            None  # looked up again: a folder may have been renamed or created
        )
