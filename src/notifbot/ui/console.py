"""The operations console at /ui: sign-in, the pages of `pages.py` behind it, and the actions (POSTs) they offer.

Every POST passes the same-origin check (`guard.cross_site`), then needs a session (401) with its CSRF token (403)
and, for actions that change something, the admin role (403). Every answer carries the security headers, and on a
loopback bind only a loopback Host is served (`guard.BrowserGuard`).
"""

from __future__ import annotations

import logging
import mimetypes
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from importlib.resources import files
from urllib.parse import parse_qsl

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from notifbot.chatops.slack_wiring import slack_interactive
from notifbot.config import Env, Settings
from notifbot.config.preview import Preview, preview
from notifbot.iso_time import parse_time
from notifbot.metrics import Metrics
from notifbot.net import is_loopback
from notifbot.render.html import STATIC_DIR as CHAT_STATIC_DIR
from notifbot.store.runner import Database
from notifbot.ui.auth import COOKIE, Keys, LoginLimiter, Role, Session, clear_session, set_session
from notifbot.ui.guard import BrowserGuard, clear_text_off_loopback, cross_site, own_origin
from notifbot.ui.pages import PAGES, Page, PageError, View
from notifbot.ui.queries import requeue_dead

log = logging.getLogger("notifbot.ui")

Wake = Callable[[Iterable[tuple[str, str]]], None]  # (dest_type, target) channels with rows due now
Handler = Callable[[Request], Awaitable[Response]]
Action = Callable[[Request, Session], Awaitable[Response]]
MAX_FORM_BYTES = 16 * 1024
MAX_ROW_ID = 2**63 - 1  # the stores' integer ids; a larger one in a URL names no row
CLEAR_TEXT = (
    "This console was reached over plain HTTP from another machine, so a token typed here would cross the network "
    "in clear. Put a reverse proxy that terminates TLS (HTTPS) in front of notifbot and set server.proxy_headers so "
    "notifbot sees the original scheme, or reach the console through an SSH tunnel to loopback."
)


