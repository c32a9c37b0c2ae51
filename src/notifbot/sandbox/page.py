"""The sandbox page: every channel as Slack and as Teams show it, live over SSE, its buttons and boxes as forms.

Server-rendered and usable without JavaScript (all but liveness): each POST answers 303 back to the page
(Post/Redirect/Get) and is accepted only from the page itself (`Origin`, after the loopback `Host` check); the
script (`static/sandbox.js`) only turns the forms into fetches, applies the feed and opens confirm dialogs.

"Open console" posts to `/console`, which signs the reader in to the bot's console with a token the sandbox gave
the bot: a session cookie (`ui.auth.mint`) for this host with the console's own attributes, and a 303 to the
bot's `/ui/`. Cookies are scoped by host, not port (RFC 6265 §8.5), so the browser sends it to the bot; the tokens
themselves never leave the server.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from notifbot.render.html import STATIC_DIR as CHAT_STATIC
from notifbot.sandbox.chat import Chat, Message
from notifbot.sandbox.emails import (
    MAX_EMAIL_BYTES,
    MAX_UPLOAD_BYTES,
    PREFIX,
    UploadError,
    bounded_body,
    bundled_emails,
    form_file,
)
from notifbot.sandbox.feed import Feed, notice_html
from notifbot.sandbox.guard import from_page
from notifbot.sandbox.interact import BotLink, sample_titles
from notifbot.sandbox.signing import find_button
from notifbot.sandbox.slack_api import VIEWER, YOU
from notifbot.sandbox.views import Confirm, Views, dom_id, templates
from notifbot.ui.auth import mint, set_session

STATIC = Path(__file__).resolve().parent / "static"
FILES: Mapping[str, Path] = {
    "sandbox.css": STATIC / "sandbox.css",
    "sandbox.js": STATIC / "sandbox.js",
    "chat.css": CHAT_STATIC / "chat.css",
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https: http:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",  # with no-referrer a browser sends `Origin: null` on form posts
    "cache-control": "no-store",
}
MAX_FORM = 16 * 1024
AS_COOKIE = "sandbox_as"
SETTLE_SECONDS = 1.5  # how long a form waits for the bot's doing to show before it redirects
Handler = Callable[[Request], Awaitable[Response]]
CONSOLE_PATH = "/ui"  # where the bot mounts its console (web.py), the path of its session cookie
CONSOLE_SUBJECT = "sandbox"  # who a session minted by the sandbox says signed in
CONSOLE_ON_IPV6 = "The console opens from this page at 127.0.0.1 or localhost, where the bot listens."


@dataclass(frozen=True)
class ConsoleLink:
    """The bot's console as the page opens it: its port, and a sign-in token per role that the sandbox made for the
    bot's environment alone (never printed nor shown)."""

    port: int
    admin: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    viewer: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    def env(self) -> dict[str, str]:
        """The tokens as the bot reads them (config/env.py)."""
        return {"NOTIFBOT_CONSOLE_TOKEN": self.admin, "NOTIFBOT_CONSOLE_VIEWER_TOKEN": self.viewer}


@dataclass
class Column:
    """One channel on the page: its Slack messages (with the reader's ephemeral answers) and its Teams cards."""

    id: str
    name: str
    anchor: str
    slack: list[Markup] = field(default_factory=list)
    teams: list[Markup] = field(default_factory=list)
    notices: list[Markup] = field(default_factory=list)


def _user(request: Request) -> str:
    return VIEWER if request.cookies.get(AS_COOKIE) == "viewer" else YOU


async def settle(chat: Chat, after: int, channel: str | None, timeout: float = SETTLE_SECONDS) -> None:
    """Waits (at most `timeout`) for the chat's first change after `after` in `channel` (any, if None), so the page
    a form redirects to already shows what the bot did: the edit a click caused, the post a sample became."""
    changes = chat.subscribe(after)
    try:
        async with asyncio.timeout(timeout):
            async for batch in changes:
                if any(channel is None or getattr(c.item, "channel", None) == channel for c in batch):
                    return
    except TimeoutError:
        return
    finally:
        await changes.aclose()


