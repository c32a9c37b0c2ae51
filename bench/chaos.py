"""`make chaos`: the fault matrix of issue #10 against a real `notifbot serve` and the fake Slack, on loopback.

    .venv/bin/python bench/chaos.py                 # all four scenarios (~4 min on 2 cores)
    .venv/bin/python bench/chaos.py --quick         # fewer events
    .venv/bin/python bench/chaos.py --only kill9 --only slack

Scenarios: kill -9 during a burst (restarted each time); Slack answers slow (after the client timeout) or lost
(connection dropped) after Slack took the post; the database's disk full mid-burst, then freed; the database's
filesystem turned read-only under the running bot, then writable again. Each prints what was sent, accepted
(2xx), delivered once, duplicated and lost (accepted, never posted after recovery), and what the bot answered
while the fault lasted. Exit status 1 when an accepted event was lost or a scenario could not finish; see
bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.chaos_scenarios import SCENARIOS, Options  # noqa: E402

RESULTS = REPO / "bench" / "results" / "chaos.json"
COLUMNS = ("scenario", "sent", "accepted", "retryable", "no answer", "once", "duplicated", "lost", "verdict")


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _answers(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} ×{v}" for k, v in sorted(counts.items())) or "none"


def scenario_table(title: str, r: dict[str, Any]) -> list[tuple[str, str]]:
    """(measure, value) rows for one scenario."""
    rows = [
        ("events sent (one per request)", f"{r['sent']} in {r['requests']} requests (re-sends included)"),
        ("accepted (2xx)", f"{r['accepted']}  (never accepted: {r['not_accepted']})"),
        ("answers, all requests", _answers(r["answers"])),
        ("retryable refusals (429/502/503/504)", str(r["retryable_answers"])),
        ("no answer (refused/reset/timeout)", str(r["no_answer"])),
        ("refused for good (other 4xx/5xx)", str(r["refused_for_good"])),
        ("delivered once", f"{r['delivered_once']} of {r['accepted']} accepted"),
        ("duplicated", f"{r['duplicated']} events ({r['extra_posts']} extra posts)"),
        (
            "lost (accepted, never posted)",
            f"{len(r['lost'])}" + (f": {', '.join(r['lost'][:5])}" if r["lost"] else ""),
        ),
        ("delivered though never acknowledged", str(r["delivered_unacknowledged"])),
        ("stored / stored but not posted", f"{r['stored']} / {r['stored_not_posted']}"),
        ("outbox at the end", _answers(r["outbox"])),
        ("sender finished / outbox drained", f"{r['sender_finished']} / {r['drained']}  ({r['wall_s']} s)"),
    ]
    for w in r["windows"]:
        rows.append(
            (
                f"during: {w['window']} ({w['seconds']} s)",
                f"answers {_answers(w['answers'])}; /readyz {_answers(w['readyz'])}",
            )
        )
    rows += [("note", note) for note in r["notes"]]
    return [(f"[{title}] {m}" if i == 0 else m, v) for i, (m, v) in enumerate(rows)]


def print_rows(head: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = "+".join("-" * (w + 2) for w in widths)
    print(line)
    print(" | ".join(str(h).ljust(widths[i]) for i, h in enumerate(head)))
    print(line)
    for r in rows:
        print(" | ".join(str(c).ljust(widths[i]) for i, c in enumerate(r)))
    print(line, flush=True)


def verdict(r: dict[str, Any]) -> str:
    if r.get("skipped"):
        return "SKIPPED"
    if r.get("error"):
        return "ERROR"
    if not r["pass"]:
        return "FAIL (lost)" if r["lost"] else "FAIL"
    return "PASS, DUPLICATES" if r["duplicated"] else "PASS"


def summary_row(name: str, r: dict[str, Any]) -> tuple[str, ...]:
    if r.get("skipped") or r.get("error"):
        why = r.get("skipped") or r.get("error", "").strip().splitlines()[-1][:80]
        return (name, "-", "-", "-", "-", "-", "-", "-", f"{verdict(r)}: {why}")
    return (
        name,
        str(r["sent"]),
        str(r["accepted"]),
        str(r["retryable_answers"]),
        str(r["no_answer"]),
        str(r["delivered_once"]),
        str(r["duplicated"]),
        str(len(r["lost"])),
        verdict(r),
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench/chaos.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", choices=list(SCENARIOS), help="run only these (repeatable)")
    ap.add_argument("--quick", action="store_true", help="fewer events per scenario")
    ap.add_argument(
        "--slow-seconds",
        type=float,
        default=11.0,
        help="how late a slow Slack answer comes (client gives up at 10 s)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the work dir (databases, logs, configs)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="notifbot-chaos-"))
    opts = Options(workdir=workdir, quick=args.quick, slow_seconds=args.slow_seconds)
    results: dict[str, dict[str, Any]] = {}
    started = time.monotonic()
    load = {"start": _loadavg()}
    print(
        f"notifbot chaos{' (quick)' if args.quick else ''}: work dir {workdir}, loadavg {load['start']}",
        flush=True,
    )
    try:
        for key in args.only or list(SCENARIOS):
            title, run = SCENARIOS[key]
            print(f"{title}: running", flush=True)
            try:
                outcome = run(opts)
            except Exception:
                traceback.print_exc()
                results[key] = {"error": traceback.format_exc()}
                continue
            if isinstance(outcome, str):
                print(f"{title}: SKIPPED: {outcome}", flush=True)
                results[key] = {"skipped": outcome}
                continue
            results[key] = outcome
            print_rows(("measure", "value"), scenario_table(title, outcome))
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    load["end"] = _loadavg()
    elapsed = round(time.monotonic() - started, 1)
    args.out.write_text(
        json.dumps({"elapsed_s": elapsed, "loadavg": load, "results": results}, indent=2) + "\n"
    )
    print()
    print_rows(COLUMNS, [summary_row(SCENARIOS[k][0], r) for k, r in results.items()])
    print(f"elapsed {elapsed:.0f} s; loadavg {load['start']} -> {load['end']}; results: {args.out}")
    failed = [k for k, r in results.items() if r.get("error") or (not r.get("skipped") and not r["pass"])]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
