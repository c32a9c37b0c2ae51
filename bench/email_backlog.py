"""E-mail backlog benchmark (issue #12): 10,000 e-mails waiting in a real Dovecot, drained by `notifbot serve`.

    .venv/bin/python bench/email_backlog.py                 # 10,000 e-mails (about a minute)
    .venv/bin/python bench/email_backlog.py --emails 1000   # a quick run

The mailbox is filled before the bot starts (IMAP MULTIAPPEND over a few connections, not timed) with copies of the
synthetic fixtures in tests/data/email/ (every kind, English and Swedish), each with its own Message-ID. Then the bot
starts as a subprocess with one mailbox on that server (implicit TLS, IDLE) routed to one channel of the fake Slack
(1 msg/s, as in production), and the clock runs from spawning it until every e-mail is a committed event in the
store and no e-mail is left in the INBOX (all moved to the processed folder). Peak RSS is the bot's VmHWM from
/proc. Targets: >= 200 e-mails/s on this 2-core machine, peak RSS <= 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.ingest import notifbot_server, slack_env, temp_workdir  # noqa: E402

FIXTURES = REPO / "tests" / "data" / "email"
RATE_TARGET = 200.0  # e-mails/s
RSS_TARGET_BYTES = 200 * 1000 * 1000  # "RSS <= 200 MB"
MIB = 1024 * 1024
PROCESSED = "notifbot.processed"  # the default notifbot/processed in Dovecot's "." hierarchy delimiter
FILL_CONNECTIONS = 4
FILL_CHUNK = 250  # messages per MULTIAPPEND
_MESSAGE_ID = re.compile(rb"^Message-ID: <([^>]*)>\r?$", re.M | re.I)


def fixture_mails() -> list[tuple[str, bytes]]:
    """(name, raw bytes) of every .eml fixture, by name."""
    return [(p.stem, p.read_bytes()) for p in sorted(FIXTURES.glob("*.eml"))]


def backlog(n: int, run: str) -> list[bytes]:
    """`n` raw e-mails cycling through the fixtures, each with a Message-ID unique to this run and position."""
    out: list[bytes] = []
    fixtures = fixture_mails()
    for i in range(n):
        name, raw = fixtures[i % len(fixtures)]
        msgid = f"<bench-{run}-{i:06d}-{name}@synthetic.example>".encode()
        new, count = _MESSAGE_ID.subn(b"Message-ID: " + msgid, raw, count=1)  # no backslash in msgid
        out.append(new if count else b"Message-ID: " + msgid + b"\r\n" + raw)
    return [m.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") for m in out]


def fill(server: Any, user: Any, mails: list[bytes]) -> float:
    """APPENDs `mails` to the INBOX (MULTIAPPEND chunks over FILL_CONNECTIONS sessions); returns the seconds taken."""
    chunks = [mails[i : i + FILL_CHUNK] for i in range(0, len(mails), FILL_CHUNK)]
    errors: list[BaseException] = []

    def worker(part: list[list[bytes]]) -> None:
        try:
            with server.session(user) as c:
                for chunk in part:
                    c.multiappend("INBOX", chunk)
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    started = time.monotonic()
    threads = [
        threading.Thread(target=worker, args=(chunks[k::FILL_CONNECTIONS],)) for k in range(FILL_CONNECTIONS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"filling the mailbox failed: {errors[0]!r}")
    return time.monotonic() - started


def bot_config(workdir: Path, server: Any, user: Any) -> dict[str, Any]:
    """One mailbox on the Dovecot (implicit TLS), everything routed to one fake-Slack channel."""
    imap = {
        "host": "127.0.0.1",
        "port": server.tls_port,
        "security": "tls",
        "username": user.username,
        "password": user.password,
        "ca_file": str(server.cert),
    }
    return {
        "storage": {"path": str(workdir / "email-backlog.db")},
        "email": {"mailboxes": [{"name": "alerts", "imap": imap, "instance": "123-ABC-456"}]},
        "slack": {"interactive": False},
        "destinations": {"ops": {"type": "slack", "channel": "C-BENCH"}},
        "routes": [{"to": "ops"}],
    }


def stored_emails(db: Path) -> int:
    """E-mail events committed in the store (read-only beside the server; 0 before the schema exists)."""
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:
        return 0
    try:
        return int(conn.execute("SELECT count(*) FROM events WHERE source = 'email'").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def stored_kinds(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        rows = conn.execute(
            "SELECT kind, count(*) FROM events WHERE source = 'email' GROUP BY kind"
        ).fetchall()
        return {str(k): int(c) for k, c in rows}
    finally:
        conn.close()


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of `pid` in bytes (empty once it has exited)."""
    out: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) * 1024
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` so far (all threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime, stime in clock ticks (USER_HZ 100 on Linux)


@dataclass
class Drain:
    """What the watcher saw while the bot drained the backlog."""

    seconds: float = 0.0
    first_commit_s: float | None = None
    rss_samples_mb: list[float] | None = None
    hwm_bytes: int = 0
    cpu_s: float = 0.0
    stored: int = 0
    inbox_left: int = -1
    processed: int = -1


def watch(pid: int, db: Path, server: Any, user: Any, n: int, started: float, timeout: float) -> Drain:
    """Samples the bot's RSS and the store every 50 ms until all `n` are stored and moved (or `timeout`)."""
    d = Drain(rss_samples_mb=[])
    assert d.rss_samples_mb is not None
    with server.session(user) as imap:
        while True:
            now = time.monotonic() - started
            status = proc_status(pid)
            if "VmRSS" in status:
                d.rss_samples_mb.append(status["VmRSS"] / 1e6)
                d.hwm_bytes = max(d.hwm_bytes, status["VmHWM"])
            d.stored = stored_emails(db)
            if d.stored and d.first_commit_s is None:
                d.first_commit_s = now
            if d.stored >= n:
                inbox = imap.folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"]
                done = imap.folder_exists(PROCESSED)
                processed = imap.folder_status(PROCESSED, ["MESSAGES"])[b"MESSAGES"] if done else 0
                d.inbox_left, d.processed = int(inbox), int(processed)
                if d.inbox_left == 0 and d.processed >= n:
                    d.seconds = time.monotonic() - started
                    break
            if now > timeout:
                d.seconds = now
                break
            time.sleep(0.05)
    d.cpu_s = cpu_seconds(pid)
    d.hwm_bytes = max(d.hwm_bytes, proc_status(pid).get("VmHWM", 0))
    return d


def run_email_backlog(*, workdir: Path, emails: int, timeout: float = 600.0) -> dict[str, Any]:
    """Fills a fresh Dovecot with `emails` e-mails, then times `notifbot serve` draining them; the results dict."""
    from tests.integration.email_support import DOVECOT, INSTALL_HINT, Dovecot

    if not Path(DOVECOT).is_file():
        raise RuntimeError(f"Dovecot is not installed ({DOVECOT} missing): {INSTALL_HINT} (as root)")
    # bench/run.py pins itself to the load generator's CPU: Dovecot and the bot get every CPU, as in production
    pinned = os.sched_getaffinity(0)
    os.sched_setaffinity(0, range(os.cpu_count() or 1))
    try:
        return _run(workdir, emails, timeout, Dovecot)
    finally:
        os.sched_setaffinity(0, pinned)


def _run(workdir: Path, emails: int, timeout: float, dovecot: Any) -> dict[str, Any]:
    server = dovecot(users=1)
    try:
        user = server.add_user()
        mails = backlog(emails, run=f"{time.time_ns():x}")
        fill_s = fill(server, user, mails)
        with server.session(user) as c:
            filled = int(c.folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"])
        if filled != emails:
            raise RuntimeError(f"the INBOX holds {filled} e-mails after the fill, not {emails}")
        cfg = bot_config(workdir, server, user)
        with slack_env(workdir / "slack") as env:
            bot = notifbot_server("email-backlog", workdir, cfg, cpu=None, env=env)
            started = time.monotonic()
            bot.start()
            try:
                drain = watch(bot.pid, workdir / "email-backlog.db", server, user, emails, started, timeout)
            finally:
                code = bot.stop()
        kinds = stored_kinds(workdir / "email-backlog.db")
    finally:
        server.stop()
    samples = drain.rss_samples_mb or [0.0]
    steady = None
    if drain.first_commit_s is not None and drain.seconds > drain.first_commit_s:
        steady = emails / (drain.seconds - drain.first_commit_s)
    rate = emails / drain.seconds if drain.seconds else 0.0
    complete = drain.stored == emails and drain.inbox_left == 0 and drain.processed == emails
    return {
        "emails": emails,
        "fixtures": len(fixture_mails()),
        "mail_bytes": sum(len(m) for m in mails),
        "fill_s": round(fill_s, 2),
        "seconds": round(drain.seconds, 2),
        "first_commit_s": round(drain.first_commit_s, 2) if drain.first_commit_s is not None else None,
        "emails_per_s": round(rate, 1),
        "steady_emails_per_s": round(steady, 1) if steady is not None else None,
        "peak_rss_mb": round(drain.hwm_bytes / 1e6, 1),
        "rss_max_sampled_mb": round(max(samples), 1),
        "rss_first_mb": round(samples[0], 1),
        "rss_last_mb": round(samples[-1], 1),
        "bot_cpu_s": round(drain.cpu_s, 2),
        "stored": drain.stored,
        "inbox_left": drain.inbox_left,
        "processed": drain.processed,
        "kinds": dict(sorted(Counter(kinds).items())),
        "exit_code": code,
        "complete": complete,
        "pass": complete and rate >= RATE_TARGET and drain.hwm_bytes <= RSS_TARGET_BYTES,
    }


def table_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, value, target, verdict) rows in bench/run.py's table."""
    ok = "PASS" if r["complete"] else "FAIL"
    steady = r["steady_emails_per_s"]
    return [
        (
            f"e-mail backlog: {r['emails']:,} e-mails in Dovecot (IMAP/TLS) -> store + processed folder",
            f"{r['seconds']:.1f} s = {r['emails_per_s']:,.0f} e-mails/s from spawn"
            + (f" ({steady:,.0f}/s after the first commit)" if steady else "")
            + f"  stored {r['stored']:,}  left in INBOX {r['inbox_left']}",
            f">= {RATE_TARGET:.0f} e-mails/s",
            ok if r["emails_per_s"] >= RATE_TARGET else "FAIL",
        ),
        (
            "  e-mail backlog: bot peak RSS (VmHWM)",
            f"{r['peak_rss_mb']:.1f} MB (VmRSS first sample {r['rss_first_mb']:.1f}, last {r['rss_last_mb']:.1f})",
            "<= 200 MB",
            "PASS" if r["peak_rss_mb"] * 1e6 <= RSS_TARGET_BYTES else "FAIL",
        ),
    ]


def print_result(r: dict[str, Any]) -> None:
    print(
        f"load: {r['emails']:,} e-mails ({r['mail_bytes'] / MIB:.1f} MiB) cycling through {r['fixtures']} fixtures "
        f"of tests/data/email, unique Message-IDs, appended in {r['fill_s']:.1f} s (not timed); one mailbox over "
        "implicit TLS to a local Dovecot, routed to one fake-Slack channel at 1 msg/s"
    )
    head = ("e-mails", "seconds", "e-mails/s", "peak RSS MB", "bot CPU s", "complete")
    steady = r["steady_emails_per_s"]
    row = (
        f"{r['emails']:,}",
        f"{r['seconds']:.1f}",
        f"{r['emails_per_s']:,.0f}" + (f" ({steady:,.0f} after 1st commit)" if steady else ""),
        f"{r['peak_rss_mb']:.1f}",
        f"{r['bot_cpu_s']:.1f}",
        "yes" if r["complete"] else f"NO (stored {r['stored']}, INBOX {r['inbox_left']})",
    )
    w = [max(len(a), len(b)) for a, b in zip(head, row, strict=True)]
    print(" | ".join(h.ljust(x) for h, x in zip(head, w, strict=True)))
    print("-+-".join("-" * x for x in w))
    print(" | ".join(c.ljust(x) for c, x in zip(row, w, strict=True)))
    print(f"kinds stored: {r['kinds']}")
    print(
        f"targets: >= {RATE_TARGET:.0f} e-mails/s, peak RSS <= {RSS_TARGET_BYTES / 1e6:.0f} MB: "
        f"{'PASS' if r['pass'] else 'FAIL'}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench/email_backlog.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--emails", type=int, default=10_000, help="backlog size (default 10,000)")
    ap.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (database, logs)")
    ap.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = ap.parse_args(argv)
    workdir = temp_workdir()
    try:
        r = run_email_backlog(workdir=workdir, emails=args.emails, timeout=args.timeout)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print_result(r)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(r, indent=2) + "\n")
    return 0 if r["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
