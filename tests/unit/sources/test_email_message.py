"""One raw e-mail to one notification: headers, text from plain or HTML bodies, attachments named only, bad input kept."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from notifbot.model import Kind, Severity
from notifbot.sources.email.html_text import html_to_text
from notifbot.sources.email.message import MailMeta, handle, sender_allowed, sender_of
from notifbot.sources.email.poll import backoff_seconds

META = MailMeta("alerts", "123-ABC-456", uid=7, size=1000)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def message(
    subject: str = "Campaign failure", body: str | None = "It failed.", **headers: str
) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = headers.pop("sender", "Marketo <noreply@marketo.com>")
    msg["Date"] = headers.pop("date", "Tue, 01 Dec 2026 09:30:00 +0100")
    msg["Message-ID"] = headers.pop("message_id", "<abc-1@mail.marketo.test>")
    if body is not None:
        msg.set_content(body)
    return msg


def test_a_plain_mail_keeps_subject_sender_date_body_and_is_keyed_by_message_id() -> None:
    n = handle(message().as_bytes(), META, now=NOW)
    kind = (
        Kind.CAMPAIGN_FAILURE,
        Severity.WARNING,
        "email",
        "123-ABC-456",
    )  # classified by its subject (#12)
    assert (n.kind, n.severity, n.source, n.instance) == kind
    assert n.summary == "Campaign failure" and n.kind_label == "campaign_failure"
    assert n.occurred_at == datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    assert n.fields == {
        "subject": "Campaign failure",
        "from": "Marketo <noreply@marketo.com>",
        "mailbox": "alerts",
        "message_id": "<abc-1@mail.marketo.test>",
        "text": "It failed.",
    }
    assert n.labels == {"mailbox": "alerts"}
    again = handle(message(body="Another copy, same id.").as_bytes(), MailMeta("other-box"), now=NOW)
    assert again.key == n.key and n.key.startswith("email-")


def test_without_message_id_the_key_is_the_hash_of_the_bytes() -> None:
    raw = b"Subject: hi\r\nFrom: a@b.c\r\n\r\nbody\r\n"
    assert handle(raw, META).key == handle(raw, META).key != handle(raw + b"x", META).key
    assert handle(raw, META).key.startswith("email-raw-")


def test_an_html_body_becomes_text_without_scripts_and_keeps_links() -> None:
    msg = message(body=None)
    msg.set_content(
        "<html><head><style>p{}</style></head><body><h1>Sync&nbsp;error</h1><p>Lead <b>42</b> failed"
        "<script>steal()</script></p><ul><li>one</li><li>two</li></ul>"
        "<a href='https://app-ab12.marketo.com/#SC1A1'>Open</a><a href='javascript:x()'>bad</a></body></html>",
        subtype="html",
    )
    text = handle(msg.as_bytes(), META).fields["text"]
    assert (
        text
        == "Sync error\n\nLead 42 failed\n\n- one\n\n- two\n\nOpen (https://app-ab12.marketo.com/#SC1A1)bad"
    )
    assert "steal" not in text and "javascript" not in text


def test_plain_text_is_preferred_over_html() -> None:
    msg = message(body="plain words")
    msg.add_alternative("<p>html words</p>", subtype="html")
    assert handle(msg.as_bytes(), META).fields["text"] == "plain words"


def test_attachments_are_named_never_kept() -> None:
    msg = message()
    msg.add_attachment(b"secret,data\n" * 100, maintype="text", subtype="csv", filename="failed-leads.csv")
    n = handle(msg.as_bytes(), META)
    assert n.fields["attachments"] == ["failed-leads.csv"] and "secret,data" not in str(n.fields)


def test_an_unknown_charset_falls_back_to_utf8_with_replacements() -> None:
    raw = (
        b"Subject: =?x-unknown?Q?caf=E9?=\r\nFrom: a@marketo.com\r\nMessage-ID: <u1@x>\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nf\xc3\xa4lt \xff ok\r\n"
    )
    n = handle(raw, META)
    assert n.fields["text"] == "fält \ufffd ok"
    assert n.fields["message_id"] == "<u1@x>"


def test_garbage_still_gives_a_notification_with_the_text() -> None:
    n = handle(b"\x00\xff not a mail at all", META, now=NOW)
    assert n.summary == "(no subject)" and n.occurred_at == NOW
    assert "not a mail at all" in str(n.fields.get("text", ""))


def test_a_missing_or_bad_date_is_when_it_was_read() -> None:
    assert handle(message(date="yesterday-ish").as_bytes(), META, now=NOW).occurred_at == NOW


def test_an_over_limit_message_keeps_its_subject_and_says_why_there_is_no_body() -> None:
    headers_only = message().as_bytes().split(b"\n\n")[0] + b"\n\n"
    n = handle(headers_only, MailMeta("alerts", None, uid=3, size=50_000_000, over_limit=10_485_760))
    assert n.summary == "Campaign failure" and "text" not in n.fields
    assert n.fields["note"] == (
        "the e-mail is 50,000,000 bytes, over the mailbox's max_message_bytes (10,485,760): only its headers "
        "were read; open it in the mailbox"
    )


def test_a_very_long_body_is_cut() -> None:
    n = handle(message(body="x" * 30_000).as_bytes(), META)
    assert len(n.fields["text"]) < 20_100 and n.fields["text"].endswith("[… cut at 20,000 characters]")


@pytest.mark.parametrize(
    ("sender", "allowed", "ok"),
    [
        ("noreply@marketo.com", [], True),
        ("noreply@marketo.com", ["@marketo.com"], True),
        ("noreply@marketo.com", ["noreply@marketo.com"], True),
        ("noreply@marketo.com.evil.test", ["@marketo.com"], False),
        ("x@evil.test", ["@marketo.com", "ops@example.com"], False),
        ("", ["@marketo.com"], False),
    ],
)
def test_allowed_senders(sender: str, allowed: list[str], ok: bool) -> None:
    assert sender_allowed(sender, allowed) is ok


def test_sender_of_reads_the_from_address_lower_case() -> None:
    assert sender_of(message(sender="Marketo <NoReply@Marketo.COM>").as_bytes()) == "noreply@marketo.com"
    assert sender_of(b"Subject: none\r\n\r\n") == ""


def test_html_to_text_survives_broken_markup() -> None:
    assert html_to_text("<p>a<b>b</p></div><td>c") == "ab\n\nc"


def test_backoff_doubles_from_five_seconds_to_five_minutes_with_the_delivery_jitter() -> None:
    for failures, middle in ((1, 5), (2, 10), (3, 20), (7, 300), (50, 300)):
        waits = [backoff_seconds(failures) for _ in range(50)]
        assert all(middle * 0.5 <= w <= middle * 1.5 for w in waits)
        assert len(set(waits)) > 1  # jittered: mailboxes failing together do not retry in step
