"""The four scenarios of `make chaos` (bench/chaos.py): each runs fake Slack, notifbot and a sender, injects its
fault, waits for recovery and counts.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.chaos_fs import Ext4Image, FsError, Tmpfs, cannot_mount, cannot_use_ext4_image, mount_options
from bench.chaos_load import Bot, ReadySampler, Sender, Timeline, tally
from bench.chaos_proxy import SlackFaultProxy
from bench.delivery import TOKEN, FakeSlackProcess
from bench.ingest import outbox_status

CHANNELS = ["C01", "C02", "C03", "C04", "C05"]
SLACK_CLIENT_TIMEOUT_S = 10.0  # notifbot's SlackSender default; a "slow" answer comes after it


TMPFS_MIB = 96


@dataclass(frozen=True)
class Options:
    workdir: Path
    quick: bool
    slow_seconds: float


def bot_config(db: Path, *, lease: float, interval: float) -> dict[str, Any]:
    """Five Slack channels routed by the `chaos_channel` label, paced `interval` s apart; quick retries."""
    return {
        "storage": {"path": str(db)},
        "slack": {"interactive": False},
        "destinations": {
            **{c.lower(): {"type": "slack", "channel": c} for c in CHANNELS},
            "unrouted": {"type": "console"},  # the catch-all notifbot requires; no chaos event goes there
        },
        "routes": [*({"match": {"chaos_channel": c}, "to": c.lower()} for c in CHANNELS), {"to": "unrouted"}],
        "delivery": {
            "poll_seconds": 0.2,
            "lease_seconds": lease,
            "slack_interval_seconds": interval,
            "backoff_base_seconds": 0.5,
            "backoff_max_seconds": 5.0,
            "drain_seconds": 2.0,
        },
    }


def make_events(prefix: str, n: int) -> list[dict[str, Any]]:
    return [
        {
            "kind": "campaign_failure",
            "id": f"{prefix}-{i:05d}",
            "instance": "123-ABC-456",
            "severity": "warning",
            "summary": f'Smart campaign "Chaos {i}" stopped on flow step 2 (Send Email).',
            "fields": {
                "campaign_id": 5000 + i,
                "campaign_name": f"Chaos {i}",
                "error": "email asset not approved",
            },
            "labels": {"chaos_channel": CHANNELS[i % len(CHANNELS)]},
        }
        for i in range(n)
    ]


def stored_keys(db: Path, prefix: str) -> set[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return {r[0] for r in conn.execute("SELECT key FROM events WHERE key LIKE ?", (f"{prefix}-%",))}
    finally:
        conn.close()


def wait_until(t: float) -> None:
    time.sleep(max(0.0, t - time.monotonic()))


class Run:
    """One scenario's fake Slack (behind the fault proxy when asked), notifbot, sender, timeline and tally."""

    def __init__(
        self,
        opts: Options,
        name: str,
        db: Path,
        *,
        lease: float,
        interval: float,
        faults: dict[str, float] | None = None,
    ) -> None:
        self.name, self.db = name, db
        self.dir = opts.workdir / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.lease, self.interval, self.faults = lease, interval, faults
        self.timeline = Timeline()
        self.notes: list[str] = []
        self.fake = FakeSlackProcess(self.dir, min_interval=0.0)
        self.proxy: SlackFaultProxy | None = None
        self.bot: Bot | None = None
        self.sender: Sender | None = None
        self.sampler: ReadySampler | None = None
        self.started = time.monotonic()

    def __enter__(self) -> Run:
        try:
            self._start()
        except BaseException:
            self.__exit__()  # `with` would not: the fake and the proxy must not outlive a failed start
            raise
        return self

    def _start(self) -> None:
        self.fake.start()
        api_url = self.fake.api_url
        if self.faults:
            f = self.faults
            self.proxy = SlackFaultProxy(
                api_url, slow=f["slow"], lost=f["lost"], slow_seconds=f["slow_seconds"]
            ).start()
            api_url = self.proxy.api_url
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": api_url}
        self.bot = Bot(
            self.dir, "notifbot", bot_config(self.db, lease=self.lease, interval=self.interval), env
        )
        why = self.bot.start()
        if why:
            raise RuntimeError(f"notifbot did not start: {why}")

    def __exit__(self, *exc: object) -> None:
        if self.sampler is not None:
            self.sampler.__exit__()
        if self.bot is not None:
            self.bot.stop()
        if self.proxy is not None:
            self.proxy.stop()
        self.fake.stop()

    def send(self, n: int, rate: float, retry_for: float) -> Sender:
        assert self.bot is not None
        self.events = make_events(self.name, n)
        self.sender = Sender(self.bot.url, self.events, rate=rate, retry_for=retry_for).start()
        self.sampler = ReadySampler(self.bot).__enter__()
        self.retry_for, self.burst_s = retry_for, n / rate
        return self.sender

    def drain(self, timeout: float) -> bool:
        """True once the outbox has had no pending row for three polls in a row."""
        deadline, quiet = time.monotonic() + timeout, 0
        while time.monotonic() < deadline:
            with contextlib.suppress(sqlite3.Error):
                quiet = quiet + 1 if outbox_status(self.db).get("pending", 0) == 0 else 0
            if quiet >= 3:
                return True
            time.sleep(0.3)
        return False

    def finish(self, drain_timeout: float) -> dict[str, Any]:
        """Waits for the sender and the outbox, stops everything, and counts."""
        assert self.sender is not None and self.bot is not None and self.sampler is not None
        sender_done = self.sender.join(self.burst_s + self.retry_for + 30)
        drained = self.drain(drain_timeout)
        time.sleep(1.0)  # a late duplicate would land now
        self.timeline.end()
        outbox, stored = outbox_status(self.db), stored_keys(self.db, self.name)
        self.sampler.__exit__()
        readyz, self.sampler = self.sampler.samples, None
        exit_code = self.bot.stop()
        self.bot = None
        if self.proxy is not None:
            c = self.proxy.counts
            self.notes.append(
                f"proxy: {c['posts']} chat.postMessage calls reached Slack; {c['slow']} answered after"
                f" {self.proxy.slow_seconds:g} s (notifbot's Slack timeout: {SLACK_CLIENT_TIMEOUT_S:g} s),"
                f" {c['lost']} dropped; {c['calls'] - c['posts']} other API calls passed through"
            )
        messages = self.fake.stop()["messages"]
        result = tally(self.events, self.sender.answers, messages, outbox, stored, self.timeline, readyz)
        result.update(
            scenario=self.name,
            sender_finished=sender_done,
            drained=drained,
            last_exit_code=exit_code,
            wall_s=round(time.monotonic() - self.started, 1),
            notes=self.notes,
        )
        result["pass"] = bool(
            sender_done and drained and not result["lost"] and not result["server_errors_5xx_not_retryable"]
        )
        return result


