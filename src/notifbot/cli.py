"""The `notifbot` command line (docs/reference.md §Command line)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from notifbot import __version__, cli_store
from notifbot.config import Settings, check_settings, load_settings
from notifbot.config.checks import environment_problems
from notifbot.config.env import Env, settings_secrets
from notifbot.errors import ConfigError, InputError

if TYPE_CHECKING:
    from notifbot.kinds.mail import EmailRule
    from notifbot.model import Kind

DEFAULT_URL = "http://127.0.0.1:8080"


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config, os.environ)


def cmd_serve(args: argparse.Namespace) -> int:
    from notifbot.logs import setup_logging
    from notifbot.serving import serve

    try:
        settings = _settings(args)
    except ConfigError:  # the environment's problems too, in the same list: one pass, as check-config
        raise ConfigError(check_settings(args.config, os.environ)[1]) from None
    if args.host:
        settings.server.host = args.host
    if args.port is not None:
        settings.server.port = args.port
    if args.proxy_headers:
        settings.server.proxy_headers = True
    if args.forwarded_allow_ips:
        settings.server.forwarded_allow_ips = [ip.strip() for ip in args.forwarded_allow_ips.split(",")]
    env = Env(os.environ)
    problems = environment_problems(settings, env)
    if problems:
        raise ConfigError(problems)
    setup_logging(env.secrets() + settings_secrets(settings), log_format=args.log_format)
    loop_factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings uvloop on Linux and macOS
        pass
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(serve(settings, env))


def cmd_sandbox(args: argparse.Namespace) -> int:
    from notifbot.logs import setup_logging
    from notifbot.sandbox.run import Options, SandboxError, run

    options = Options(
        config=args.config,
        host=args.host,
        port=args.port,
        db=args.db,
        open_browser=args.open,
        marketo=args.marketo,
    )
    setup_logging(Env(os.environ).secrets(), log_format=args.log_format)
    try:
        with asyncio.Runner() as runner:
            return runner.run(run(options, os.environ, sys.stdout))
    except SandboxError as exc:
        print(f"notifbot sandbox: {exc}", file=sys.stderr)
        return 1


def cmd_check_config(args: argparse.Namespace) -> int:
    settings, problems = check_settings(args.config, os.environ)
    for problem in problems:
        print(problem)
    if settings is None:
        return 1
    print(
        f"ok: {settings.source} — {len(settings.destinations)} destinations, {len(settings.routes)} routes",
        file=sys.stderr,
    )
    return 0


def _pairs(values: Sequence[str], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--{what} expects key=value, got {item!r}")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def cmd_routes_test(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from notifbot.digests import DigestPolicy, period_of
    from notifbot.durations import format_duration
    from notifbot.routing import group_key, targets
    from notifbot.sources.events import parse_event

    settings = _settings(args)
    event: dict[str, Any] = {"kind": args.kind, "fields": _pairs(args.field, "field")}
    event["labels"] = {k: str(v) for k, v in _pairs(args.label, "label").items()}
    if args.severity:
        event["severity"] = args.severity
    if args.instance:
        event["instance"] = args.instance
    n = parse_event(event, now=datetime.now(UTC))
    for target in targets(n, settings.routes, settings.delivery.repeat_window):
        print(target.destination)
        if target.group is not None:
            print(f"  group {group_key(n, target.group.by)}  ({target.group.describe})")
        elif target.digest is not None:
            d = target.digest
            end = period_of(DigestPolicy(d.every, d.at, d.timezone), datetime.now(UTC)).end
            local = end.astimezone(ZoneInfo(d.timezone))
            print(f"  digest every {format_duration(d.every)} at {d.at:%H:%M} {d.timezone}")
            print(f"  in the period ending {local:%Y-%m-%d %H:%M %Z} ({end:%Y-%m-%d %H:%M} UTC)")
        else:
            print("  one message per event")
    return 0


def _load_event(args: argparse.Namespace) -> dict[str, Any]:
    from notifbot.kinds import sample_for_kind

    if args.event:
        data: dict[str, Any] = json.loads(Path(args.event).read_text(encoding="utf-8"))
        return data
    if not args.kind:
        raise InputError("give --kind KIND (a sample is used) or --event FILE")
    return sample_for_kind(args.kind)


def cmd_render(args: argparse.Namespace) -> int:
    from notifbot.config.preview import preview
    from notifbot.i18n import available, zone_for
    from notifbot.sources.events import parse_event

    n = parse_event(_load_event(args), now=datetime.now(UTC))
    settings = _settings(args)
    locale = args.locale or settings.locale
    if locale not in available():
        raise InputError(f"--locale: no catalog for {locale!r} (known: {', '.join(sorted(available()))})")
    timezone = args.timezone or settings.timezone
    if timezone is not None and zone_for(timezone) is None:
        raise InputError(f"--timezone: {timezone!r} is not an IANA time zone (e.g. Europe/Stockholm)")
    # as the running bot's senders render: the config's templates and Marketo hosts; the bot adds Acknowledge and
    # Mute when slack.interactive is on (serve refuses to start with Slack unless the app can receive the clicks:
    # app.slack_interactive); --[no-]interactive previews either way
    post = preview(settings, locale=locale, timezone=timezone, interactive=args.interactive)
    message = post.teams(n) if args.format == "teams" else post.slack(n)
    print(json.dumps(message, indent=2, ensure_ascii=False))
    return 0


def _post(url: str, body: bytes) -> tuple[int, str]:
    import httpx

    headers = {"Content-Type": "application/json"}
    token = os.environ.get("NOTIFBOT_WEBHOOK_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=10.0)
    except httpx.HTTPError as exc:
        return 0, f"cannot reach {url}: {exc} (is `notifbot serve` running?)"
    return response.status_code, response.text


def _hooks_url(base: str) -> str:
    return base if base.rstrip("/").endswith("/hooks/events") else base.rstrip("/") + "/hooks/events"


def cmd_send(args: argparse.Namespace) -> int:
    body = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    status, text = _post(_hooks_url(args.url), body)
    print(text.strip())
    return 0 if status == 202 else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from notifbot.kinds import load_samples

    failures = 0
    for name, event in load_samples().items():
        event = dict(event, id=f"demo-{name}-{int(time.time())}")
        status, text = _post(_hooks_url(args.url), json.dumps(event).encode())
        ok = status == 202
        failures += not ok
        print(f"{'sent' if ok else 'FAILED':6} {name:28} {'' if ok else text.strip()}")
    return 1 if failures else 0


def cmd_teams_login(args: argparse.Namespace) -> int:
    from notifbot.config.checks import TEAMS_EXTRA_INSTALL, teams_extra_installed

    settings = _settings(args)
    if not teams_extra_installed():
        print(f"teams login: install the Teams extra first: {TEAMS_EXTRA_INSTALL}", file=sys.stderr)
        return 1
    from notifbot.teams.auth import login

    def prompt(url: str, code: str, expires: datetime) -> None:
        print(
            f"Sign in as the Teams service account: open {url} and enter the code {code} "
            f"(valid until {expires.astimezone(UTC):%H:%M} UTC).",
            flush=True,
        )

    try:
        user = login(settings.teams, prompt, mail=any(m.graph is not None for m in settings.email.mailboxes))
    except ConfigError:
        raise
    except Exception as exc:  # azure-identity raises ClientAuthenticationError and friends
        print(f"teams login failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(
        f"Signed in as {user}. The token cache '{settings.teams.cache_name}' and the account record "
        f"{settings.teams.auth_record} are saved; `notifbot serve` signs in silently from now on."
    )
    return 0


def _classified(path: str, instance: str | None, rules: Sequence[tuple[Kind, EmailRule]] = ()) -> str:
    from notifbot.render.console import render_console
    from notifbot.render.slack import render_slack
    from notifbot.sources.email.message import MailMeta, handle

    raw = Path(path).read_bytes()
    n = handle(raw, MailMeta(mailbox="(file)", instance=instance), rules=rules)
    shown = {k: v for k, v in n.fields.items() if k not in ("text", "mailbox")}
    text = n.fields.get("text")
    lines = [f"== {path}", f"kind: {n.kind.value}", f"instance: {n.instance or '(none)'}", "fields:"]
    lines += [
        "  " + line for line in json.dumps(shown, indent=2, ensure_ascii=False, default=str).splitlines()
    ]
    lines.append(f"text: {len(text):,} characters" if isinstance(text, str) else "text: (none)")
    lines += ["message:", render_console(render_slack(n))]
    return "\n".join(lines)


def cmd_email_classify(args: argparse.Namespace) -> int:
    # the config's own rules only when one is named: a stray ./notifbot.yaml does not change what is shown
    rules = _settings(args).email.compiled_rules() if args.config else ()
    failed = 0
    for path in args.files:
        try:
            print(_classified(path, args.instance, rules), end="\n\n")
        except OSError as exc:
            failed += 1
            print(f"notifbot: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with help for every command."""
    p = argparse.ArgumentParser(
        prog="notifbot",
        description="Routes Adobe Marketo Engage system notifications to Slack and Microsoft Teams channels.",
        epilog="Config: --config, else $NOTIFBOT_CONFIG, else ./notifbot.yaml, else the embedded default "
        "(SQLite at var/notifbot.db, every notification printed to the console). "
        "$NOTIFBOT_DATABASE_URL (postgresql://user@host/db) selects a PostgreSQL store over storage.url and "
        "storage.path.",
    )
    p.add_argument("--version", action="version", version=f"notifbot {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(sp: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sp.add_argument("--config", metavar="PATH", help="YAML config file")
        return sp

    s = with_config(
        sub.add_parser(
            "serve",
            help="run the HTTP endpoints, the Marketo, Adobe I/O and mailbox pollers and delivery until SIGINT/SIGTERM",
            description="Runs the bot until SIGINT/SIGTERM. The store is SQLite at storage.path, or PostgreSQL at "
            "storage.url or $NOTIFBOT_DATABASE_URL (which wins; the password is never logged).",
        )
    )
    s.add_argument("--host", help="listen address (default from config: 127.0.0.1)")
    s.add_argument("--port", type=int, help="listen port (default from config: 8080)")
    s.add_argument(
        "--proxy-headers",
        action="store_true",
        help="behind a reverse proxy: take the client address from X-Forwarded-For (needs NOTIFBOT_WEBHOOK_TOKEN)",
    )
    s.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="comma-separated proxy addresses or networks whose X-Forwarded-For is trusted "
        "(default: $FORWARDED_ALLOW_IPS, else loopback; needs NOTIFBOT_WEBHOOK_TOKEN)",
    )
    s.add_argument(
        "--log-format", choices=["auto", "json", "text"], default="auto", help="default: text on a terminal"
    )
    s.set_defaults(func=cmd_serve)

    s = with_config(
        sub.add_parser(
            "sandbox",
            help="try the bot locally: a page showing each channel as Slack and Teams show it, with working "
            "buttons and /marketo",
            description="Runs the bot on your configuration (--config, else as `serve` finds one, else the embedded "
            "default) beside a chat server on loopback that plays Slack and Teams: every Slack destination posts to "
            "it, with a Teams twin on the same routes, and each channel shows on one page, live. Its buttons and the "
            '/marketo box send the bot the signed requests Slack sends; "Send a sample" posts a bundled event to '
            "/hooks/events. Nothing leaves this machine: your Marketo, Adobe I/O and mailbox sources are left out "
            "(--marketo adds a fake instance), the database is a temporary file unless --db. Ctrl-C stops both "
            "servers.",
            epilog="The page needs no login: it listens on loopback only and answers only its own page "
            "(Host and Origin checks).",
        )
    )
    s.add_argument(
        "--host",
        default="127.0.0.1",
        type=_loopback,
        help="the page's address: 127.0.0.1 (default), ::1 or localhost only",
    )
    s.add_argument(
        "--port", type=int, default=8090, help="the page's port (default 8090); the bot takes a free one"
    )
    s.add_argument(
        "--db",
        metavar="PATH",
        help="keep the bot's SQLite database in PATH (default: a temporary file, deleted at exit)",
    )
    s.add_argument(
        "--marketo",
        action="store_true",
        help="also run a fake Marketo instance (000-SBX-001) telling a day's story, which the bot's pollers read: "
        "/marketo quota and stale-triggers answer from it (its usage crosses the first quota threshold "
        "mid-afternoon US Central)",
    )
    s.add_argument("--open", action="store_true", help="open the page in your web browser once it is up")
    s.add_argument(
        "--log-format", choices=["auto", "json", "text"], default="auto", help="default: text on a terminal"
    )
    s.set_defaults(func=cmd_sandbox)

    s = with_config(
        sub.add_parser("check-config", help="validate config and environment; exit 1 on problems")
    )
    s.set_defaults(func=cmd_check_config)

    routes = sub.add_parser("routes", help="inspect routing").add_subparsers(dest="action", required=True)
    s = with_config(
        routes.add_parser(
            "test",
            help="print the destinations an event would reach, each with its group key or digest period",
        )
    )
    s.add_argument("--kind", required=True)
    s.add_argument("--field", action="append", default=[], metavar="K=V")
    s.add_argument("--label", action="append", default=[], metavar="K=V")
    s.add_argument("--severity", choices=["critical", "warning", "info"])
    s.add_argument("--instance", metavar="MUNCHKIN_ID")
    s.set_defaults(func=cmd_routes_test)

    s = with_config(
        sub.add_parser(
            "render",
            help="print the message JSON for a sample (or given) event, exactly as the configured bot posts it",
        )
    )
    s.add_argument("--kind", help="use the built-in sample of this kind")
    s.add_argument("--format", choices=["slack", "teams"], default="slack")
    s.add_argument("--event", metavar="FILE", help="render this event JSON file instead of a sample")
    s.add_argument("--locale", help="the language to render in (default: the config's locale)")
    s.add_argument("--timezone", metavar="ZONE", help="the IANA time zone of times (default: the config's)")
    s.add_argument(
        "--interactive",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with (or without) the Acknowledge and Mute buttons of a Slack app that receives clicks "
        "(default: the config's slack.interactive, on in the embedded default); Teams cards have no such buttons",
    )
    s.set_defaults(func=cmd_render)

    s = sub.add_parser("send", help="post an event file to a running bot (token from NOTIFBOT_WEBHOOK_TOKEN)")
    s.add_argument("file", metavar="FILE", help="event JSON file, or - for stdin")
    s.add_argument("--url", default=DEFAULT_URL, help=f"bot base URL (default {DEFAULT_URL})")
    s.set_defaults(func=cmd_send)

    s = sub.add_parser("demo", help="post one sample of every kind to a running bot")
    s.add_argument("--url", default=DEFAULT_URL, help=f"bot base URL (default {DEFAULT_URL})")
    s.set_defaults(func=cmd_demo)

    s = with_config(sub.add_parser("outbox", help="show dead deliveries; re-queue them"))
    s.add_argument("action", choices=["list", "retry"])
    s.add_argument("id", nargs="?", help="for retry: a row ID from `outbox list`, or `all`")
    s.add_argument("--limit", type=int, default=50, help="rows to list (default 50)")
    s.set_defaults(func=cli_store.cmd_outbox)

    s = with_config(sub.add_parser("prune", help="delete what storage.retention no longer keeps"))
    s.add_argument("--dry-run", action="store_true", help="count what would be deleted, delete nothing")
    s.add_argument(
        "--vacuum",
        action="store_true",
        help="then rewrite the file so it shrinks after pruning from now on (bot stopped; needs its size free)",
    )
    s.set_defaults(func=cli_store.cmd_prune)

    s = with_config(sub.add_parser("backup", help="copy the SQLite database while the bot runs"))
    s.add_argument("path", metavar="PATH", help="the backup file to write")
    s.add_argument("--force", action="store_true", help="replace PATH if it exists")
    s.set_defaults(func=cli_store.cmd_backup)

    mail = sub.add_parser("email", help="Marketo notification e-mails").add_subparsers(
        dest="action", required=True
    )
    s = mail.add_parser(
        "classify",
        help="print the kind, fields and message of saved e-mails (.eml), to check the rules on your real mails",
        description="For each saved e-mail (.eml): the kind it classifies to, the fields extracted from its "
        "wording, and the message as it would be posted (console text). Exit 1 if a file cannot be read.",
    )
    s.add_argument("files", nargs="+", metavar="FILE", help="a saved e-mail (.eml, the raw message)")
    s.add_argument("--config", metavar="PATH", help="YAML config file whose email.rules are tried first")
    s.add_argument(
        "--instance", metavar="MUNCHKIN_ID", help="the mailbox's default instance (when no link names one)"
    )
    s.set_defaults(func=cmd_email_classify)

    teams = sub.add_parser("teams", help="Microsoft Teams set-up").add_subparsers(
        dest="action", required=True
    )
    with_config(
        teams.add_parser(
            "login", help="device-code sign-in of the Teams service account; the token cache is kept"
        )
    ).set_defaults(func=cmd_teams_login)
    return p


def _loopback(host: str) -> str:
    """`--host` of the sandbox: `sandbox.guard.require_loopback`'s rule, refused as a usage error."""
    from notifbot.sandbox.guard import require_loopback

    try:
        return require_loopback(host)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(exc.problems[0].removeprefix("--host: ")) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print("configuration problems (run `notifbot check-config`):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except InputError as exc:
        print(f"notifbot: {exc}", file=sys.stderr)
        for d in exc.details:
            print(f"  {d.loc}: {d.msg}", file=sys.stderr)
        return 2
    except (OSError, KeyError, ValueError) as exc:
        print(f"notifbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
