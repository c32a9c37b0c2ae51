"""The console's sign-in and request checks over real HTTP (docs/design/first-hour.md §5.2, §5.3, §7.2).

Two real servers per module, built as `notifbot serve` builds them (`http_server.uvicorn_config`): one on loopback
without proxy headers (the Host check), one behind a trusted proxy (client addresses and the scheme from
X-Forwarded-*: plain HTTP from another machine, HTTPS, a login limit per client). No response and no log record may
contain a token.
"""

from __future__ import annotations

import io
import itertools
import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from notifbot.app import Bot
from notifbot.http_server import uvicorn_config
from notifbot.sources.events import parse_event
from notifbot.store import outbox
from notifbot.store.db import connect
from notifbot.store.events import Target, insert_notifications
from notifbot.ui.auth import COOKIE, LIFETIME_SECONDS, Role, mint
from tests.integration.conftest import BotFactory, client_for
from tests.integration.live import LiveBot
from tests.integration.process import wait_until

ADMIN = "adm-" + "A1b2C3d4" * 5
VIEWER = "vwr-" + "Z9y8X7w6" * 5
WEBHOOK = "webhook-token-for-the-proxied-console"
TOKENS = (ADMIN, VIEWER, WEBHOOK)
DEAD_ROWS = 12
HOSTILE_ERROR = "channel_not_found <script>alert(1)</script>"


class ConsoleBot(LiveBot):
    """A LiveBot served with `serve`'s own uvicorn settings (proxy headers only when configured)."""

    thread_name = "console-bot"

    def __init__(self, tmp: Path, env: dict[str, str], **overrides: Any) -> None:
        super().__init__(tmp, env, **overrides)
        self.bot: Bot | None = None
        self.dead: list[int] = []  # seeded dead rows, handed out one per test by `dead_row`

    async def _main(self) -> None:
        self.bot = Bot(self.settings, self.env, stdout=io.StringIO())
        await self.bot.start()
        refused = self.bot.metrics.rejected
        config = uvicorn_config(
            self.bot.asgi, self.settings.server, self.env, lambda s: refused.labels(str(s)).inc()
        )
        self._server = uvicorn.Server(config)
        try:
            await self._server.serve()
        finally:
            await self.bot.stop()

    def status(self, row: int) -> str:
        return str(self.rows("SELECT status FROM outbox WHERE id = ?", (row,))[0][0])


def seed_dead_rows(db: Path, n: int) -> list[int]:
    """`n` events whose console delivery was given up, committed before the bot starts."""
    conn = connect(db)
    try:
        now = time.time()
        ids = []
        for i in range(n):
            event = parse_event({"kind": "audit", "id": f"dead-{i}"}, now=datetime.now(UTC))
            insert_notifications(conn, [(event, [Target("console", "console", "stdout")])], now=now)
            row = outbox.claim_next(conn, "console", "stdout", "seed", now, 30)
            assert row is not None
            outbox.mark_dead(conn, row.id, "seed", HOSTILE_ERROR)
            ids.append(row.id)
        return ids
    finally:
        conn.close()


