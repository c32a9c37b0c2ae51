"""Alert storms side by side with Prometheus Alertmanager (issue #13): messages, Slack calls, 429s, time to see all.

    .venv/bin/python bench/storm.py                          # storms of 100 and 1,000; each wait capped at 120 s
    .venv/bin/python bench/storm.py --sizes 100 --max-wait 30
    .venv/bin/python bench/storm.py --no-notifbot-group      # notifbot's route without `group:` (one message each)

Each system posts to its own fresh fake Slack (tests/fakes/slack.py, 1 message/s per channel, 429 + Retry-After
beyond): Alertmanager 0.25 through an incoming webhook (its `slack_configs.api_url`), a real `notifbot serve`
through chat.postMessage. Writes bench/results/storm.json. Exit status 1 when a part could not run; with --check
also when notifbot misses issue #13's targets (no more messages than Alertmanager, 0 HTTP 429s, the whole storm
visible within the group wait + 2 s, one message showing the count and the items).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.ingest import clean_env, notifbot_server  # noqa: E402
from bench.storm_watch import Outcome, item_name, watch  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402

from bench import storm_am  # noqa: E402

TOKEN = "xoxb-storm-bench"
CHANNEL = "C0STORM"
GROUP_WAIT_S = 1.0  # both systems: Alertmanager's group_wait, notifbot's group.wait
GROUP = {"by": ["kind", "instance"], "wait": "1s", "interval": "5m", "repeat": "4h"}  # issue #13's route key
NO_GROUPING = "grouping not available in this build"
RESULTS = REPO / "bench" / "results" / "storm.json"


def notifbot_config(db: Path, group: bool) -> dict[str, Any]:
    """campaign_failure → one Slack channel (the fake); with `group` the route carries issue #13's `group:`."""
    route: dict[str, Any] = {"match": {"kind": "campaign_failure"}, "to": "storm"}
    if group:
        route["group"] = dict(GROUP)
    return {
        "storage": {"path": str(db)},
        "slack": {"interactive": False},
        "destinations": {"storm": {"type": "slack", "channel": CHANNEL}, "rest": {"type": "console"}},
        "routes": [route, {"to": "rest"}],
    }


def event(i: int, run: str) -> dict[str, Any]:
    """Storm item `i` as a notifbot event: one instance, one kind, a campaign of its own."""
    return {
        "kind": "campaign_failure",
        "id": f"{run}-{i:05d}",
        "instance": "123-ABC-456",
        "severity": "warning",
        "summary": f'Smart campaign "{item_name(i)}" stopped on flow step 2 (Send Email).',
        "fields": {
            "campaign_id": 5000 + i,
            "campaign_name": item_name(i),
            "error": "email asset not approved",
        },
    }


def grouping_refused(cfg: Path, env: dict[str, str]) -> str | None:
    """`notifbot check-config`'s complaint about the route's `group:` key, or None when this build takes it."""
    argv = [sys.executable, "-m", "notifbot", "check-config", "--config", str(cfg)]
    out = subprocess.run(argv, capture_output=True, text=True, env=clean_env(env), cwd=REPO, timeout=60)
    said = out.stdout + out.stderr
    return said.strip() if out.returncode != 0 and ".group" in said else None


def run_notifbot(size: int, workdir: Path, *, group: bool, max_wait: float, settle: float) -> Outcome:
    """A real `notifbot serve`; the storm as `size` single-event POST /hooks/events, in order, on one connection."""
    out = Outcome("notifbot", "1 event per POST /hooks/events" + (", route group" if group else ""), size)
    d = workdir / f"notifbot-{size}"
    d.mkdir(parents=True, exist_ok=True)
    with FakeSlack(token=TOKEN, min_interval=1.0) as fake:
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": fake.api_url}
        config = notifbot_config(d / "notifbot.db", group)
        bot = notifbot_server("notifbot-storm", d, config, cpu=None, env=env)
        if group and (refused := grouping_refused(d / "notifbot-storm.yaml", env)):
            out.skipped = f"{NO_GROUPING} ({refused.splitlines()[0]})"
            print(f"  notifbot: {out.skipped}", flush=True)
            return out
        bot.start()
        try:
            events = [event(i, f"storm{size}") for i in range(size)]
            calls_before = len(fake.calls)
            t0 = time.time()
            with httpx.Client(timeout=30) as client:
                for e in events:
                    resp = client.post(f"{bot.url}/hooks/events", json=e)
                    if resp.status_code != 202:
                        raise RuntimeError(f"notifbot answered {resp.status_code}: {resp.text[:300]}")
            out.send_s = round(time.time() - t0, 2)
            return watch(fake, out, t0=t0, calls_before=calls_before, max_wait=max_wait, settle=settle)
        finally:
            bot.stop()


