"""Slash-command ack latency: `/marketo …` over signed HTTP against a store of 100,000 notifications, while events
arrive at 200/s.

The database is pre-populated before the server starts (mixed kinds over 90 days, delivered / pending / dead outbox
rows, muted events, mutes, a week of quota samples and a few hundred trigger campaigns for three instances). Then
notifbot runs with the Slack app in HTTP mode (SLACK_SIGNING_SECRET) and one Slack destination at the fake Slack,
and two open-loop generators share one event loop: ingest at 200 events/s and signed slash commands at 10/s cycling
through the read-only subcommands. In HTTP mode the 200 answer to the command POST is Slack's ack, so a command's
latency runs from its scheduled send time to that response.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import sqlite3
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from bench.delivery import TOKEN, FakeSlackProcess
from bench.ingest import SERVER_CPU, notifbot_server, outbox_status

from bench import loadgen

SECRET = "bench-signing-secret-0123456789ab"
COMMAND = "/marketo"
COMMANDS = (
    "help",
    "status",
    "recent",
    "recent crm_sync 20",
    "quota",
    "stale-triggers 90",
    "mutes",
    "routes",
)
INSTANCES = ("123-ABC-456", "234-BCD-567", "345-CDE-678")
CHANNEL = "C01"
CENTRAL = ZoneInfo("America/Chicago")  # Marketo's daily API quota resets at midnight US Central

# kind -> share of the stored history (roughly what a busy instance's notification stream looks like)
KIND_MIX = {
    "campaign_failure": 28,
    "audit": 22,
    "crm_sync": 10,
    "web_services": 8,
    "campaign_abort": 8,
    "engagement": 8,
    "other": 6,
    "trigger_cleanup": 4,
    "linkedin": 3,
    "facebook": 3,
}
CAMPAIGNS = (
    "Q4 Webinar Invites",
    "Black Friday Batch Send",
    "Form Fill - Contact Us",
    "Score Change - MQL Alert",
    "Lead Lifecycle - Recycle",
    "Nurture - Welcome Series",
    "Data Hygiene - Normalize Country",
    "Event Follow-up - Attended",
)
ERRORS = (
    'Send Email: email asset "Webinar Invite 1" is not approved',
    "Change Data Value: field 'Lead Score' is read-only",
    "Sync Lead to SFDC: FIELD_CUSTOM_VALIDATION_EXCEPTION",
    "Add to List: list 'Webinar Registrants' was deleted",
    "Call Webhook: HTTP 503 from https://hooks.example.com/enrich",
)
CRM_PROBLEMS = (
    "expired_credentials",
    "api_limit_exceeded",
    "permissions",
    "duplicate_leads",
    "field_length_mismatch",
)
USERS = ("john.smith@example.com", "jane.doe@example.com", "ops-bot@example.com", "ana.ruiz@example.com")
API_USERS = (
    "bi-connector@example.com",
    "sfdc-sync@example.com",
    "webinar-integration@example.com",
    "data-enrichment@example.com",
    "cdp-export@example.com",
)


# -- pre-population --------------------------------------------------------------------------------------------


def _event(
    rng: random.Random, samples: dict[str, dict[str, Any]], i: int, kind: str, occurred: float
) -> dict[str, Any]:
    """One realistic event of `kind` (from notifbot's own samples, with the varying fields varied)."""
    name = "crm_sync_dynamics" if kind == "crm_sync" and rng.random() < 0.4 else kind
    ev = dict(samples[name])
    fields = dict(ev.get("fields") or {})
    instance = INSTANCES[i % len(INSTANCES)]
    host = f"app-{instance[:3].lower()}.marketo.com"
    if kind in ("campaign_failure", "campaign_abort"):
        cid = rng.randrange(1000, 9999)
        fields.update(campaign_id=cid, campaign_name=rng.choice(CAMPAIGNS), url=f"https://{host}/#SC{cid}A1")
        if kind == "campaign_failure":
            fields["error"] = rng.choice(ERRORS)
        else:
            fields["user_id"] = rng.choice(USERS)
    elif kind == "crm_sync":
        fields["problem"] = rng.choice(CRM_PROBLEMS)
        if "failed_leads" in fields:
            fields["failed_leads"] = rng.randrange(1, 5000)
            fields.pop("leads", None)
    elif kind == "web_services":
        used = rng.randrange(40_000, 50_001)
        fields.update(used=used, quota=50_000, percent=round(used / 500))
    elif kind == "audit":
        fields.update(user_id=rng.choice(USERS), component_id=rng.randrange(1000, 99999))
    elif kind == "engagement":
        fields["exhausted_count"] = rng.randrange(10, 5000)
    ev.update(
        id=f"seed-{i:06d}",
        instance=instance,
        occurred_at=datetime.fromtimestamp(occurred, UTC).isoformat(),
        fields=fields,
    )
    if rng.random() < 0.5:
        ev.pop("severity", None)  # half rely on the default severity of their kind
    return ev


def prepopulate(db: Path, *, count: int, now: float, seed: int = 3) -> dict[str, Any]:
    """Writes `count` notifications (over the last 90 days) and Marketo poller data into a fresh database."""
    from notifbot.kinds import load_samples
    from notifbot.sources.events import parse_event
    from notifbot.store.db import connect
    from notifbot.store.events import Target, insert_notifications

    t_start = time.monotonic()
    rng = random.Random(seed)
    samples = load_samples()
    conn = connect(db, synchronous="normal")  # creates the schema (the server applies no further migration)
    try:
        # mutes: one expired mute per kind (the history's muted events point at it) and two in force now
        mute_of: dict[str, int] = {}
        for kind in KIND_MIX:
            start = now - rng.uniform(10, 80) * 86400
            mute_of[kind] = int(
                conn.execute(
                    "INSERT INTO mutes (kind, until, author, reason, created_at) VALUES (?,?,?,?,?) RETURNING id",
                    (kind, start + 86400, "U0ANA0001", "noisy during a migration", start),
                ).fetchone()[0]
            )
        for kind, hours, reason in (
            ("audit", 6, "quarterly access review"),
            ("facebook", 48, "app re-review"),
        ):
            conn.execute(
                "INSERT INTO mutes (kind, until, author, reason, created_at) VALUES (?,?,?,?,?)",
                (kind, now + hours * 3600, "U0ANA0001", reason, now - 3600),
            )

        kinds = rng.choices(list(KIND_MIX), weights=list(KIND_MIX.values()), k=count)
        span = 90 * 86400.0
        target = [Target("ops", "slack", CHANNEL)]
        received_at: dict[int, float] = {}
        muted_n = 0
        batch = 10_000
        for start in range(0, count, batch):
            items = []
            muted: dict[str, int] = {}
            for i in range(start, min(count, start + batch)):
                occurred = now - span + span * i / count
                received = occurred + rng.uniform(2, 90)
                n = parse_event(
                    _event(rng, samples, i, kinds[i], occurred),
                    now=datetime.fromtimestamp(received, UTC),
                    source="events",
                )
                if i % 37 == 0:  # ~2.7 % arrived while their kind was muted
                    muted[n.key] = mute_of[kinds[i]]
                items.append((n, target))
            muted_n += len(muted)
            when = {n.key: n.received_at.timestamp() for n, _ in items if n.received_at is not None}
            for acc in insert_notifications(conn, items, muted):
                received_at[acc.event_id] = when[acc.key]

        # outbox history: delivered (some acknowledged), dead after max attempts, and a few still retrying
        rows = conn.execute("SELECT id, event_id FROM outbox").fetchall()
        newest = max(received_at)
        updates = []
        states: Counter[str] = Counter()
        for oid, eid in rows:
            rec = received_at[eid]
            r = rng.random()
            if r < 0.015:
                err = rng.choice(("channel_not_found", "not_in_channel", "invalid_blocks", "HTTP 500"))
                updates.append(("dead", 8, rec + 900, err, None, rec, None, None, None, oid))
                states["dead"] += 1
            elif r < 0.05 and eid > newest - 3000:  # the last ~hours: still retrying
                nxt = now + rng.uniform(60, 600)
                updates.append(
                    ("pending", rng.randrange(1, 4), nxt, "ratelimited", None, rec, None, None, None, oid)
                )
                states["pending"] += 1
            else:
                delivered = rec + rng.uniform(0.2, 3.0)
                acked = rng.random() < 0.03
                updates.append(
                    (
                        "delivered",
                        1,
                        rec,
                        None,
                        f"{delivered:.6f}",
                        rec,
                        delivered,
                        rng.choice(("U0ANA0001", "U0BOB0002")) if acked else None,
                        delivered + rng.uniform(30, 3600) if acked else None,
                        oid,
                    )
                )
                states["delivered"] += 1
        conn.execute("BEGIN")
        conn.executemany(
            "UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?,"
            " provider_message_id = ?, created_at = ?, delivered_at = ?, acked_by = ?, acked_at = ? WHERE id = ?",
            updates,
        )
        quota_rows = _quota_samples(rng, now)
        conn.executemany(
            "INSERT INTO quota_samples (instance, sampled_at, day, used, quota, users, errors)"
            " VALUES (?,?,?,?,?,?,?)",
            quota_rows,
        )
        triggers = _trigger_campaigns(rng, now)
        conn.executemany(
            "INSERT INTO trigger_campaigns (instance, campaign_id, name, program_name, url, is_active,"
            " last_activity_at, observed_since, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
            triggers,
        )
        conn.executemany(
            "INSERT INTO poller_state (instance, poller, cursor, last_success_at, day, calls_today)"
            " VALUES (?,?,?,?,?,?)",
            [
                (inst, poller, None, now - ago, _central_day(now), calls)
                for inst in INSTANCES
                for poller, ago, calls in (("quota", 120.0, 288), ("triggers", 900.0, 24))
            ],
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        stored = int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        conn.close()
    out = {
        "events": stored,
        "muted_events": muted_n,
        "outbox": dict(states),
        "quota_samples": len(quota_rows),
        "trigger_campaigns": len(triggers),
        "stale_90d_active": sum(
            1
            for t in triggers
            if t[5] and (t[6] is None or datetime.fromisoformat(t[6]).timestamp() < now - 90 * 86400)
        ),
        "mutes_active": 2,
        "db_mib": round(db.stat().st_size / 1024 / 1024, 1),
        "seconds": round(time.monotonic() - t_start, 1),
    }
    return out


def _central_day(ts: float) -> str:
    return datetime.fromtimestamp(ts, CENTRAL).date().isoformat()


def _quota_samples(rng: random.Random, now: float) -> list[tuple[object, ...]]:
    """A sample every 5 minutes for 7 days per instance; usage climbs through the (Central) day and resets."""
    rows: list[tuple[object, ...]] = []
    for k, inst in enumerate(INSTANCES):
        daily = (46_000, 31_000, 12_000)[k]
        shares = [rng.uniform(0.05, 0.5) for _ in API_USERS]
        total_share = sum(shares)
        t = now - 7 * 86400
        while t <= now:
            local = datetime.fromtimestamp(t, CENTRAL)
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
            frac = (local - midnight).total_seconds() / 86400
            used = int(daily * frac**1.15 * rng.uniform(0.97, 1.03))
            users = [
                {"userId": u, "count": int(used * s / total_share)}
                for u, s in sorted(zip(API_USERS, shares, strict=True), key=lambda p: -p[1])
            ]
            errors = {"606": rng.randrange(0, 5)} if used > 45_000 else {}
            rows.append(
                (inst, t, local.date().isoformat(), used, 50_000, json.dumps(users), json.dumps(errors))
            )
            t += 300
    return rows


def _trigger_campaigns(rng: random.Random, now: float, per_instance: int = 100) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for inst in INSTANCES:
        host = f"app-{inst[:3].lower()}.marketo.com"
        for j in range(per_instance):
            cid = 1000 + j * 17
            name = f"{rng.choice(CAMPAIGNS)} ({2019 + j % 7})"
            last = None if rng.random() < 0.1 else now - rng.expovariate(1 / 45) * 86400
            rows.append(
                (
                    inst,
                    cid,
                    name,
                    rng.choice(("Website Forms", "Lead Scoring", "Sales Alerts", "Operational", "Nurture")),
                    f"https://{host}/#SC{cid}A1",
                    1 if rng.random() < 0.9 else 0,
                    None
                    if last is None
                    else datetime.fromtimestamp(last, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    datetime.fromtimestamp(now - 400 * 86400, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    now - rng.uniform(0, 3600),
                )
            )
    return rows


# -- signed slash commands -------------------------------------------------------------------------------------


def signed_command(
    text: str, n: int, response_base: str, *, secret: str = SECRET
) -> tuple[bytes, dict[str, str]]:
    """A slash-command POST as Slack sends it: form-encoded, v0-signed over `v0:{ts}:{body}`."""
    body = urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": "T0BENCH01",
            "team_domain": "notifbot-bench",
            "channel_id": CHANNEL,
            "channel_name": "marketo-ops",
            "user_id": "U0ANA0001",
            "user_name": "ana",
            "command": COMMAND,
            "text": text,
            "api_app_id": "A0BENCH01",
            "response_url": f"{response_base}/response/bench-{n}",
            "trigger_id": f"{n}.1234567890.abcdef",
        }
    ).encode()
    ts = str(int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }
    return body, headers


def check_reply(status: int, raw: bytes) -> str:
    """'ok' (200 with JSON blocks), 'deferred' (acked, answer follows via response_url) or what is wrong."""
    if status != 200:
        return f"http {status}"
    try:
        data = json.loads(raw)
    except ValueError:
        return "not JSON"
    if not isinstance(data, dict):
        return "not a JSON object"
    blocks = data.get("blocks")
    if isinstance(blocks, list) and blocks:
        return "ok"
    if "Working on it" in str(data.get("text", "")):
        return "deferred"
    return "no blocks"


def _stats(values: list[float]) -> dict[str, Any]:
    v = sorted(values)
    return {
        "n": len(v),
        "p50_ms": round(loadgen.percentile(v, 50), 2),
        "p95_ms": round(loadgen.percentile(v, 95), 2),
        "p99_ms": round(loadgen.percentile(v, 99), 2),
        "max_ms": round(v[-1], 2) if v else 0.0,
    }


async def _command_loop(
    url: str, response_base: str, *, rate: float, duration: float, warmup: float
) -> dict[str, Any]:
    """Open loop: command i is scheduled at t0 + i/rate and its latency counts from then (see loadgen)."""
    import aiohttp

    warm_n = int(rate * warmup)
    total = warm_n + int(rate * duration)
    latencies: list[float] = []
    lags: list[float] = []
    per_text: dict[str, list[float]] = {t: [] for t in COMMANDS}
    statuses: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    problems: list[str] = []
    errors = 0
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100), timeout=timeout) as session:

        async def one(i: int, scheduled: float) -> None:
            nonlocal errors
            text = COMMANDS[i % len(COMMANDS)]
            measured = i >= warm_n
            if measured:
                lags.append((time.perf_counter() - scheduled) * 1000.0)
            body, headers = signed_command(text, i, response_base)
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    raw = await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                if measured:
                    errors += 1
                    problems.append(f"{text}: {type(exc).__name__}")
                return
            ms = (time.perf_counter() - scheduled) * 1000.0
            if not measured:
                return
            verdict = check_reply(status, raw)
            latencies.append(ms)
            per_text[text].append(ms)
            statuses[str(status)] += 1
            verdicts[verdict] += 1
            if verdict not in ("ok", "deferred") and len(problems) < 20:
                problems.append(f"{text}: {verdict}: {raw[:200].decode(errors='replace')}")

        await loadgen.open_loop(total, rate, one)
    lags.sort()
    ok200 = statuses.get("200", 0)
    return {
        "sent": total - warm_n,
        "ok_200": ok200,
        "non_200": sum(statuses.values()) - ok200,
        "errors": errors,
        "replies": dict(verdicts),
        "bad_replies": sum(v for k, v in verdicts.items() if k not in ("ok", "deferred")),
        "deferred": verdicts.get("deferred", 0),
        "status_counts": dict(sorted(statuses.items())),
        **_stats(latencies),
        "per_command": {t: _stats(v) for t, v in per_text.items()},
        "start_lag_p50_ms": round(loadgen.percentile(lags, 50), 2),
        "start_lag_p99_ms": round(loadgen.percentile(lags, 99), 2),
        "problems": problems,
    }


