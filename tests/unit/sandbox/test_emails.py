"""The sandbox's e-mails: the bundled ones, the upload form's multipart body read with the stdlib, the event made."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from starlette.requests import Request
from starlette.types import Message

from notifbot.config.settings import EmailRuleSettings
from notifbot.model import Kind
from notifbot.sandbox.emails import (
    MAIL_DIR,
    Upload,
    UploadError,
    bounded_body,
    bundled_email,
    bundled_emails,
    email_event,
    form_file,
)
from notifbot.sources.events import parse_event

# CRLF and bare LF lines, bytes that are no text, a line that starts as a delimiter does
RAW = b"Subject: x\r\n\r\nline\nbare LF\r\n\xff\xfe\x00\r\n--not the boundary\r\n"

KINDS = {"crm_sync_salesforce": "crm_sync"}  # a bundled e-mail's kind, where its name is not it


def _form(files: dict[str, tuple[str, bytes, str]], data: dict[str, str] | None = None) -> tuple[str, bytes]:
    """A multipart/form-data body as httpx (and a browser) builds it, and its Content-Type."""
    request = httpx.Request("POST", "http://127.0.0.1/email", files=files, data=data)
    return request.headers["content-type"], request.read()


@pytest.mark.parametrize("media_type", ["message/rfc822", "application/octet-stream"])
def test_the_file_comes_back_byte_for_byte(media_type: str) -> None:
    content_type, body = _form({"eml": ("mine.eml", RAW, media_type)}, {"before": "1"})
    assert form_file(content_type, body) == Upload("mine.eml", RAW)


def test_a_quoted_boundary_and_an_empty_file_are_read() -> None:
    body = (
        b'preamble\r\n--a b\r\nContent-Disposition: form-data; name="eml"; filename=""\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n\r\n--a b--\r\n"
    )
    assert form_file('multipart/form-data; boundary="a b"', body) == Upload("", b"")


@pytest.mark.parametrize(
    ("content_type", "body", "problem"),
    [
        ("application/x-www-form-urlencoded", b"eml=x", "not a multipart/form-data form"),
        ("multipart/form-data", b"--x\r\n\r\n--x--", "not a multipart/form-data form"),  # no boundary
        ("multipart/form-data; boundary=x", b"not a form at all", "malformed"),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="eml"',
            "malformed",
        ),
        (
            "multipart/form-data; boundary=x",
            b'--xjunk\r\nContent-Disposition: form-data; name="eml"',
            "malformed",
        ),
        ("multipart/form-data; boundary=x", b"--x\r\n\r\nno headers\r\n--x--\r\n", "no e-mail file"),
    ],
)
def test_what_is_not_the_page_s_form_is_an_upload_error(content_type: str, body: bytes, problem: str) -> None:
    with pytest.raises(UploadError, match=problem):
        form_file(content_type, body)


def test_a_form_cut_short_is_malformed() -> None:
    content_type, body = _form({"eml": ("mine.eml", RAW, "message/rfc822")})
    with pytest.raises(UploadError, match="malformed"):
        form_file(content_type, body[: len(body) // 2])


def test_the_bundled_emails_are_listed_by_subject_and_only_by_name() -> None:
    listed = bundled_emails()
    assert listed["facebook"] == "Facebook: leads could not be sent"
    assert 4 <= len(listed) <= 6 and set(listed) == {p.stem for p in MAIL_DIR.glob("*.eml")}
    assert bundled_email("facebook") == (MAIL_DIR / "facebook.eml").read_bytes()
    assert bundled_email("../mail/facebook") is None and bundled_email("nothing") is None


def test_each_bundled_email_is_its_kind_as_an_event_the_bot_accepts() -> None:
    now = datetime.now(UTC)
    for name in bundled_emails():
        event = json.loads(json.dumps(email_event(bundled_email(name) or b"", id_suffix="-1")))
        n = parse_event(event, now=now)
        assert n.kind.value == KINDS.get(name, name)
        assert n.key.endswith("-1") and n.labels == {"mailbox": "sandbox"}


def test_an_email_that_is_no_email_is_kind_other_and_a_rule_of_yours_comes_first() -> None:
    now = datetime.now(UTC)
    assert parse_event(email_event(b"\xff\x00 no e-mail"), now=now).kind is Kind.OTHER
    raw = b"Subject: Sandbox rule: x\r\n\r\nAudience: Mine\r\n"
    rule = EmailRuleSettings.model_validate(
        {"kind": "linkedin", "subject": "^Sandbox rule:", "fields": {"audience_name": "Audience: (.+)"}}
    )
    event = email_event(raw, (rule.rule(),))
    assert (event["kind"], event["fields"]["audience_name"]) == ("linkedin", "Mine")
    assert email_event(raw)["kind"] == "other"


def _request(chunks: list[bytes], length: int | None = None) -> Request:
    headers = [(b"content-length", str(length).encode())] if length is not None else []
    messages: list[Message] = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]

    async def receive() -> Message:
        return messages.pop(0)

    return Request({"type": "http", "method": "POST", "headers": headers}, receive)


async def test_a_body_over_the_limit_is_none_whether_declared_or_streamed() -> None:
    assert await bounded_body(_request([b"ab", b"cd"]), 4) == b"abcd"
    assert await bounded_body(_request([b"ab", b"cd", b"e"]), 4) is None  # chunked, no Content-Length
    assert await bounded_body(_request([b"abcde"], 5), 4) is None
    assert await bounded_body(_request([b"x"], 100), 4, drain=10) is None  # declared over the drain: not read
    assert await bounded_body(_request([b"abc", b"def"]), 2, drain=4) is None