def run_alertmanager(
    path: str, size: int, batch: int, workdir: Path, *, max_wait: float, settle: float
) -> Outcome:
    """A real Alertmanager posting to an incoming webhook of the fake; the storm in requests of `batch` alerts."""
    how = f"POST /api/v2/alerts, {batch} alerts per request" if batch > 1 else "one alert per request"
    out = Outcome("Alertmanager", how, size)
    with FakeSlack(token=TOKEN, min_interval=1.0) as fake:
        am = storm_am.server(path, workdir / f"alertmanager-{size}-{batch}", fake.incoming_webhook(CHANNEL))
        am.start()
        try:
            storm = storm_am.alerts(size)
            calls_before = len(fake.calls)
            t0 = time.time()
            storm_am.send(am.url, storm, batch)
            out.send_s = round(time.time() - t0, 2)
            return watch(fake, out, t0=t0, calls_before=calls_before, max_wait=max_wait, settle=settle)
        finally:
            am.stop()


def targets_missed(nb: Outcome, am: Outcome | None) -> list[str]:
    """Issue #13's targets that notifbot's outcome misses (empty when it meets them all)."""
    missed = []
    if am is not None and not am.skipped and nb.messages > am.messages:
        missed.append(f"{nb.messages} messages > Alertmanager's {am.messages}")
    if nb.count_429:
        missed.append(f"{nb.count_429} HTTP 429s")
    if nb.counted_s is None or nb.counted_s > GROUP_WAIT_S + 2:
        missed.append(f"the whole storm not counted in a message within {GROUP_WAIT_S + 2:.0f} s")
    if not (nb.count_shown and nb.largest_message_items > 1):
        missed.append("no message shows the count and the items")
    return missed


def _calls(o: Outcome) -> str:
    total = sum(o.api_calls.values())
    parts = ", ".join(f"{m} {n}" for m, n in sorted(o.api_calls.items()))
    return f"{total} ({parts})" if parts else "0"


def _visible(o: Outcome) -> str:
    if o.all_visible_s is not None:
        return f"all {o.size:,} after {o.all_visible_s:.1f} s"
    return f"{o.visible:,} of {o.size:,} after {o.watched_s:.0f} s"


def rows(outcomes: list[Outcome]) -> list[list[str]]:
    """One table row per storm and system."""
    table = []
    for o in outcomes:
        if o.skipped:
            table.append(
                [f"{o.size:,}", o.system, o.how_sent, "—", "—", "—", f"skipped: {o.skipped}", "—", "—", "—"]
            )
            continue
        items = f"{o.largest_message_items:,} of {o.size:,}"
        table.append(
            [
                f"{o.size:,}",
                o.system,
                f"{o.how_sent} (sent in {o.send_s:.1f} s)",
                f"{o.messages:,}"
                + (f" (+{o.updates:,} updates)" if o.updates else "")
                + (f" (+{o.thread_replies:,} in its thread)" if o.thread_replies else ""),
                _calls(o),
                str(o.count_429),
                f"{o.counted_s:.1f} s" if o.counted_s is not None else "no",
                _visible(o),
                "yes" if o.count_shown else "no",
                items,
            ]
        )
    return table


HEAD = [
    "storm",
    "system",
    "sent as",
    "messages",
    "Slack API calls",
    "429s",
    "whole storm counted after",
    "every item named",
    "count shown",
]
HEAD += ["items in one message"]