def templates() -> jinja2.Environment:
    """The console's own Jinja2 environment (autoescaped, strict): never the sandboxed one of admins' templates."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("notifbot.ui", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = utc
    return env


def utc(at: float | str | None) -> str:
    """A time as the console shows it: `2026-12-01 14:05:09 UTC` (from epoch seconds or ISO 8601); "" for none."""
    when = datetime.fromtimestamp(at, UTC) if isinstance(at, int | float) else parse_time(at)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if when is not None else ""


def static_files() -> dict[str, tuple[bytes, str]]:
    """The stylesheets (and any other file of ui/static, plus the message views' chat.css), read once."""
    found: dict[str, tuple[bytes, str]] = {}
    for entry in [*files("notifbot.ui").joinpath("static").iterdir(), CHAT_STATIC_DIR / "chat.css"]:
        media = mimetypes.guess_type(entry.name)[0] or "application/octet-stream"
        found[entry.name] = (
            entry.read_bytes(),
            f"{media}; charset=utf-8" if media.startswith("text/") else media,
        )
    return found


async def form_of(request: Request) -> dict[str, str]:
    """A small urlencoded form's fields (the last of each name); empty for anything else."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return {}
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    try:
        return dict(parse_qsl(body.decode("utf-8", "replace"), max_num_fields=32))
    except ValueError:
        return {}


def client_of(request: Request) -> str:
    """The client's address (a trusted proxy's X-Forwarded-For already applied by the server)."""
    return request.client.host if request.client else ""


class Console:
    """The console's routes over one store, with its keys, its login limit and the delivery wake-up."""

    def __init__(
        self,
        keys: Keys,
        db: Database,
        wake: Wake,
        metrics: Metrics,
        *,
        clock: Callable[[], float] = time.time,
        limiter: LoginLimiter | None = None,
        preview: Preview | None = None,
    ) -> None:
        self.keys, self.db, self.wake, self.metrics, self.clock = keys, db, wake, metrics, clock
        self.preview = preview  # the chat messages as the bot renders them (the notification page)
        self.limiter = limiter or LoginLimiter()
        self.templates = templates()
        self.static = static_files()
        self.nav = [(p.path, p.title) for p in PAGES if p.nav]

    def routes(self) -> list[Route]:
        """The console's routes, relative to where it is mounted."""
        return [
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.action(self.logout), methods=["POST"]),
            Route("/outbox/{row:int}/retry", self.action(self.retry, "admin"), methods=["POST"]),
            Route("/static/{name}", self.static_file, methods=["GET"]),
            *(Route(page.path, self.page(page), methods=["GET"]) for page in PAGES),
        ]

    # -- rendering

    def render(
        self,
        request: Request,
        template: str,
        title: str,
        session: Session | None,
        values: Mapping[str, object],
        *,
        status: int = 200,
        current: str | None = None,
    ) -> HTMLResponse:
        """A page from `template`, with what base.html needs: where the console is, who is signed in, the CSRF."""
        html = self.templates.get_template(template).render(
            {
                **values,
                "base": base_of(request),
                "title": title,
                "session": session,
                "csrf": self.keys.csrf(session) if session else "",
                "nav": self.nav if session else [],
                "current": current,
            }
        )
        return HTMLResponse(html, status_code=status)

    def refuse(
        self, request: Request, status: int, message: str, session: Session | None = None
    ) -> HTMLResponse:
        """An error page that says what happened and what to do."""
        title = {401: "Sign in first", 403: "Not allowed", 404: "Not found", 429: "Too many attempts"}.get(
            status, "Refused"
        )
        return self.render(request, "error.html", title, session, {"message": message}, status=status)

    def sign_in(
        self, request: Request, status: int = 200, *, refused: str | None = None, error: str | None = None
    ) -> HTMLResponse:
        """The sign-in form (with `error`), or only why signing in is refused here."""
        values = {"refused": refused, "error": error}
        return self.render(request, "login.html", "Sign in", None, values, status=status)

    # -- pages and actions

    def session_of(self, request: Request) -> Session | None:
        """The request's valid session, if its cookie carries one."""
        return self.keys.verify(request.cookies.get(COOKIE), self.clock())

    def page(self, page: Page) -> Handler:
        """A GET endpoint for `page`: its context rendered into its template, or 303 to the sign-in."""

        async def endpoint(request: Request) -> Response:
            session = self.session_of(request)
            if session is None:
                return RedirectResponse(f"{base_of(request)}/login", status_code=303)
            view = View(
                self.db, request.query_params, request.path_params, session, self.clock(), self.preview
            )
            try:
                values = await page.context(view)
            except PageError as e:
                return self.refuse(request, e.status, e.message, session)
            return self.render(request, page.template, page.title, session, values, current=page.path)

        return endpoint

    def action(self, act: Action, role: Role | None = None) -> Handler:
        """A POST endpoint: same origin (403), a session (401), its CSRF token (403), `role` if given (403)."""

        async def endpoint(request: Request) -> Response:
            refused = self.cross_site(request)
            if refused is not None:
                return refused
            session = self.session_of(request)
            if session is None:
                return self.refuse(
                    request, 401, "Your session has ended or was never started: sign in again."
                )
            form = await form_of(request)
            if not self.keys.csrf_ok(session, form.get("csrf")):
                log.warning("console form refused: no valid CSRF token", extra={"client": client_of(request)})
                return self.refuse(
                    request, 403, "This form is stale or did not come from the console.", session
                )
            if role is not None and session.role != role:
                message = f"This needs the {role} role; you are signed in as {session.role}."
                return self.refuse(request, 403, message, session)
            return await act(request, session)

        return endpoint

    def cross_site(self, request: Request) -> Response | None:
        """403 for a POST that did not come from the console's own pages (Origin, Referer, Sec-Fetch-Site)."""
        reason = cross_site(request.headers, own_origin(request.url.scheme, request.headers.get("host")))
        if reason is None:
            return None
        log.warning(
            "console POST refused: %s", reason, extra={"client": client_of(request), "path": request.url.path}
        )
        return self.refuse(request, 403, "This request did not come from the console's own pages.")

    async def login_form(self, request: Request) -> Response:
        """The sign-in form; only the reason when a token would cross the network in clear."""
        if clear_text_off_loopback(request.url.scheme, client_of(request)):
            return self.sign_in(request, 403, refused=CLEAR_TEXT)
        return self.sign_in(request)

    async def login(self, request: Request) -> Response:
        """Token → session cookie; failures are counted per client address (5 a minute, then 429)."""
        refused = self.cross_site(request)
        if refused is not None:
            return refused
        client = client_of(request)
        if clear_text_off_loopback(request.url.scheme, client):
            return self.sign_in(request, 403, refused=CLEAR_TEXT)
        wait = self.limiter.retry_after(client)
        if wait:
            page = self.refuse(
                request, 429, f"Too many failed sign-ins from your address: try again in {wait} s."
            )
            page.headers["Retry-After"] = str(wait)
            return page
        role = self.keys.role_of((await form_of(request)).get("token", ""))
        if role is None:
            self.limiter.failed(client)
            log.warning("console sign-in refused", extra={"client": client})
            error = "That is not a console token."
            return self.sign_in(request, 401, error=error)
        log.info("console sign-in", extra={"role": role, "client": client})
        response = RedirectResponse(f"{base_of(request)}/", status_code=303)
        set_session(
            response,
            self.keys.mint(role, "console token", self.clock()),
            base_of(request) or "/",
            request.url.scheme == "https",
        )
        return response

    async def logout(self, request: Request, session: Session) -> Response:
        """Clears the cookie (the session itself stays valid until it expires: it is stateless)."""
        response = RedirectResponse(f"{base_of(request)}/login", status_code=303)
        clear_session(response, base_of(request) or "/", request.url.scheme == "https")
        return response

    async def retry(self, request: Request, session: Session) -> Response:
        """Requeues a dead row and wakes its channel's delivery (here, and on other replicas via PostgreSQL)."""
        row = int(request.path_params["row"])
        done = await self.db.call(requeue_dead, row, self.clock()) if row <= MAX_ROW_ID else None
        if done is None:
            return RedirectResponse(f"{base_of(request)}/outbox?missing={row}", status_code=303)
        self.wake([(done.dest_type, done.target)])
        self.metrics.console_actions.labels("retry").inc()
        log.info(
            "outbox row requeued",
            extra={
                "outbox_id": row,
                "destination": done.destination,
                "role": session.role,
                "client": client_of(request),
            },
        )
        return RedirectResponse(f"{base_of(request)}/outbox?requeued={row}", status_code=303)

    async def static_file(self, request: Request) -> Response:
        """A stylesheet, public: the sign-in page needs it too."""
        found = self.static.get(request.path_params["name"])
        if found is None:
            return Response("not found\n", status_code=404, media_type="text/plain")
        return Response(found[0], media_type=found[1])


def base_of(request: Request) -> str:
    """Where the console is mounted (`/ui`), for links, redirects and the cookie's path."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def build_console(
    settings: Settings,
    env: Env,
    database: Database,
    wake: Wake,
    metrics: Metrics,
    *,
    clock: Callable[[], float] = time.time,
) -> ASGIApp:
    """The console app (mounted at /ui by web.py); on a loopback bind without proxy headers, loopback Hosts only."""
    keys = Keys(env.console_token or "", env.console_viewer_token)
    rendering = preview(settings, interactive=slack_interactive(settings, env))
    console = Console(keys, database, wake, metrics, clock=clock, preview=rendering)
    server = settings.server
    # behind a proxy the Host is the public name; without one, a loopback bind is only addressed as loopback
    loopback_only = is_loopback(server.host) and not server.proxy_headers
    return BrowserGuard(Starlette(routes=console.routes()), loopback_only=loopback_only)