class Records(logging.Handler):
    """Every log record of the module, as the text a log line could carry (message and extra fields)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self) -> list[str]:
        return [f"{r.getMessage()} {r.__dict__}" for r in self.records]


@pytest.fixture(scope="module")
def records() -> Iterator[Records]:
    handler = Records()
    root, ours = logging.getLogger(), logging.getLogger("notifbot")
    level = ours.level
    ours.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    ours.setLevel(level)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory, records: Records) -> Iterator[ConsoleBot]:
    """On loopback, no proxy: the Host must be loopback. Delivery polls only every minute: a retry must wake it."""
    tmp = tmp_path_factory.mktemp("plain")
    env = {"NOTIFBOT_CONSOLE_TOKEN": ADMIN, "NOTIFBOT_CONSOLE_VIEWER_TOKEN": VIEWER}
    bot = ConsoleBot(tmp, env, server={"port": 0, "console": True}, delivery={"poll_seconds": 60})
    bot.dead = seed_dead_rows(Path(bot.db_path), DEAD_ROWS)
    with bot:
        yield bot


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory, records: Records) -> Iterator[ConsoleBot]:
    """Behind a trusted proxy on loopback: X-Forwarded-For and X-Forwarded-Proto decide client and scheme."""
    tmp = tmp_path_factory.mktemp("proxied")
    env = {"NOTIFBOT_CONSOLE_TOKEN": ADMIN, "NOTIFBOT_WEBHOOK_TOKEN": WEBHOOK}
    with ConsoleBot(tmp, env, server={"port": 0, "console": True, "proxy_headers": True}) as bot:
        yield bot


def _no_token(response: httpx.Response) -> None:
    response.read()
    shown = response.text + str(response.headers) + str(response.url)
    leaked = [t for t in TOKENS if t in shown]
    assert leaked == [], f"a token in the answer to {response.request.method} {response.url}"


def client(bot: ConsoleBot) -> httpx.Client:
    """A client without a cookie jar of note, checking every answer for tokens."""
    return httpx.Client(base_url=bot.base_url, timeout=10, event_hooks={"response": [_no_token]})


def origin(bot: ConsoleBot, scheme: str = "http") -> dict[str, str]:
    return {"Origin": f"{scheme}://127.0.0.1:{bot.port}"}


def cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"{COOKIE}={value}"}


def session(token: str, role: Role, **kw: Any) -> dict[str, str]:
    return cookie(mint(token, role, "test", **kw))


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def signed_in(c: httpx.Client, token: str, role: Role) -> tuple[dict[str, str], str]:
    """A session cookie header and that session's CSRF token, read from the outbox page as a browser would."""
    headers = session(token, role)
    page = c.get("/ui/outbox", headers=headers)
    assert page.status_code == 200, page.text
    return headers, csrf_of(page.text)


_rows = itertools.count()


def dead_row(bot: ConsoleBot) -> int:
    """A seeded dead row no other test has used."""
    return bot.dead[next(_rows)]


# -- off, and unauthenticated


async def test_console_off_is_a_404(bot_factory: BotFactory) -> None:
    bot = await bot_factory(env={"NOTIFBOT_CONSOLE_TOKEN": ADMIN})
    async with client_for(bot) as c:
        for path in ("/ui/", "/ui/login", "/ui/outbox", "/ui/static/console.css"):
            assert (await c.get(path)).status_code == 404, path


@pytest.mark.parametrize("path", ["/ui/", "/ui/outbox", "/ui/outbox?status=pending"])
def test_an_unauthenticated_page_is_a_redirect_to_the_sign_in(plain: ConsoleBot, path: str) -> None:
    with client(plain) as c:
        r = c.get(path)
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"


@pytest.mark.parametrize("path", ["/ui/logout", "/ui/outbox/1/retry"])
def test_an_unauthenticated_post_is_401(plain: ConsoleBot, path: str) -> None:
    with client(plain) as c:
        r = c.post(path, headers=origin(plain), data={"csrf": "x"})
    assert r.status_code == 401 and "sign in" in r.text.lower()


