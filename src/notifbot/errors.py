"""The one exception tree of notifbot; every message says what to do next.

NotifbotError
├── ConfigError                 bad configuration or environment (check-config lists them all)
├── InputError                  a request we reject: HTTP 400, carries `details` [{loc, msg}]
├── AuthError                   missing or wrong credentials on an incoming request: HTTP 401
│   └── SignatureError          an Adobe I/O delivery whose signatures do not verify (or are missing): HTTP 401
├── UpstreamError               a service notifbot calls (Adobe keys, IMS, journal) failed; `transient` says if
│                               a retry may help (a transient key-fetch failure answers Adobe 503)
├── DeliveryError
│   ├── TransientDeliveryError  may succeed later (5xx, timeouts, 429 with `retry_after`)
│   │   ├── RateLimitedError    429: refused before anything happened, so a resend cannot duplicate
│   │   └── MaybeSentError      the request may have reached the destination (timeout, lost answer, 5xx):
│   │                           the retry looks for the message before sending it again
│   └── PermanentDeliveryError  will not succeed until a human acts (bad channel, revoked token)
└── MarketoError                a Marketo REST error envelope, with its `code`
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class NotifbotError(Exception):
    """Root of every error notifbot raises on purpose."""


class ConfigError(NotifbotError):
    """Configuration or environment is invalid; `problems` holds `path: message` lines."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def loc_path(parts: Sequence[int | str], prefix: str = "") -> str:
    """A location as users write it: `fields.failed_leads`, `[2].kind`, `routes[0].to[1]`."""
    path = prefix
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


@dataclass(frozen=True)
class Detail:
    """One problem with an input, located by a dotted path (`fields.failed_leads`, `[2].kind`)."""

    loc: str
    msg: str

    def as_dict(self) -> dict[str, str]:
        return {"loc": self.loc, "msg": self.msg}


class BackupError(NotifbotError):
    """A database backup could not be written where asked (the message says what to change)."""


class InputError(NotifbotError):
    """The request body is not an acceptable event; nothing of it is stored."""

    def __init__(self, message: str, details: list[Detail] | None = None) -> None:
        self.details = details or []
        super().__init__(message)


class AuthError(NotifbotError):
    """An incoming request lacks valid credentials."""


class SignatureError(AuthError):
    """An Adobe I/O Events delivery is unsigned, or neither of its signatures verifies."""


class UpstreamError(NotifbotError):
    """A service notifbot calls failed; `transient` is True when a later retry may succeed."""

    def __init__(self, message: str, *, transient: bool = True, retry_after: float | None = None) -> None:
        self.transient = transient
        self.retry_after = retry_after
        super().__init__(message)


class DeliveryError(NotifbotError):
    """Sending a message to a destination failed."""


class TransientDeliveryError(DeliveryError):
    """A delivery failure worth retrying; `retry_after` is the server's requested wait, if it gave one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class RateLimitedError(TransientDeliveryError):
    """The server refused the request because of throttling; nothing was done, so resending is safe."""


class MaybeSentError(TransientDeliveryError):
    """The request may have been carried out although no good answer came back; `recheck_after` is how long to
    wait before looking for its result, so that a slow server has finished."""

    def __init__(self, message: str, *, recheck_after: float = 0.0) -> None:
        self.recheck_after = recheck_after
        super().__init__(message)


class PermanentDeliveryError(DeliveryError):
    """A delivery failure that retrying cannot fix; the message tells the operator what to change."""


class MarketoError(NotifbotError):
    """Marketo answered with an error code (`success: false`, or an HTTP failure mapped to a code)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(f"Marketo error {code}: {message}")
