"""One raw e-mail to one Notification: MIME parsed with the stdlib (policy=default), HTML turned into text, never rendered.

The kind registry's e-mail rules classify it and extract the kind's fields; the subject and plain-text body are always
kept so nothing is lost (an e-mail no rule matches is kind `other`).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.utils import parseaddr

from notifbot.kinds.mail import EmailRule, munchkin_id
from notifbot.kinds.registry import classify_email, default_severity
from notifbot.model import Kind, Notification
from notifbot.sources.email.html_text import html_to_text

SOURCE = "email"
MAX_TEXT_CHARS = 20_000  # of the body kept in the notification; the renderers cut further
MAX_HEADER_CHARS = 1_000
MAX_ATTACHMENTS_LISTED = 20


@dataclass(frozen=True)
class MailMeta:
    """Where a message came from: the mailbox, its default Marketo instance, its UID and size on the server."""

    mailbox: str
    instance: str | None = None
    uid: int | None = None
    size: int | None = None
    # set when the message was over this many bytes: only its headers were read
    over_limit: int | None = None


def sender_of(raw: bytes) -> str:
    """The From address of a raw message, lower case ('' when there is none); reads the headers only."""
    try:
        headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        return parseaddr(str(headers.get("From", "")))[1].strip().lower()
    except Exception:  # a header the parser chokes on: no sender
        return ""


def sender_allowed(sender: str, allowed: list[str]) -> bool:
    """True when `allowed` is empty or names the address or its @domain (lower-case entries)."""
    if not allowed:
        return True
    domain = "@" + sender.rpartition("@")[2] if "@" in sender else None
    return sender in allowed or (domain is not None and domain in allowed)


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed encoded word or address: the raw text is better than nothing
        value = msg.get_all(name, [""])[0] if hasattr(msg, "get_all") else ""
    return " ".join(str(value or "").split())[:MAX_HEADER_CHARS]


def _date(msg: Message) -> datetime | None:
    try:
        value = msg.get("Date")
        when = getattr(value, "datetime", None)
    except Exception:
        return None
    if not isinstance(when, datetime):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _from(msg: Message) -> str:
    try:
        addresses = getattr(msg.get("From"), "addresses", ())
        first: Address | None = addresses[0] if addresses else None
        if first is not None:
            return str(first)[:MAX_HEADER_CHARS]
    except Exception:
        pass
    return _header(msg, "From")


def _decoded(part: Message) -> str:
    """A text part's content; an unknown or lying charset falls back to UTF-8 with replacement characters."""
    try:
        content = part.get_content() if isinstance(part, EmailMessage) else None
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, AssertionError, ValueError):
        pass
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""


def body_text(msg: Message) -> str:
    """The plain-text body, else the HTML body as text; '' when the message has neither."""
    part: Message | None = None
    if isinstance(msg, EmailMessage):
        try:
            part = msg.get_body(preferencelist=("plain", "html"))
        except Exception:
            part = None
    if part is None and msg.get_content_maintype() == "text":
        part = msg
    if part is None:
        return ""
    text = _decoded(part)
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return text.strip()


def attachment_names(msg: Message) -> list[str]:
    """The file names of the attachments (their content is never kept)."""
    names: list[str] = []
    try:
        parts = list(msg.iter_attachments()) if isinstance(msg, EmailMessage) else []
    except Exception:
        parts = []
    for part in parts[:MAX_ATTACHMENTS_LISTED]:
        names.append(str(part.get_filename() or part.get_content_type())[:200])
    return names


def dedupe_key(message_id: str, raw: bytes) -> str:
    """The store key: a hash of the Message-ID (the same e-mail read twice is stored once), else of the bytes."""
    if message_id:
        return "email-" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()[:32]
    return "email-raw-" + hashlib.sha256(raw).hexdigest()[:32]


def handle(
    raw: bytes,
    meta: MailMeta,
    *,
    now: datetime | None = None,
    rules: Sequence[tuple[Kind, EmailRule]] = (),
) -> Notification:
    """The notification for one raw message (headers only when `meta.over_limit` is set); never raises."""
    received = now or datetime.now(UTC)
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        subject, sender = _header(msg, "Subject"), _from(msg)
        message_id = _header(msg, "Message-ID").strip()
        occurred = _date(msg) or received
        text = "" if meta.over_limit is not None else body_text(msg)
        attachments = [] if meta.over_limit is not None else attachment_names(msg)
        problem = None
    except Exception as exc:  # malformed beyond what the lenient parser takes: keep what the bytes say
        subject, sender, message_id, occurred, attachments = "", "", "", received, []
        text = raw[:MAX_TEXT_CHARS].decode("utf-8", errors="replace")
        problem = f"the e-mail could not be parsed ({type(exc).__name__}); its start is shown as text"
    if meta.over_limit is not None:
        problem = (
            f"the e-mail is {meta.size or 0:,} bytes, over the mailbox's max_message_bytes "
            f"({meta.over_limit:,}): only its headers were read; open it in the mailbox"
        )
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS] + "\n[… cut at 20,000 characters]"
    kind, extracted = classify_email(subject, text, rules) if problem is None else (Kind.OTHER, {})
    # the readable fields first: a chat message shows the first few
    fields: dict[str, object] = {**extracted, "subject": subject or "(no subject)", "from": sender}
    if text:
        fields["text"] = text
    if problem:
        fields["note"] = problem
    if attachments:
        fields["attachments"] = attachments
    fields["mailbox"] = meta.mailbox
    if message_id:
        fields["message_id"] = message_id
    return Notification(
        key=dedupe_key(message_id, raw),
        kind=kind,
        severity=default_severity(kind, fields),
        occurred_at=occurred,
        instance=munchkin_id(text) or meta.instance,
        summary=subject or "(no subject)",
        fields=fields,
        labels={"mailbox": meta.mailbox},
        source=SOURCE,
        received_at=received,
    )
