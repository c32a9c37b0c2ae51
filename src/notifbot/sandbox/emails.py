"""E-mails in the sandbox: Marketo's notification e-mails bundled for the menu, a `.eml` read from an upload form, and
either turned into the event the page posts to the bot's /hooks/events.

The sandbox has no mailbox: it classifies the e-mail with the bot's own intake (`sources.email.message.handle`, with
the configuration's e-mail rules) and posts the notification that comes out, so it goes through the bot's real
ingest, routing, rendering and delivery. The upload is `multipart/form-data`, parsed with the stdlib's e-mail parser
(Starlette's form parser needs python-multipart, which notifbot does not depend on).
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from starlette.requests import Request

from notifbot.errors import NotifbotError
from notifbot.kinds.mail import EmailRule
from notifbot.model import Kind
from notifbot.sources.email.message import MailMeta, handle

MAIL_DIR = Path(__file__).resolve().parent / "mail"
PREFIX = "email:"  # a menu value naming a bundled e-mail rather than a sample event
MAILBOX = "sandbox"  # the mailbox an e-mail sent from the page is said to come from
MAX_EMAIL_BYTES = 1024 * 1024
MAX_UPLOAD_BYTES = MAX_EMAIL_BYTES + 16 * 1024  # the e-mail and the form's framing around it
DRAIN_BYTES = 16 * 1024 * 1024  # read (and dropped) of a too large upload, so its sender sees the answer
FIELD = "eml"  # the upload form's file input


class UploadError(NotifbotError):
    """An upload form's body is not the form the page sends (its words are shown to the reader)."""


@dataclass(frozen=True)
class Upload:
    """The file a form carried: its name as the browser gave it, and its bytes."""

    filename: str
    content: bytes


def bundled_emails() -> dict[str, str]:
    """Each bundled e-mail's name → its subject: the "E-mails" group of "Send a sample event"."""
    return {
        p.stem: handle(p.read_bytes(), MailMeta(mailbox=MAILBOX)).summary or p.stem
        for p in sorted(MAIL_DIR.glob("*.eml"))
    }


def bundled_email(name: str) -> bytes | None:
    """The bundled e-mail `name`'s bytes, or None when there is none by that name."""
    path = MAIL_DIR / f"{name}.eml"
    if not name.replace("_", "").isalnum() or not path.is_file():
        return None
    return path.read_bytes()


async def bounded_body(request: Request, limit: int, drain: int = DRAIN_BYTES) -> bytes | None:
    """The request's body, or None when it is over `limit` bytes: the rest is then read and dropped up to `drain`
    bytes (a browser whose upload is cut off shows a reset connection rather than the page's notice)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > drain:
        return None
    body, seen = bytearray(), 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > drain:
            return None
        if seen <= limit:
            body += chunk
    return bytes(body) if seen <= limit else None


def form_file(content_type: str, body: bytes, field: str = FIELD) -> Upload:
    """The file `field` of a `multipart/form-data` body (the request's `content_type` given); UploadError if the body
    is not such a form or has no such file."""
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type.lower():
        raise UploadError("the upload is not a multipart/form-data form")
    head = f"Content-Type: {' '.join(content_type.split())}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    msg = email.message_from_bytes(head + body, policy=email.policy.HTTP)
    if not isinstance(msg, EmailMessage) or not msg.is_multipart() or msg.defects:
        raise UploadError("the upload's form could not be read (a malformed multipart body)")
    for part in msg.iter_parts():
        if part.get_param("name", header="content-disposition") != field:
            continue
        content = part.get_payload(decode=True)
        return Upload(str(part.get_filename() or ""), content if isinstance(content, bytes) else b"")
    raise UploadError("the form carried no e-mail file")


def email_event(
    raw: bytes, rules: Sequence[tuple[Kind, EmailRule]] = (), *, id_suffix: str = ""
) -> dict[str, Any]:
    """The event JSON for the notification the bot's e-mail intake makes of `raw` (never raises: an e-mail it cannot
    read or classify is kind `other`, as in a mailbox); `id_suffix` makes a resend a new event."""
    n = handle(raw, MailMeta(mailbox=MAILBOX), rules=rules)
    return {
        "kind": n.kind.value,
        "id": n.key + id_suffix,
        "instance": n.instance,
        "occurred_at": n.occurred_at.isoformat(),
        "summary": n.summary,
        "fields": n.fields,
        "labels": n.labels,
    }
