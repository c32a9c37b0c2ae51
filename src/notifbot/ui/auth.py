"""Console sign-in: tokens compared in constant time, a stateless signed session cookie, CSRF tokens, a login limit.

The cookie is `base64url(role|subject|expires|nonce).base64url(HMAC-SHA256)`, keyed by HMAC(token, context) with
the token of the session's role: stateless (any replica checks it), rotating a token signs its holders out, and a
viewer's token cannot sign an admin session. Nothing here logs, and no value derived from a token leaves this
module except a cookie or a CSRF token (both MACs).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from starlette.responses import Response

from notifbot.errors import ConfigError

Role = Literal["admin", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "viewer")
COOKIE = "notifbot_console"
LIFETIME_SECONDS = 12 * 3600
_CONTEXT = b"notifbot console session v1"
_SUBJECT = re.compile(r"[^|\x00-\x1f]{1,200}")


@dataclass(frozen=True)
class Session:
    """A signed-in console user: what they may do, who they are, until when; the nonce binds the CSRF token."""

    role: Role
    subject: str
    expires: int
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


def _sign(key: bytes, role: Role, subject: str, expires: int, nonce: str) -> str:
    if not _SUBJECT.fullmatch(subject):
        raise ValueError("a session subject is 1 to 200 printable characters without '|'")
    body = _b64("|".join((role, subject, str(expires), nonce)).encode())
    return f"{body}.{_mac(key, body)}"


def session_key(token: str) -> bytes:
    """The key sessions of `token`'s role are signed with: never the token itself."""
    return hmac.new(token.encode(), _CONTEXT, hashlib.sha256).digest()


class Keys:
    """The console's tokens by role, and the session keys derived from them."""

    def __init__(self, admin: str, viewer: str | None = None) -> None:
        if not admin:
            raise ConfigError(["server.console: NOTIFBOT_CONSOLE_TOKEN is not set"])
        self._tokens: dict[Role, bytes] = {"admin": admin.encode()}
        if viewer:
            self._tokens["viewer"] = viewer.encode()
        self._keys = {role: session_key(token.decode()) for role, token in self._tokens.items()}

    def role_of(self, given: str) -> Role | None:
        """The role `given` signs in as, or None; every token is compared, each in constant time."""
        presented = given.encode()
        matches = [role for role, token in self._tokens.items() if hmac.compare_digest(presented, token)]
        return matches[0] if matches else None

    def mint(
        self,
        role: Role,
        subject: str,
        now: float,
        *,
        lifetime: float = LIFETIME_SECONDS,
        nonce: str | None = None,
    ) -> str:
        """A cookie value for a new session of `role` (whose token must be set) that ends `lifetime` from `now`."""
        return _sign(self._keys[role], role, subject, int(now + lifetime), nonce or secrets.token_urlsafe(16))

    def verify(self, value: str | None, now: float) -> Session | None:
        """The session a cookie value carries when its MAC holds for its role's key and it has not expired."""
        if not value or len(value) > 1024:
            return None
        body, _, mac = value.partition(".")
        # the MAC (as text: one spelling only) is checked with each role's key before anything of the body is read
        signers = [
            r for r, key in self._keys.items() if hmac.compare_digest(mac.encode(), _mac(key, body).encode())
        ]
        if not signers:
            return None
        try:
            role, subject, expires, nonce = _unb64(body).decode().split("|")
        except (binascii.Error, ValueError):
            return None
        if role != signers[0] or not expires.isdigit() or int(expires) <= now:
            return None
        return Session(signers[0], subject, int(expires), nonce)

    def csrf(self, session: Session) -> str:
        """The synchronizer token of a session's forms: HMAC(session key, "csrf" | nonce)."""
        message = b"csrf|" + session.nonce.encode()
        return _b64(hmac.new(self._keys[session.role], message, hashlib.sha256).digest())

    def csrf_ok(self, session: Session, given: str | None) -> bool:
        """True when a form's CSRF field is its session's token (constant time)."""
        return given is not None and hmac.compare_digest(given.encode(), self.csrf(session).encode())


def mint(token: str, role: Role, subject: str, now: float | None = None) -> str:
    """A session cookie value signed with `token`, `role`'s (the sandbox signs its user in with the token it made)."""
    expires = int((time.time() if now is None else now) + LIFETIME_SECONDS)
    return _sign(session_key(token), role, subject, expires, secrets.token_urlsafe(16))


def set_session(response: Response, value: str, path: str, secure: bool) -> None:
    """Sets the session cookie with its one set of attributes (sign-in here, and the sandbox's Open console)."""
    response.set_cookie(
        COOKIE, value, max_age=LIFETIME_SECONDS, path=path, secure=secure, httponly=True, samesite="strict"
    )


def clear_session(response: Response, path: str, secure: bool) -> None:
    """Clears the session cookie (the same attributes as `set_session`, so the browser drops that cookie)."""
    response.delete_cookie(COOKIE, path=path, secure=secure, httponly=True, samesite="strict")


class LoginLimiter:
    """At most `attempts` failed sign-ins per client address per `window` seconds; memory bounded by clients."""

    def __init__(
        self,
        attempts: int = 5,
        window: float = 60.0,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.attempts, self.window, self.max_clients = attempts, window, max_clients
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, client: str) -> deque[float] | None:
        failures = self._failures.get(client)
        if failures is None:
            return None
        horizon = self._clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[client]
            return None
        return failures

    def retry_after(self, client: str) -> int:
        """Seconds until `client` may try again; 0 when it may now."""
        failures = self._recent(client)
        if failures is None or len(failures) < self.attempts:
            return 0
        return max(1, int(failures[0] + self.window - self._clock() + 0.999))

    def failed(self, client: str) -> None:
        """Counts one failed sign-in of `client`; the client seen longest ago goes when too many are tracked."""
        failures = self._recent(client)
        if failures is None:
            if len(self._failures) >= self.max_clients:
                del self._failures[next(iter(self._failures))]
            failures = self._failures[client] = deque(maxlen=self.attempts)
        failures.append(self._clock())