def scenario_kill9(opts: Options) -> dict[str, Any]:
    """kill -9 at even intervals during a burst, restarted each time (a supervisor's restart)."""
    n, rate, kills = (200, 40.0, 2) if opts.quick else (400, 50.0, 3)
    db = opts.workdir / "kill9" / "notifbot.db"
    with Run(opts, "kill9", db, lease=3.0, interval=0.1) as run:
        sender = run.send(n, rate, retry_for=40.0)
        assert run.bot is not None
        for k in range(kills):
            wait_until(sender.started_at + run.burst_s * (k + 1) / (kills + 1))
            run.timeline.begin(f"kill -9 #{k + 1} until ready")
            run.bot.kill9()
            why = run.bot.start()
            run.timeline.end()
            if why:
                run.notes.append(f"restart {k + 1}: {why}")
        run.notes.append(
            f"{kills} kill -9 during a {run.burst_s:.0f} s burst of {n} events, restarted at once"
        )
        return run.finish(90.0)


def scenario_slack(opts: Options) -> dict[str, Any]:
    """10 % of posts answered after the client timeout, 10 % dropped, both after Slack took the message."""
    n, rate = (80, 20.0) if opts.quick else (150, 30.0)
    faults = {"slow": 0.1, "lost": 0.1, "slow_seconds": opts.slow_seconds}
    db = opts.workdir / "slack" / "notifbot.db"
    with Run(opts, "slack", db, lease=30.0, interval=0.02, faults=faults) as run:
        run.timeline.begin("slow/lost Slack answers (whole run)")
        run.send(n, rate, retry_for=30.0)
        return run.finish(150.0)