async def _cold_pass(url: str, response_base: str) -> dict[str, Any]:
    """Each subcommand once, one after another, before any load: first-call latency and a correctness check."""
    import aiohttp

    out: dict[str, Any] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        for n, text in enumerate(COMMANDS):
            body, headers = signed_command(text, 1_000_000 + n, response_base)
            t0 = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as resp:
                raw = await resp.read()
                status = resp.status
            out[text] = {
                "ms": round((time.perf_counter() - t0) * 1000.0, 2),
                "reply": check_reply(status, raw),
                "bytes": len(raw),
            }
            if out[text]["reply"] != "ok":
                out[text]["body"] = raw[:300].decode(errors="replace")
    return out


async def _both(
    bot_url: str,
    response_base: str,
    *,
    ingest_rate: float,
    command_rate: float,
    duration: float,
    warmup: float,
) -> tuple[loadgen.LoadResult, dict[str, Any]]:
    ingest = asyncio.create_task(
        loadgen._open_loop(f"{bot_url}/hooks/events", ingest_rate, duration, "cmdload", warmup)
    )
    commands = await _command_loop(
        f"{bot_url}/slack/events", response_base, rate=command_rate, duration=duration, warmup=warmup
    )
    return await ingest, commands


def commands_config(db: Path) -> dict[str, Any]:
    """notifbot as deployed with the Slack app: interactive (HTTP mode), one Slack channel, default pacing."""
    return {
        "storage": {"path": str(db)},
        "slack": {"interactive": True, "command": COMMAND},
        "destinations": {"ops": {"type": "slack", "channel": CHANNEL}},
        "routes": [{"to": "ops"}],
    }


