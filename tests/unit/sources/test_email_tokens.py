"""An XOAUTH2 token read at run time (environment or token command) is redacted from every log line after."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest

from notifbot import logs
from notifbot.config.settings import MailboxSettings
from notifbot.sources.email.reader import MailboxReader


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """notifbot's logging set up as `serve` does it, into a buffer; the previous root handlers restored after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, logs._ACTIVE[:]
    logs.setup_logging([], log_format="json")
    stream = io.StringIO()
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    yield stream
    root.handlers[:], logs._ACTIVE[:] = saved[0], saved[2]
    root.setLevel(saved[1])


def reader(**imap: object) -> MailboxReader:
    box = MailboxSettings.model_validate(
        {"name": "alerts", "imap": {"host": "127.0.0.1", "username": "u", "password": None, **imap}}
    )
    return MailboxReader(box, db=None, accept=None, getenv={"MAIL_TOKEN": "ya29.from-env"}.get)  # type: ignore[arg-type]


async def test_a_token_printed_by_the_command_never_reaches_the_logs(log_stream: io.StringIO) -> None:
    token = await reader(xoauth2_token_command=[sys.executable, "-c", "print('ya29.from-command')"])._secret()
    assert token == "ya29.from-command"
    logging.getLogger("notifbot.email").error("login refused for token %s", token)
    out = log_stream.getvalue()
    assert "login refused for token ***" in out and "ya29.from-command" not in out


async def test_a_token_from_the_environment_never_reaches_the_logs(log_stream: io.StringIO) -> None:
    token = await reader(xoauth2_token_env="MAIL_TOKEN")._secret()
    assert token == "ya29.from-env"
    logging.getLogger("notifbot.email").warning("retrying", extra={"auth": f"Bearer {token}"})
    out = log_stream.getvalue()
    assert "Bearer ***" in out and "ya29.from-env" not in out