def test_every_answer_carries_the_security_headers(plain: ConsoleBot) -> None:
    with client(plain) as c:
        answers = [
            c.get("/ui/login"),
            c.get("/ui/"),
            c.get("/ui/static/console.css"),
            c.get("/ui/nowhere"),
            c.post("/ui/logout", headers=origin(plain)),
            c.post("/ui/login", headers={"Origin": "http://evil.example"}),
            c.get("/ui/login", headers={"Host": "evil.example"}),
        ]
    assert [a.status_code for a in answers] == [200, 303, 200, 404, 401, 403, 421]
    for a in answers:
        assert a.headers["content-security-policy"] == (
            "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
        assert a.headers["x-content-type-options"] == "nosniff"
        assert a.headers["referrer-policy"] == "same-origin"
        assert a.headers["cache-control"] == "no-store"


# -- signing in


def test_the_admin_token_signs_in_with_a_strict_cookie(plain: ConsoleBot) -> None:
    with client(plain) as c:
        r = c.post("/ui/login", data={"token": ADMIN}, headers=origin(plain))
        assert r.status_code == 303 and r.headers["location"] == "/ui/"
        set_cookie = r.headers["set-cookie"]
        value = re.match(rf"{COOKIE}=([^;]+);", set_cookie)
        assert value is not None
        attributes = {part.strip().lower() for part in set_cookie.split(";")[1:]}
        assert {"httponly", "path=/ui", "samesite=strict", f"max-age={LIFETIME_SECONDS}"} <= attributes
        assert "secure" not in attributes  # plain HTTP on loopback: a Secure cookie would never come back
        home = c.get("/ui/", headers=cookie(value.group(1)))
    assert home.status_code == 200 and "Signed in as admin" in home.text


def test_the_viewer_token_signs_in_read_only(plain: ConsoleBot) -> None:
    with client(plain) as c:
        r = c.post("/ui/login", data={"token": VIEWER}, headers=origin(plain))
        assert r.status_code == 303
        value = r.cookies[COOKIE]
        page = c.get("/ui/outbox", headers=cookie(value))
    assert "Signed in as viewer" in page.text and "dead-" in page.text
    assert "/retry" not in page.text  # no Retry buttons for a viewer


@pytest.mark.parametrize(
    "form", [{}, {"token": ""}, {"token": "wrong"}, {"token": ADMIN[:-1]}, {"token": ADMIN + "x"}]
)
def test_a_missing_or_wrong_token_does_not_sign_in(proxied: ConsoleBot, form: dict[str, str]) -> None:
    headers = {"X-Forwarded-For": f"198.51.100.{len(str(form))}", "X-Forwarded-Proto": "https"}
    with client(proxied) as c:
        r = c.post("/ui/login", data=form, headers={**headers, **origin(proxied, "https")})
    assert r.status_code == 401 and "set-cookie" not in r.headers
    assert "That is not a console token." in r.text


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Referer": "http://evil.example/page"},
        {},  # neither Origin nor Referer
        {"Origin": "SAME", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "SAME", "Sec-Fetch-Site": "same-site"},
    ],
)
def test_a_sign_in_from_another_origin_is_refused(plain: ConsoleBot, headers: dict[str, str]) -> None:
    headers = {k: origin(plain)["Origin"] if v == "SAME" else v for k, v in headers.items()}
    with client(plain) as c:
        r = c.post("/ui/login", data={"token": ADMIN}, headers=headers)
    assert r.status_code == 403 and "set-cookie" not in r.headers


def test_a_same_origin_referer_stands_in_for_a_missing_origin(plain: ConsoleBot) -> None:
    with client(plain) as c:
        r = c.post(
            "/ui/login",
            data={"token": ADMIN},
            headers={"Referer": f"http://127.0.0.1:{plain.port}/ui/login", "Sec-Fetch-Site": "same-origin"},
        )
    assert r.status_code == 303


def test_five_failed_sign_ins_a_minute_then_429_for_that_client_only(proxied: ConsoleBot) -> None:
    https = {"X-Forwarded-Proto": "https", **origin(proxied, "https")}
    guesser, other = (
        {"X-Forwarded-For": "203.0.113.50", **https},
        {"X-Forwarded-For": "203.0.113.51", **https},
    )
    with client(proxied) as c:
        codes = [
            c.post("/ui/login", data={"token": f"guess-{i}"}, headers=guesser).status_code for i in range(5)
        ]
        blocked = c.post("/ui/login", data={"token": ADMIN}, headers=guesser)  # even the right token now
        elsewhere = c.post("/ui/login", data={"token": ADMIN}, headers=other)
    assert codes == [401] * 5
    assert blocked.status_code == 429 and 1 <= int(blocked.headers["retry-after"]) <= 60
    assert "set-cookie" not in blocked.headers
    assert elsewhere.status_code == 303


# -- the transport and the Host


def test_plain_http_from_another_machine_refuses_to_sign_in(proxied: ConsoleBot) -> None:
    remote = {"X-Forwarded-For": "203.0.113.9"}  # the proxy says: plain HTTP (no X-Forwarded-Proto)
    with client(proxied) as c:
        page = c.get("/ui/login", headers=remote)
        post = c.post("/ui/login", data={"token": ADMIN}, headers={**remote, **origin(proxied)})
    assert page.status_code == 403 and "terminates TLS" in page.text and "<input" not in page.text
    assert post.status_code == 403 and "set-cookie" not in post.headers


