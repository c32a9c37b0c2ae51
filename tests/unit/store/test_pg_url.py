"""PostgreSQL URLs in messages: the password never shown, however the URL is written."""

from __future__ import annotations

import pytest

from notifbot.store.pg_url import password_of, redacted, url_problem


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bot:s3cret@db.internal:5433/notifbot", "postgresql://bot@db.internal:5433/notifbot"),
        ("postgres://bot@db/notifbot?sslmode=require", "postgres://bot@db/notifbot?sslmode=require"),
        ("postgresql://db/n?password=s3cret&sslmode=verify-full", "postgresql://db/n?sslmode=verify-full"),
        ("postgresql://bot:s3cret@[::1]:5432/n", "postgresql://bot@[::1]:5432/n"),
        ("postgresql:///notifbot", "postgresql:///notifbot"),
        ("postgresql://bot:s3/cret@db/n", "postgresql://…"),  # an unencoded / in the password
        ("postgresql://bot:s3cret@db:99999/n", "postgresql://…"),
        ("bot:s3cret@db", "(not a URL)"),
    ],
)
def test_redacted_keeps_everything_but_the_password(url: str, shown: str) -> None:
    assert redacted(url) == shown
    assert "s3cret" not in redacted(url) and "cret" not in redacted(url)


def test_password_of_finds_it_in_the_authority_or_the_query() -> None:
    assert password_of("postgresql://bot:s3cret@db/n") == "s3cret"
    assert password_of("postgresql://db/n?password=s3cret") == "s3cret"
    assert password_of("postgresql://bot@db/n") is None


def test_url_problem_names_the_expected_form() -> None:
    assert url_problem("postgresql://bot@db/n") is None
    assert url_problem("postgres://db/n") is None
    problem = url_problem("mysql://bot:s3cret@db/n")
    assert problem is not None and "postgresql://" in problem and "mysql://bot@db/n" in problem
    assert "s3cret" not in problem
