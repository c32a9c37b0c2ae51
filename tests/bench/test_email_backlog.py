"""The e-mail backlog bench's load: every fixture, each copy with its own Message-ID, classified as the original."""

from __future__ import annotations

import email
import email.policy
from typing import Any

from bench.email_backlog import backlog, fixture_mails, table_rows

from notifbot.sources.email.message import MailMeta, handle


def test_the_backlog_cycles_through_every_fixture_with_unique_message_ids() -> None:
    fixtures = fixture_mails()
    mails = backlog(2 * len(fixtures) + 3, run="t1")
    assert len(mails) == 2 * len(fixtures) + 3
    parsed = [email.message_from_bytes(m, policy=email.policy.default) for m in mails]
    ids = [str(p["Message-ID"]) for p in parsed]
    assert len(set(ids)) == len(ids) and all(i.startswith("<bench-t1-") for i in ids)
    for k, (name, raw) in enumerate(fixtures):
        original = email.message_from_bytes(raw, policy=email.policy.default)
        assert parsed[k]["Subject"] == original["Subject"], name
    assert all(b"\r\n" in m and b"\n" not in m.replace(b"\r\n", b"") for m in mails)  # IMAP wants CRLF


def test_a_copy_classifies_like_its_fixture_and_is_stored_under_its_own_key() -> None:
    meta = MailMeta("alerts", "999-XYZ-999")
    for (name, raw), copy in zip(fixture_mails(), backlog(len(fixture_mails()), run="t2"), strict=True):
        original, n = handle(raw, meta), handle(copy, meta)
        assert (n.kind, n.summary) == (original.kind, original.summary), name
        assert n.key != original.key


def result(rate: float, rss_mb: float, complete: bool = True) -> dict[str, Any]:
    return {
        "emails": 10_000,
        "seconds": 10_000 / rate,
        "emails_per_s": rate,
        "steady_emails_per_s": rate * 1.1,
        "stored": 10_000,
        "inbox_left": 0,
        "peak_rss_mb": rss_mb,
        "rss_first_mb": 80.0,
        "rss_last_mb": rss_mb,
        "complete": complete,
    }


def test_the_table_fails_a_missed_target_or_an_incomplete_drain() -> None:
    assert [r[3] for r in table_rows(result(600, 90))] == ["PASS", "PASS"]
    assert [r[3] for r in table_rows(result(150, 90))] == ["FAIL", "PASS"]
    assert [r[3] for r in table_rows(result(600, 250))] == ["PASS", "FAIL"]
    assert table_rows(result(600, 90, complete=False))[0][3] == "FAIL"