def test_https_through_the_proxy_signs_in_with_a_secure_cookie(proxied: ConsoleBot) -> None:
    headers = {"X-Forwarded-For": "203.0.113.10", "X-Forwarded-Proto": "https"}
    with client(proxied) as c:
        assert c.get("/ui/login", headers=headers).status_code == 200
        plain_origin = c.post("/ui/login", data={"token": ADMIN}, headers={**headers, **origin(proxied)})
        r = c.post("/ui/login", data={"token": ADMIN}, headers={**headers, **origin(proxied, "https")})
    assert plain_origin.status_code == 403  # the page was https: an http Origin is another origin
    assert r.status_code == 303
    assert "secure" in {part.strip().lower() for part in r.headers["set-cookie"].split(";")}


def test_a_foreign_host_is_misdirected_on_a_loopback_bind(plain: ConsoleBot) -> None:
    with client(plain) as c:
        rebound = c.get("/ui/login", headers={"Host": f"evil.example:{plain.port}"})
        posted = c.post(
            "/ui/login",
            data={"token": ADMIN},
            headers={"Host": "evil.example", "Origin": "http://evil.example"},
        )
        local = c.get("/ui/login", headers={"Host": f"localhost:{plain.port}"})
    assert rebound.status_code == 421 and posted.status_code == 421
    assert "set-cookie" not in posted.headers
    assert local.status_code == 200


# -- sessions


def _tampered(value: str) -> str:
    body, mac = value.split(".")
    return f"{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{mac}"


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda: session(ADMIN, "admin", now=time.time() - LIFETIME_SECONDS - 1), "expired"),
        (lambda: cookie(_tampered(mint(ADMIN, "admin", "test"))), "tampered"),
        (lambda: cookie(mint(ADMIN, "admin", "test") + "x"), "mac changed"),
        (lambda: session(VIEWER, "admin"), "viewer token claiming admin"),
        (lambda: session("another-token-" + "q" * 32, "admin"), "another token"),
        (lambda: cookie("garbage"), "garbage"),
    ],
)
def test_a_bad_cookie_is_no_session(plain: ConsoleBot, make: Any, why: str) -> None:
    with client(plain) as c:
        page = c.get("/ui/outbox", headers=make())
        post = c.post("/ui/logout", headers={**make(), **origin(plain)}, data={"csrf": "x"})
    assert page.status_code == 303 and page.headers["location"] == "/ui/login", why
    assert post.status_code == 401, why


def test_sign_out_needs_the_csrf_token_and_clears_the_cookie(plain: ConsoleBot) -> None:
    with client(plain) as c:
        headers, csrf = signed_in(c, ADMIN, "admin")
        refused = c.post("/ui/logout", headers={**headers, **origin(plain)})
        r = c.post("/ui/logout", headers={**headers, **origin(plain)}, data={"csrf": csrf})
    assert refused.status_code == 403
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    assert f'{COOKIE}=""' in r.headers["set-cookie"] and "Max-Age=0" in r.headers["set-cookie"]


# -- Retry


def _retry_cases(bot: ConsoleBot, c: httpx.Client) -> dict[str, tuple[dict[str, str], dict[str, str], int]]:
    """Each way a Retry is refused: (headers, form, expected status)."""
    admin, csrf = signed_in(c, ADMIN, "admin")
    viewer, viewer_csrf = signed_in(c, VIEWER, "viewer")
    _, other_csrf = signed_in(c, ADMIN, "admin")  # another admin session's token
    same = origin(bot)
    return {
        "no session": (same, {"csrf": csrf}, 401),
        "viewer": ({**viewer, **same}, {"csrf": viewer_csrf}, 403),
        "viewer with an admin's csrf": ({**viewer, **same}, {"csrf": csrf}, 403),
        "missing csrf": ({**admin, **same}, {}, 403),
        "wrong csrf": ({**admin, **same}, {"csrf": "A" * 43}, 403),
        "another session's csrf": ({**admin, **same}, {"csrf": other_csrf}, 403),
        "foreign origin": ({**admin, "Origin": "http://evil.example"}, {"csrf": csrf}, 403),
        "localhost is another origin": (
            {**admin, "Origin": f"http://localhost:{bot.port}"},
            {"csrf": csrf},
            403,
        ),
        "foreign referer, no origin": ({**admin, "Referer": "http://evil.example/x"}, {"csrf": csrf}, 403),
        "no origin, no referer": (admin, {"csrf": csrf}, 403),
        "cross-site fetch": ({**admin, **same, "Sec-Fetch-Site": "cross-site"}, {"csrf": csrf}, 403),
        "expired": (
            {**session(ADMIN, "admin", now=time.time() - LIFETIME_SECONDS - 1), **same},
            {"csrf": csrf},
            401,
        ),
        "tampered": ({**cookie(_tampered(mint(ADMIN, "admin", "t"))), **same}, {"csrf": csrf}, 401),
    }