REFUSED = PlainTextResponse("refused: this form is accepted from the sandbox page only\n", 403)


def _back(anchor: str = "") -> Response:
    return RedirectResponse("/" + (f"#{quote(anchor, safe='-._')}" if anchor else ""), status_code=303)


class Page:
    """The page's routes over one chat, feed and link to the bot."""

    def __init__(
        self,
        chat: Chat,
        link: BotLink,
        *,
        channels: Mapping[str, str],
        bot_url: str,
        console: ConsoleLink | None = None,
    ) -> None:
        self.chat = chat
        self.console = console
        self.link = link
        self.channel_names = dict(channels)  # configured channel → the name shown (its destination's)
        self.bot_url = bot_url
        self.env = templates()
        self.views = Views(self.env)
        self.feed = Feed(chat, self.views)
        self.dismissed: set[tuple[str, str]] = set()  # (channel, ts) of ephemeral answers dismissed
        self.samples = sample_titles()  # name → title, for the "Send a sample event" menu
        self.emails = {PREFIX + name: subject for name, subject in bundled_emails().items()}  # its "E-mails"

    def routes(self) -> list[Route]:
        return [
            Route("/", self._page, methods=["GET"]),
            Route("/events", self._events, methods=["GET"]),
            Route("/confirm", self._confirm, methods=["GET"]),
            Route("/static/{name}", self._static, methods=["GET"]),
            Route("/act", self._post(self._act), methods=["POST"]),
            Route("/command", self._post(self._command), methods=["POST"]),
            Route("/sample", self._post(self._sample), methods=["POST"]),
            Route("/email", self._email, methods=["POST"]),
            Route("/dismiss", self._post(self._dismiss), methods=["POST"]),
            Route("/as", self._post(self._as), methods=["POST"]),
            *([Route("/console", self._post(self._console), methods=["POST"])] if self.console else []),
        ]

    # -- reading ---------------------------------------------------------------------------------------------

    def _html(self, name: str, status: int = 200, *, form_to: str = "", **context: object) -> HTMLResponse:
        """A template rendered under the page's headers; `form_to`: one more URL a form may post (and redirect) to."""
        body = self.env.get_template(name).render(**context)
        headers = HEADERS
        if form_to:
            csp = CSP.replace("form-action 'self'", f"form-action 'self' {form_to}")
            headers = {**HEADERS, "content-security-policy": csp}
        return HTMLResponse(body, status_code=status, headers=headers)

    def console_url(self, request: Request) -> str:
        """The bot's console on the host this page was reached by: where /console sends the reader, and where the
        page's form-action must let that redirect go. "" without a console, and on an IPv6 address: the bot
        listens on 127.0.0.1, which a cookie set for [::1] never reaches."""
        host = urlsplit(f"http://{request.headers.get('host', '')}").hostname or ""
        if self.console is None or not host or ":" in host:
            return ""
        return f"http://{host}:{self.console.port}{CONSOLE_PATH}/"

    def columns(self, user: str) -> list[Column]:
        """Every configured channel, then any other the bot posted in, with what `user` sees there."""
        names = dict(self.channel_names)
        names.update({c: c for c in self.chat.channels() if c not in names})
        columns = []
        for channel, name in names.items():
            column = Column(channel, name, dom_id("ch", channel))
            shown: list[tuple[str, Markup]] = []
            for m in self.chat.messages(channel):
                if m.source == "teams":
                    column.teams.append(self.views.message(m))
                else:
                    shown.append((m.ts, self.views.message(m, self.chat.thread(channel, m.ts))))
            for e in self.chat.ephemerals(channel, user):
                if (channel, e.ts) not in self.dismissed:
                    shown.append((e.ts, self.views.ephemeral(e)))
            column.slack = [html for _, html in sorted(shown, key=lambda p: float(p[0]))]
            column.notices = [notice_html(n) for n in self.chat.notices(channel)]
            columns.append(column)
        return columns

    async def _page(self, request: Request) -> Response:
        """The page as it is now, for the reader of this browser, with the feed's position to resume from."""
        user = _user(request)
        known = set(self.channel_names) | set(self.chat.channels())
        # "Open console" ends on the bot's /ui/: a CSP's form-action also covers where a form's answer redirects
        return self._html(
            "page.html",
            form_to=self.console_url(request),
            columns=self.columns(user),
            notices=[notice_html(n) for n in self.chat.notices() if n.channel not in known],
            samples=self.samples,
            emails=self.emails,
            max_email=f"{MAX_EMAIL_BYTES // 1024 // 1024} MB",
            viewer=user == VIEWER,
            user=user,
            command=self.link.command_name,
            bot_url=self.bot_url,
            console=self.console is not None,
            console_url=self.console_url(request),
            last_event=self.feed.event_id(self.chat.seq),
        )

    async def _events(self, request: Request) -> Response:
        """The SSE feed from the client's Last-Event-ID (or `?after=`, the page's position on first connect)."""
        last = request.headers.get("last-event-id") or request.query_params.get("after")
        headers = {**HEADERS, "x-accel-buffering": "no"}
        return StreamingResponse(self.feed.stream(last), media_type="text/event-stream", headers=headers)

    def _button(
        self, channel: str, ts: str, action_id: str, value: str | None
    ) -> tuple[Message, dict[str, Any]] | None:
        """The message `ts` and its button `action_id` (with `value`), if the channel still holds both."""
        m = self.chat.find(channel, ts)
        found = find_button(m.blocks, action_id, value) if m is not None else None
        return (m, found[1]) if m is not None and found is not None else None

    async def _confirm(self, request: Request) -> Response:
        """The no-JavaScript form of a button's confirm dialog."""
        q = request.query_params
        channel, ts, action_id, value = (
            q.get("channel", ""),
            q.get("ts", ""),
            q.get("action_id", ""),
            q.get("value"),
        )
        held = self._button(channel, ts, action_id, value)
        confirm = held[1].get("confirm") if held is not None else None
        if held is None or not isinstance(confirm, Mapping):
            return _back(dom_id("ch", channel) if channel else "")
        fields = {"channel": channel, "ts": ts, "action_id": action_id, "value": value}
        return self._html(
            "confirm.html",
            confirm=Confirm.of(confirm),
            fields={k: v for k, v in fields.items() if v is not None},
            back="/#" + dom_id("m", channel, ts),
        )

    async def _static(self, request: Request) -> Response:
        path = FILES.get(request.path_params["name"])
        if path is None:
            return PlainTextResponse("not found\n", status_code=404)
        return FileResponse(path, headers={"cache-control": "no-cache", "x-content-type-options": "nosniff"})

    # -- forms -----------------------------------------------------------------------------------------------

    def _post(self, handler: Callable[[Request, dict[str, str]], Awaitable[Response]]) -> Handler:
        """`handler` behind the same-origin check, with the form read (bounded, urlencoded)."""

        async def endpoint(request: Request) -> Response:
            headers = request.headers
            if not from_page(request):
                return REFUSED
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_FORM:
                return PlainTextResponse("refused: the form is too large\n", 413)
            body = await request.body()
            if len(body) > MAX_FORM:
                return PlainTextResponse("refused: the form is too large\n", 413)
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            return await handler(request, form)

        return endpoint

    async def _act(self, request: Request, form: dict[str, str]) -> Response:
        """A button: its confirm first (the page without JavaScript), then the signed click to the bot."""
        channel, ts, action_id = form.get("channel", ""), form.get("ts", ""), form.get("action_id", "")
        value = form.get("value")
        held = self._button(channel, ts, action_id, value)
        if held is None:
            self.chat.notice(channel, "That button is no longer there (the message was edited or dropped).")
            return _back(dom_id("ch", channel))
        message, button = held
        if isinstance(button.get("confirm"), Mapping) and form.get("confirmed") != "1":
            query = {
                "channel": channel,
                "ts": ts,
                "action_id": action_id,
                **({"value": value} if value else {}),
            }
            return RedirectResponse("/confirm?" + urlencode(query), status_code=303)
        seq = self.chat.seq
        await self.link.click(message, action_id, value, _user(request))
        await settle(self.chat, seq, channel)
        return _back(dom_id("m", channel, ts))

    async def _command(self, request: Request, form: dict[str, str]) -> Response:
        """The `/marketo` box: a signed slash command; the ack's reply is in the chat before the redirect."""
        channel = form.get("channel", "")
        if channel:
            await self.link.command(channel, form.get("text", ""), _user(request))
        return _back(dom_id("ch", channel) if channel else "")

    async def _sample(self, request: Request, form: dict[str, str]) -> Response:
        """ "Send a sample event": the bundled sample posted to the bot's /hooks/events."""
        seq = self.chat.seq
        problem = await self.link.sample(form.get("sample", ""))
        if problem is not None:
            self.chat.notice("", f"Send sample: {problem}")
        else:
            await settle(self.chat, seq, None)
        return _back()

    async def _email(self, request: Request) -> Response:
        """ "Send your own e-mail": the uploaded .eml, classified as the bot's e-mail intake does, posted to the bot's
        /hooks/events (`BotLink.email`); a problem with the upload is a notice on the page."""
        if not from_page(request):
            return REFUSED
        body = await bounded_body(request, MAX_UPLOAD_BYTES)
        too_large = (
            f"Send e-mail: the file is too large; the sandbox takes e-mails up to {MAX_EMAIL_BYTES:,} bytes."
        )
        if body is None:
            self.chat.notice("", too_large)
            return _back()
        try:
            upload = form_file(request.headers.get("content-type", ""), body)
        except UploadError as exc:
            self.chat.notice("", f"Send e-mail: {exc}.")
            return _back()
        if len(upload.content) > MAX_EMAIL_BYTES:
            self.chat.notice("", too_large)
            return _back()
        if not upload.content.strip():
            self.chat.notice("", "Send e-mail: choose a .eml file first (the one sent was empty).")
            return _back()
        seq = self.chat.seq
        problem = await self.link.email(upload.content)
        if problem is not None:
            self.chat.notice("", f"Send e-mail: {problem}")
        else:
            await settle(self.chat, seq, None)
        return _back()

    async def _dismiss(self, request: Request, form: dict[str, str]) -> Response:
        """Hides an ephemeral answer from the page, as Slack's "Dismiss" does."""
        channel = form.get("channel", "")
        self.dismissed.add((channel, form.get("ts", "")))
        return _back(dom_id("ch", channel))

    async def _as(self, request: Request, form: dict[str, str]) -> Response:
        """Who the page acts as: you (an admin) or a viewer (not one), kept in a cookie of this browser."""
        response = _back()
        who = "viewer" if form.get("as") == "viewer" else "you"
        response.set_cookie(AS_COOKIE, who, httponly=True, samesite="strict")
        return response

    async def _console(self, request: Request, form: dict[str, str]) -> Response:
        """Signs the reader in to the bot's console, as an admin (a viewer while the page acts as one): the session
        cookie, and 303 to the bot's /ui/.

        The cookie's attributes are the console's own (`ui.auth.set_session`); it is set for the host the
        page was reached by, which is the bot's too (the Host check let only a loopback name through).
        """
        url = self.console_url(request)
        if self.console is None or not url:
            self.chat.notice("", CONSOLE_ON_IPV6)
            return _back()
        response = RedirectResponse(url, status_code=303, headers=HEADERS)
        set_session(
            response,
            mint(self.console.viewer, "viewer", CONSOLE_SUBJECT)
            if _user(request) == VIEWER
            else mint(self.console.admin, "admin", CONSOLE_SUBJECT),
            CONSOLE_PATH,
            secure=False,  # the sandbox is plain HTTP on loopback, as the console sees its requests
        )
        return response
