"""The `email:` settings: mailboxes whose Marketo notification e-mails become notifications (docs/reference.md).

This model lives in the config package (`Settings.email`) rather than in `sources/email/`, because config is
layered below the sources and must not import upward (pyproject's import-linter contract); the reader in
`sources/email/` takes a `MailboxSettings` as a plain value.
"""

from __future__ import annotations

import ipaddress
import shlex
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_PROCESSED_FOLDER = "notifbot/processed"
_PORTS = {"tls": 993, "starttls": 143, "plain": 143}


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImapSettings(_Strict):
    """How to reach one IMAP mailbox, log in, and mark what was read."""

    host: Annotated[str, Field(min_length=1, max_length=253)]
    port: Annotated[int, Field(ge=1, le=65535)] | None = None  # default: 993 for tls, 143 otherwise
    security: Literal["tls", "starttls", "plain"] = "tls"
    username: Annotated[str, Field(min_length=1)]
    password: str | None = None
    # XOAUTH2 (Google Workspace, Exchange Online): an access token from this environment variable, or printed by
    # this command (an argument list, or one string split like a shell would; run at each login, never by a shell)
    xoauth2_token_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None
    xoauth2_token_command: Annotated[list[str], Field(min_length=1)] | None = None
    folder: Annotated[str, Field(min_length=1)] = "INBOX"
    # read mail is moved here (created when missing; `/` separates levels whatever the server's delimiter is)
    processed_folder: Annotated[str, Field(min_length=1)] = DEFAULT_PROCESSED_FOLDER
    # set: read mail gets this IMAP keyword and stays where it is, instead of being moved
    processed_keyword: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.$+-]{1,64}$")] | None = None
    ca_file: str | None = None  # PEM file of the CA to trust instead of the system's (a self-signed server)
    timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 30.0  # connect and each command

    @field_validator("xoauth2_token_command", mode="before")
    @classmethod
    def _split_command(cls, value: Any) -> Any:
        return shlex.split(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.security == "plain" and not _loopback(self.host):
            raise ValueError(
                f"security plain sends the password unencrypted and is allowed only to a loopback host "
                f"(127.0.0.1, ::1, localhost), not {self.host!r}: use security tls (port 993) or starttls (port 143)"
            )
        given = [
            n
            for n in ("password", "xoauth2_token_env", "xoauth2_token_command")
            if getattr(self, n) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "set exactly one of password, xoauth2_token_env (an environment variable holding an OAuth2 "
                f"access token) or xoauth2_token_command (a command printing one); got {', '.join(given) or 'none'}"
            )
        if self.processed_keyword is None and self.processed_folder.strip("/") == self.folder.strip("/"):
            raise ValueError("processed_folder must differ from folder (or set processed_keyword instead)")
        return self

    @property
    def effective_port(self) -> int:
        """The configured port, else the usual one for the security mode."""
        return self.port if self.port is not None else _PORTS[self.security]


class MailboxSettings(_Strict):
    """One mailbox subscribed to Marketo's notification e-mails."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")]
    imap: ImapSettings
    instance: Annotated[str, Field(pattern=r"^\d{3}-[A-Z]{3}-\d{3}$")] | None = None
    poll_seconds: Annotated[float, Field(ge=1, le=3600)] = 60.0
    # empty: anyone who can reach the mailbox; else addresses (alerts@marketo.com) or domains (@marketo.com)
    allowed_senders: list[Annotated[str, Field(pattern=r"^[^@\s]*@[^@\s]+$")]] = Field(default_factory=list)
    # a larger message is not downloaded: its notification carries the subject and a note (attachments never kept)
    max_message_bytes: Annotated[int, Field(ge=1024, le=200 * 1024 * 1024)] = 10 * 1024 * 1024

    @field_validator("allowed_senders")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [v.lower() for v in value]


class EmailSettings(_Strict):
    """Mailbox readers (sources/email/)."""

    mailboxes: list[MailboxSettings] = Field(default_factory=list)

    @field_validator("mailboxes")
    @classmethod
    def _unique(cls, value: list[MailboxSettings]) -> list[MailboxSettings]:
        names = [m.name for m in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"mailbox names must be unique: {', '.join(twice)} is used more than once")
        return value