def run_commands(
    *,
    workdir: Path,
    duration: float,
    pin: bool,
    stored: int = 100_000,
    ingest_rate: float = 200.0,
    command_rate: float = 10.0,
    warmup: float = 1.0,
) -> dict[str, Any]:
    d = workdir / "commands"
    d.mkdir(parents=True, exist_ok=True)
    db = d / "notifbot.db"
    out: dict[str, Any] = {
        "duration_s": duration,
        "ingest_rate": ingest_rate,
        "command_rate": command_rate,
        "commands_cycled": list(COMMANDS),
    }
    print(f"  pre-populating {stored:,} notifications ...", flush=True)
    out["prepopulated"] = pre = prepopulate(db, count=stored, now=time.time())
    print(
        f"  stored {pre['events']:,} events ({pre['muted_events']:,} muted), outbox {pre['outbox']}, "
        f"{pre['quota_samples']:,} quota samples, {pre['trigger_campaigns']} trigger campaigns, "
        f"{pre['db_mib']} MiB in {pre['seconds']} s",
        flush=True,
    )
    fake = FakeSlackProcess(d, min_interval=1.0)
    bot = None
    try:
        fake.start()
        response_base = fake.api_url.rsplit("/api", 1)[0]
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url}
        bot = notifbot_server(
            "notifbot-commands", d, commands_config(db), cpu=SERVER_CPU if pin else None, env=env
        )
        bot.start()
        loop = loadgen._new_loop()
        try:
            out["cold"] = loop.run_until_complete(_cold_pass(f"{bot.url}/slack/events", response_base))
            with loadgen.RssSampler(bot.pid) as rss, loadgen.CpuMeter(bot.pid) as cpu:
                ingest, commands = loop.run_until_complete(
                    _both(
                        bot.url,
                        response_base,
                        ingest_rate=ingest_rate,
                        command_rate=command_rate,
                        duration=duration,
                        warmup=warmup,
                    )
                )
        finally:
            loop.close()
        out["commands"] = commands
        out["ingest"] = ingest.as_dict()
        out["rss_max_mib"] = round(rss.max_mib, 1)
        out["server_cpu"] = cpu.shares()
        time.sleep(0.5)
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        try:
            out["events_after"] = int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
        finally:
            conn.close()
        out["outbox_after"] = outbox_status(db)
    finally:
        if bot is not None:
            out["notifbot_exit_code"] = bot.stop()
        fake.stop()
    c = out["commands"]
    cold_ok = all(v["reply"] == "ok" for v in out["cold"].values())
    out["pass"] = bool(
        c["p99_ms"] <= 100.0
        and c["non_200"] == 0
        and c["errors"] == 0
        and c["bad_replies"] == 0
        and c["ok_200"] == c["sent"]
        and cold_ok
    )
    print(
        f"  commands at {command_rate:.0f}/s with ingest at {ingest_rate:.0f}/s for {duration:.0f} s: "
        f"p50 {c['p50_ms']:.1f} ms, p99 {c['p99_ms']:.1f} ms, max {c['max_ms']:.1f} ms, "
        f"200s {c['ok_200']}/{c['sent']}, bad replies {c['bad_replies']}, deferred {c['deferred']}; "
        f"ingest p99 {ingest.p99_ms:.1f} ms ({ingest.ok}/{ingest.sent} 2xx)",
        flush=True,
    )
    for text, s in c["per_command"].items():
        print(
            f"    {text:<20} n {s['n']:>3}  p50 {s['p50_ms']:6.1f}  p95 {s['p95_ms']:6.1f}  "
            f"p99 {s['p99_ms']:6.1f}  max {s['max_ms']:6.1f} ms   cold {out['cold'][text]['ms']:.1f} ms",
            flush=True,
        )
    for p in c["problems"][:5]:
        print(f"    problem: {p}", flush=True)
    return out