def print_table(table: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [HEAD, *table]) for i in range(len(HEAD))]
    line = "+".join("-" * (w + 2) for w in widths)
    print(line)
    for r in [HEAD, *table]:
        print(" | ".join(c.ljust(widths[i]) for i, c in enumerate(r)))
        if r is HEAD:
            print(line)
    print(line)


def markdown(table: list[list[str]]) -> str:
    """The table as the README shows it."""
    out = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    out += ["| " + " | ".join(r) + " |" for r in table]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench/storm.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100,1000", help="storm sizes, comma-separated (default 100,1000)")
    ap.add_argument("--max-wait", type=float, default=120.0, help="seconds to watch each storm at most (120)")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds watched after all is visible (2)")
    ap.add_argument("--batch", type=int, default=storm_am.PROMETHEUS_BATCH, help="alerts per request (64)")
    ap.add_argument(
        "--no-one-by-one", action="store_true", help="skip Alertmanager fed one alert per request"
    )
    ap.add_argument(
        "--notifbot-group",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="give notifbot's route issue #13's `group:` (default); --no-notifbot-group: one message per event",
    )
    ap.add_argument("--check", action="store_true", help="exit 1 when notifbot misses issue #13's targets")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    sizes = [int(s.replace(",", "").replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    am_path = storm_am.binary()
    am_version = storm_am.version(am_path) if am_path else None
    print(
        f"storm bench: sizes {sizes}, watch <= {args.max_wait:.0f} s each; Alertmanager: "
        + (
            f"{am_version} ({am_path})"
            if am_path
            else "not installed, skipped (apt-get install prometheus-alertmanager)"
        ),
        flush=True,
    )
    outcomes: list[Outcome] = []
    errors: dict[str, str] = {}
    missed: dict[int, list[str]] = {}
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="notifbot-storm-") as tmp:
        workdir = Path(tmp)
        for size in sizes:
            am_first: Outcome | None = None
            batches = [args.batch] if args.no_one_by_one else [args.batch, 1]
            for batch in batches:
                label = f"alertmanager {size} x{batch}"
                if am_path is None:
                    if batch == args.batch:
                        skipped = Outcome(
                            "Alertmanager", "—", size, skipped="prometheus-alertmanager not installed"
                        )
                        outcomes.append(skipped)
                    continue
                print(f"{label}: sending, watching", flush=True)
                try:
                    o = run_alertmanager(
                        am_path, size, batch, workdir, max_wait=args.max_wait, settle=args.settle
                    )
                except Exception:
                    errors[label] = traceback.format_exc()
                    traceback.print_exc()
                    continue
                outcomes.append(o)
                am_first = am_first or o
                print(f"  {o.messages} messages, {o.count_429} 429s, {_visible(o)}", flush=True)
            label = f"notifbot {size}"
            print(f"{label}: sending, watching", flush=True)
            try:
                nb = run_notifbot(
                    size, workdir, group=args.notifbot_group, max_wait=args.max_wait, settle=args.settle
                )
            except Exception:
                errors[label] = traceback.format_exc()
                traceback.print_exc()
                continue
            outcomes.append(nb)
            if not nb.skipped:
                missed[size] = targets_missed(nb, am_first)
                print(f"  {nb.messages} messages, {nb.count_429} 429s, {_visible(nb)}", flush=True)
    table = rows(outcomes)
    print()
    print_table(table)
    for size, miss in missed.items():
        verdict = "met" if not miss else "missed: " + "; ".join(miss)
        print(f"issue #13 targets, storm of {size:,}: {verdict}")
    for label, err in errors.items():
        print(f"{label}: did not complete: {err.strip().splitlines()[-1]}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "elapsed_s": round(time.time() - started, 1),
        "alertmanager": am_version,
        "notifbot_group": args.notifbot_group,
        "max_wait_s": args.max_wait,
        "outcomes": [o.as_dict() for o in outcomes],
        "targets_missed": missed,
        "errors": errors,
        "markdown": markdown(table),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results: {args.out}")
    return 1 if errors or (args.check and any(missed.values())) else 0


if __name__ == "__main__":
    sys.exit(main())
