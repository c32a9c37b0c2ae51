"""Builds the mailbox readers from `email.mailboxes` (IMAP or Microsoft Graph), each a poll on the scheduler; one
component stops them all."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from notifbot.config.settings import EmailSettings, MailboxSettings
from notifbot.errors import ConfigError
from notifbot.kinds.mail import EmailRule
from notifbot.model import Kind
from notifbot.scheduler import Pollers
from notifbot.sources.email.poll import Accept, PollingReader
from notifbot.sources.email.reader import MailboxReader
from notifbot.store.runner import Database

if TYPE_CHECKING:
    from msgraph.graph_service_client import GraphServiceClient

FIRST_POLL_SECONDS = 0.2


class EmailIntake:
    """The mailbox readers; an async context manager whose exit stops every mailbox."""

    def __init__(self, readers: list[PollingReader[Any]]) -> None:
        self.readers = readers

    def job_name(self, reader: PollingReader[Any]) -> str:
        """The scheduler's name for a reader's poll."""
        return f"email-{reader.name}"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stops every reader (again is a no-op)."""
        for reader in self.readers:
            await reader.aclose()


def _reader(
    box: MailboxSettings,
    db: Database,
    accept: Accept,
    getenv: Callable[[str], str | None],
    rules: tuple[tuple[Kind, EmailRule], ...],
    graph: GraphServiceClient | None,
) -> PollingReader[Any]:
    if box.imap is not None:
        return MailboxReader(box, db, accept, getenv, rules)
    if graph is None:  # the app builds the Graph client whenever a mailbox needs it
        raise ConfigError(
            [f"email.mailboxes: mailbox {box.name} reads through Microsoft Graph: no Graph client"]
        )
    from notifbot.sources.email.graph_reader import GraphMailboxReader  # msgraph loads only when used

    return GraphMailboxReader(box, db, accept, graph, rules)


def build_email(
    email: EmailSettings,
    db: Database,
    accept: Accept,
    pollers: Pollers,
    getenv: Callable[[str], str | None],
    graph: GraphServiceClient | None = None,
) -> EmailIntake | None:
    """None when no mailbox is configured; else the readers, each registered as a poll named `email-<name>`.

    `graph`: the Graph client (the `teams:` sign-in), needed by mailboxes with `graph:` settings."""
    if not email.mailboxes:
        return None
    rules = email.compiled_rules()
    intake = EmailIntake([_reader(m, db, accept, getenv, rules, graph) for m in email.mailboxes])
    for reader in intake.readers:
        pollers.add(intake.job_name(reader), reader.run_once, first_delay=FIRST_POLL_SECONDS)
    return intake