def test_every_refused_retry_leaves_the_row_dead(plain: ConsoleBot) -> None:
    row = dead_row(plain)
    with client(plain) as c:
        cases = _retry_cases(plain, c)
        got = {
            name: c.post(f"/ui/outbox/{row}/retry", headers=headers, data=form).status_code
            for name, (headers, form, _) in cases.items()
        }
    assert got == {name: status for name, (_, _, status) in cases.items()}
    assert plain.status(row) == "dead"


def test_retry_requeues_the_row_and_wakes_its_delivery(plain: ConsoleBot, records: Records) -> None:
    row = dead_row(plain)
    with client(plain) as c:
        headers, csrf = signed_in(c, ADMIN, "admin")
        page = c.get("/ui/outbox", headers=headers)
        assert f'action="/ui/outbox/{row}/retry"' in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>" not in page.text
        r = c.post(f"/ui/outbox/{row}/retry", headers={**headers, **origin(plain)}, data={"csrf": csrf})
        assert r.status_code == 303 and r.headers["location"] == f"/ui/outbox?requeued={row}"
        # delivery polls once a minute here: only the wake-up delivers it within seconds
        wait_until(lambda: plain.status(row) == "delivered", timeout=10)
        shown = c.get(r.headers["location"], headers=headers)
        again = c.post(f"/ui/outbox/{row}/retry", headers={**headers, **origin(plain)}, data={"csrf": csrf})
        metrics = c.get("/metrics").text
    assert f"Row {row} is queued again" in shown.text
    assert again.status_code == 303 and again.headers["location"] == f"/ui/outbox?missing={row}"
    assert 'notifbot_console_actions_total{action="retry"} 1.0' in metrics
    (logged,) = [r for r in records.records if r.getMessage() == "outbox row requeued"]
    assert logged.__dict__["outbox_id"] == row and logged.__dict__["destination"] == "console"
    assert logged.__dict__["role"] == "admin" and logged.__dict__["client"] == "127.0.0.1"


@pytest.mark.parametrize("row", ["999999", str(2**63), "1" * 40])
def test_retry_of_no_dead_row_says_so(plain: ConsoleBot, row: str) -> None:
    with client(plain) as c:
        headers, csrf = signed_in(c, ADMIN, "admin")
        r = c.post(f"/ui/outbox/{row}/retry", headers={**headers, **origin(plain)}, data={"csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == f"/ui/outbox?missing={row}"


def test_the_pending_list_shows_what_waits(plain: ConsoleBot) -> None:
    with client(plain) as c:
        headers, _ = signed_in(c, VIEWER, "viewer")
        page = c.get("/ui/outbox?status=pending", headers=headers)
        home = c.get("/ui/", headers=headers)
    assert page.status_code == 200 and '<a href="/ui/outbox?status=pending" aria-current="page">' in page.text
    assert "Pending deliveries" in page.text or "No pending deliveries." in page.text
    assert home.status_code == 200 and " dead</a>" in home.text


# -- no token anywhere (after the tests above; runs its own sign-ins too)


def test_no_token_in_any_log_record(plain: ConsoleBot, proxied: ConsoleBot, records: Records) -> None:
    with client(plain) as c:
        c.post("/ui/login", data={"token": ADMIN}, headers=origin(plain))
        c.post("/ui/login", data={"token": VIEWER + "x"}, headers=origin(plain))
        c.post("/ui/login", data={"token": ADMIN}, headers={"Origin": "http://evil.example"})
    with client(proxied) as c:
        c.post(
            "/ui/login", data={"token": ADMIN}, headers={"X-Forwarded-For": "203.0.113.77", **origin(proxied)}
        )
    texts = records.texts()
    assert any("console sign-in" in t for t in texts)  # the records were captured
    assert [t for t in texts if any(token in t for token in TOKENS)] == []
