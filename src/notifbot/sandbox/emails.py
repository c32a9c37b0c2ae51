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
from email.headerregistry import ContentTypeHeader
from email.parser import BytesHeaderParser
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


def _malformed() -> UploadError:
    return UploadError("the upload's form could not be read (a malformed multipart body)")


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
    """The file `field` of a `multipart/form-data` body (RFC 7578; the request's `content_type` given), its bytes as
    sent; UploadError if the body is not such a form or has no such file.

    The stdlib's e-mail package reads the Content-Type and each part's headers; the parts are cut at the boundary
    here, as its whole-message parser would parse a `message/rfc822` file (what browsers call an .eml) as a nested
    message and not give its bytes back.
    """
    header = email.policy.HTTP.header_factory("content-type", " ".join(content_type.split()))
    boundary = str(header.params.get("boundary") or "") if isinstance(header, ContentTypeHeader) else ""
    if getattr(header, "content_type", "") != "multipart/form-data" or not 0 < len(boundary) <= 70:
        raise UploadError("the upload is not a multipart/form-data form")
    chunks = (b"\r\n" + body).split(b"\r\n--" + boundary.encode("latin-1"))
    for chunk in chunks[1:]:  # chunks[0] is the preamble
        if chunk.startswith(b"--"):
            break  # the close delimiter: the form had no such file
        rest = chunk.lstrip(b" \t")
        if not rest.startswith(b"\r\n"):
            raise _malformed()
        head, sep, content = rest[2:].partition(b"\r\n\r\n") if rest[2:4] != b"\r\n" else (b"", b"", rest[4:])
        if head and not sep:
            raise _malformed()
        part = BytesHeaderParser(policy=email.policy.HTTP).parsebytes(head + b"\r\n\r\n")
        if part.get_param("name", header="content-disposition") == field:
            return Upload(str(part.get_filename() or ""), content)
    else:
        raise _malformed()  # no close delimiter: the body was cut short
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
