"""The PostgreSQL tests' server: a fresh database per module; missing, they skip (developer) or fail (CI=true)."""

from __future__ import annotations

import pytest

from tests import pg_support

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/postgres"  # nothing listens on port 1
# psycopg is imported in the tests that use it: without the driver the fixture skips (or fails under CI) with a
# line saying how to install it, rather than the module failing to import


def test_the_fresh_database_starts_empty_and_keeps_what_is_written(postgres_url: str) -> None:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        assert tables == (0,)
        conn.execute("CREATE TABLE email_cursors (mailbox TEXT, folder TEXT, last_uid BIGINT)")
        conn.execute("INSERT INTO email_cursors VALUES (%s, %s, %s)", ("ops@example.com", "INBOX", 42))
    with psycopg.connect(postgres_url) as again:
        assert again.execute("SELECT mailbox, folder, last_uid FROM email_cursors").fetchall() == [
            ("ops@example.com", "INBOX", 42)
        ]
        assert again.execute("SELECT current_database()").fetchone() != ("postgres",)


def test_a_fresh_database_is_dropped_afterwards_even_with_a_connection_open() -> None:
    admin = pg_support.require_postgres()
    import psycopg

    with pg_support.fresh_database(admin) as url:
        name = url.rsplit("/", 1)[1]
        left_open = psycopg.connect(url)
        left_open.execute("CREATE TABLE t (id BIGINT)")
    with psycopg.connect(admin) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None
    left_open.close()


def test_an_unreachable_server_skips_with_how_to_run_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(
        pytest.skip.Exception, match=r"start PostgreSQL on 127\.0\.0\.1:5432 .*NOTIFBOT_TEST_POSTGRES_URL"
    ):
        pg_support.require_postgres(UNREACHABLE)


def test_an_unreachable_server_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"under CI they must run"):
        pg_support.require_postgres(UNREACHABLE)


def test_messages_never_show_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("psycopg")  # without it the message is about the driver, not the server
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as caught:
        pg_support.require_postgres("postgresql://bot:s3cret@127.0.0.1:1/postgres")
    assert "s3cret" not in str(caught.value)
    assert "bot@127.0.0.1:1" in str(caught.value)


def test_the_run_summary_says_how_to_run_skipped_postgres_tests() -> None:
    reasons = ["('x.py', 3, 'Skipped: PostgreSQL tests not run: no server')", "('y.py', 1, 'Skipped: other')"]
    line = pg_support.skipped_postgres_line(reasons)
    assert line is not None and line.startswith("1 PostgreSQL test(s) skipped: to run them, start PostgreSQL")
    assert pg_support.skipped_postgres_line(["('y.py', 1, 'Skipped: other')"]) is None