def scenario_disk_full(opts: Options) -> dict[str, Any] | str:
    """The database's tmpfs filled mid-burst, held full, then freed."""
    why = cannot_mount()
    if why:
        return why
    n, rate, hold = (200, 40.0, 3.0) if opts.quick else (400, 50.0, 4.0)
    try:
        # room for the default storage.min_free_bytes (32 MiB), below which /readyz says not ready
        fs = Tmpfs(opts.workdir / "diskfull-mnt", size_mib=TMPFS_MIB).__enter__()
    except FsError as exc:
        return f"cannot mount a tmpfs: {exc}"
    try:
        with Run(opts, "diskfull", fs.mnt / "notifbot.db", lease=3.0, interval=0.25) as run:
            sender = run.send(n, rate, retry_for=40.0)
            wait_until(sender.started_at + run.burst_s * 0.3)
            run.timeline.begin("disk full")
            took = fs.fill()
            time.sleep(hold)
            fs.free()
            run.timeline.end()
            run.notes.append(
                f"filler took the last {took / 2**20:.1f} MiB of a {TMPFS_MIB} MiB tmpfs for {hold:g} s, then freed"
            )
            return run.finish(90.0)
    finally:
        fs.close()


def scenario_read_only(opts: Options) -> dict[str, Any] | str:
    """The database's ext4 turned read-only by the kernel under the running bot; then back with a read-only start."""
    why = cannot_use_ext4_image()
    if why:
        return why
    n, rate, hold = (150, 30.0, 2.0) if opts.quick else (300, 30.0, 3.0)
    try:
        fs = Ext4Image(opts.workdir / "readonly.img", opts.workdir / "readonly-mnt", size_mib=64).__enter__()
    except FsError as exc:
        return f"cannot mount an ext4 image: {exc}"
    try:
        with Run(opts, "readonly", fs.mnt / "notifbot.db", lease=3.0, interval=0.25) as run:
            _read_only_phases(run, fs, n, rate, hold)
            return run.finish(90.0)
    finally:
        fs.close()


def _read_only_phases(run: Run, fs: Ext4Image, n: int, rate: float, hold: float) -> None:
    sender = run.send(n, rate, retry_for=60.0)
    bot = run.bot
    assert bot is not None
    wait_until(sender.started_at + run.burst_s * 0.25)
    run.timeline.begin("fs read-only under the running bot")
    refused = fs.remount(read_only=True)
    if refused is None:
        run.notes.append("live `mount -o remount,ro` worked")
    else:
        run.notes.append(
            f"live `mount -o remount,ro` refused ({refused.strip()}): used the kernel's ext4 error remount"
        )
        fs.kernel_error()
    run.notes.append(f"mount options while read-only: {mount_options(fs.mnt)}")
    time.sleep(hold)
    if refused is None:
        fs.remount(read_only=False)
        run.timeline.end()
        return
    run.timeline.begin("operator's recovery: stop notifbot, unmount, e2fsck")
    code = bot.stop()
    run.notes.append(f"notifbot stopped with exit {code}; {fs.unmount_and_check()}")
    run.timeline.end()
    fs.mount(read_only=True)
    run.timeline.begin("notifbot started on the read-only volume")
    why = bot.start(wait_for="/healthz", timeout=20.0)
    run.notes.append(f"start on a read-only volume: {'up (healthz 200)' if why is None else why}")
    time.sleep(hold)
    problem = fs.remount(read_only=False)
    t_rw = time.monotonic()
    run.timeline.begin("volume writable again, same process")
    recovered = False
    while problem is None and bot.alive() and time.monotonic() < t_rw + 6.0:
        if any(a.status == 202 and a.at > t_rw for a in sender.answers):
            recovered = True
            break
        time.sleep(0.2)
    run.timeline.end()
    if problem is not None:
        run.notes.append(f"remount rw failed: {problem}")
    run.notes.append(
        f"recovered without a restart after the volume became writable: {'yes' if recovered else 'no'}"
    )
    if not recovered:
        bot.stop()
        why = bot.start()
        run.notes.append("restarted notifbot" + ("" if why is None else f": {why}"))


SCENARIOS: dict[str, tuple[str, Callable[[Options], dict[str, Any] | str]]] = {
    "kill9": ("kill -9 during a burst", scenario_kill9),
    "slack": ("Slack answers slow / lost", scenario_slack),
    "diskfull": ("disk full mid-burst", scenario_disk_full),
    "readonly": ("read-only database", scenario_read_only),
}
