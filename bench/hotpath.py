"""Per-event CPU cost of the hot path (parse a posted event, render it to Block Kit), in-process and pinned.

Run against one or more checkouts side by side (each in its own interpreter, alternating, best of five):
    .venv/bin/python bench/hotpath.py                      # this checkout
    .venv/bin/python bench/hotpath.py --src ../old/src     # this checkout and another one, alternating
Less noisy than the HTTP benchmarks on a shared machine, as it measures CPU time of pure functions only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KINDS = ("campaign_failure", "crm_sync", "web_services", "engagement", "other")


def measure() -> dict[str, float]:
    """Microseconds per parse and per render, best of five rounds."""
    from notifbot.render.slack import render_slack
    from notifbot.sources.events import parse_body

    bodies = [
        json.dumps(
            {
                "kind": kind,
                "instance": "123-ABC-456",
                "occurred_at": "2026-11-30T10:00:00Z",
                "fields": {
                    "campaign_name": f"c{i}",
                    "error": "boom",
                    "usage_percent": 81,
                    "program_name": "p",
                },
            }
        ).encode()
        for i, kind in enumerate(KINDS)
    ]
    now = datetime.now(UTC)
    notifications = [parse_body(b, now=now)[0] for b in bodies]

    def best(step: object, n: int) -> float:
        rounds = []
        for _ in range(5):
            start = time.perf_counter()
            for i in range(n):
                step(i)  # type: ignore[operator]
            rounds.append((time.perf_counter() - start) / n * 1e6)
        return min(rounds)

    return {
        "parse_us": best(lambda i: parse_body(bodies[i % 5], now=now), 20_000),
        "render_us": best(lambda i: render_slack(notifications[i % 5]), 5_000),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--src", action="append", default=[], help="another checkout's src/ to compare (repeatable)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per checkout (default 3)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure()))
        return 0
    sources = [str(REPO / "src"), *(str(Path(s).resolve()) for s in args.src)]
    pin = ["taskset", "-c", "1"] if os.cpu_count() and os.cpu_count() > 1 and _has("taskset") else []
    results: dict[str, list[dict[str, float]]] = {s: [] for s in sources}
    for _ in range(args.rounds):
        for src in sources:
            out = subprocess.run(
                [*pin, sys.executable, __file__, "--child"],
                env={**os.environ, "PYTHONPATH": src},
                capture_output=True,
                text=True,
                check=True,
            )
            results[src].append(json.loads(out.stdout))
    for src, runs in results.items():
        parse = min(r["parse_us"] for r in runs)
        render = min(r["render_us"] for r in runs)
        print(
            f"{src}: parse {parse:.1f} µs/event, render to Block Kit {render:.1f} µs/event (best of {len(runs)})"
        )
    return 0


def _has(tool: str) -> bool:
    return any((Path(p) / tool).exists() for p in os.environ.get("PATH", "").split(os.pathsep))


if __name__ == "__main__":
    sys.exit(main())
