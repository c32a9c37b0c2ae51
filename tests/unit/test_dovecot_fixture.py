"""The IMAP tests' Dovecot: missing, they skip on a developer machine and fail under CI (which must install it)."""

from __future__ import annotations

import pytest

from tests.integration import email_support


def test_a_missing_dovecot_skips_with_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(email_support, "DOVECOT", "/nonexistent/dovecot")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"apt-get install -y dovecot-imapd"):
        email_support.require_dovecot()


def test_a_missing_dovecot_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(email_support, "DOVECOT", "/nonexistent/dovecot")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"\.ci/run installs it"):
        email_support.require_dovecot()
