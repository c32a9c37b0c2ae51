"""Console sign-in as pure functions: token roles, the signed session cookie, CSRF tokens, the login limit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifbot.errors import ConfigError
from notifbot.ui.auth import LIFETIME_SECONDS, Keys, LoginLimiter, Session, mint, session_key

ADMIN = "admin-" + "k" * 40
VIEWER = "viewer-" + "v" * 40
NOW = 2_000_000_000.0
KEYS = Keys(ADMIN, VIEWER)


def test_each_token_signs_in_as_its_role() -> None:
    assert KEYS.role_of(ADMIN) == "admin" and KEYS.role_of(VIEWER) == "viewer"
    for wrong in ("", ADMIN[:-1], ADMIN + " ", ADMIN.upper(), VIEWER[1:], "é" * 40):
        assert KEYS.role_of(wrong) is None
    assert Keys(ADMIN).role_of(VIEWER) is None  # no viewer token set: nobody is a viewer


def test_the_admin_token_is_required() -> None:
    with pytest.raises(ConfigError, match="NOTIFBOT_CONSOLE_TOKEN"):
        Keys("")


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_a_cookie_round_trips_until_it_expires(role: str) -> None:
    value = KEYS.mint(role, "console token", NOW, nonce="n0nce")  # type: ignore[arg-type]
    expected = Session(role, "console token", int(NOW + LIFETIME_SECONDS), "n0nce")  # type: ignore[arg-type]
    assert KEYS.verify(value, NOW) == expected
    assert KEYS.verify(value, NOW + LIFETIME_SECONDS - 1) == expected
    assert KEYS.verify(value, NOW + LIFETIME_SECONDS) is None


def test_the_module_mint_matches_the_keys() -> None:
    """What the sandbox mints from the token it generated is a session the console accepts."""
    assert KEYS.verify(mint(ADMIN, "admin", "sandbox", NOW), NOW) is not None
    assert KEYS.verify(mint(VIEWER, "viewer", "sandbox", NOW), NOW) is not None


def test_a_viewer_token_cannot_sign_an_admin_session() -> None:
    assert KEYS.verify(mint(VIEWER, "admin", "forged", NOW), NOW) is None
    assert KEYS.verify(mint(ADMIN, "viewer", "forged", NOW), NOW) is None  # the role must match its key


def test_rotating_a_token_ends_its_sessions_only() -> None:
    admin, viewer = KEYS.mint("admin", "a", NOW), KEYS.mint("viewer", "v", NOW)
    rotated = Keys("admin-rotated-" + "r" * 40, VIEWER)
    assert rotated.verify(admin, NOW) is None
    assert rotated.verify(viewer, NOW) is not None


def test_no_token_shows_in_a_cookie_or_a_csrf_token() -> None:
    value = KEYS.mint("admin", "console token", NOW)
    session = KEYS.verify(value, NOW)
    assert session is not None
    for shown in (value, KEYS.csrf(session)):
        assert ADMIN not in shown and VIEWER not in shown
    assert session_key(ADMIN) != ADMIN.encode() and len(session_key(ADMIN)) == 32


@pytest.mark.parametrize("subject", ["", "a|b", "x" * 201, "line\nbreak"])
def test_a_subject_that_would_break_the_format_is_refused(subject: str) -> None:
    with pytest.raises(ValueError, match="subject"):
        KEYS.mint("admin", subject, NOW)


@given(position=st.integers(min_value=0, max_value=400), replacement=st.characters(codec="ascii"))
def test_any_one_character_changed_is_no_session(position: int, replacement: str) -> None:
    value = KEYS.mint("admin", "console token", NOW, nonce="fixed")
    position %= len(value)
    changed = value[:position] + replacement + value[position + 1 :]
    if changed != value:
        assert KEYS.verify(changed, NOW) is None


@given(st.text(max_size=300))
def test_any_text_is_no_session_and_never_an_error(text: str) -> None:
    assert KEYS.verify(text, NOW) is None


def test_the_csrf_token_belongs_to_its_session() -> None:
    one = KEYS.verify(KEYS.mint("admin", "a", NOW, nonce="one"), NOW)
    two = KEYS.verify(KEYS.mint("admin", "a", NOW, nonce="two"), NOW)
    viewer = KEYS.verify(KEYS.mint("viewer", "v", NOW, nonce="one"), NOW)
    assert one is not None and two is not None and viewer is not None
    assert KEYS.csrf_ok(one, KEYS.csrf(one))
    assert not KEYS.csrf_ok(one, KEYS.csrf(two))
    assert not KEYS.csrf_ok(one, KEYS.csrf(viewer))  # same nonce, another role's key
    assert not KEYS.csrf_ok(one, None) and not KEYS.csrf_ok(one, "")
    assert KEYS.csrf(one) == Keys(ADMIN).csrf(one)  # stateless: any replica with the token agrees


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_a_minute_then_a_wait() -> None:
    clock = Clock()
    limiter = LoginLimiter(clock=clock)
    for _ in range(4):
        limiter.failed("203.0.113.1")
        clock.now += 1
    assert limiter.retry_after("203.0.113.1") == 0
    limiter.failed("203.0.113.1")
    assert limiter.retry_after("203.0.113.1") == 56  # the first failure (t=100) leaves the window at t=160
    assert limiter.retry_after("203.0.113.2") == 0  # per client address
    clock.now = 160.0
    assert limiter.retry_after("203.0.113.1") == 0  # one failure has left the window: one more try


def test_the_limiter_forgets_clients_in_bounded_memory() -> None:
    clock = Clock()
    limiter = LoginLimiter(attempts=2, max_clients=3, clock=clock)
    for client in ("a", "a", "b", "c", "d"):
        limiter.failed(client)
    assert limiter.retry_after("a") == 0  # the oldest client made room for "d"
    limiter.failed("d")
    assert limiter.retry_after("d") == 60
    clock.now += 61
    assert limiter.retry_after("d") == 0
