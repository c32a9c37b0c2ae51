"""Builds the mailbox readers from `email.mailboxes`, each a poll on the scheduler; one component stops them all."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from notifbot.config.settings import EmailSettings
from notifbot.scheduler import Pollers
from notifbot.sources.email.reader import Accept, MailboxReader
from notifbot.store.runner import Database

FIRST_POLL_SECONDS = 0.2


class EmailIntake:
    """The mailbox readers; an async context manager whose exit logs every mailbox out."""

    def __init__(self, readers: list[MailboxReader]) -> None:
        self.readers = readers

    def job_name(self, reader: MailboxReader) -> str:
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


def build_email(
    email: EmailSettings,
    db: Database,
    accept: Accept,
    pollers: Pollers,
    getenv: Callable[[str], str | None],
) -> EmailIntake | None:
    """None when no mailbox is configured; else the readers, each registered as a poll named `email-<name>`."""
    if not email.mailboxes:
        return None
    intake = EmailIntake(
        [MailboxReader(m, db, accept, getenv, email.compiled_rules()) for m in email.mailboxes]
    )
    for reader in intake.readers:
        pollers.add(intake.job_name(reader), reader.run_once, first_delay=FIRST_POLL_SECONDS)
    return intake
