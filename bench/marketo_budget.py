"""Simulated Marketo days: the API calls notifbot makes at default settings, per feature, against its daily budget.

The instance has 2,000 smart campaigns (1,200 active triggers, all 2,000 active so the refresh pages through every
one) and 200,000 activities a day of the watched types; 300 triggers never qualify anyone, 50 of them created a month
before the start (too young for Marketo's cleanup), the rest long before. notifbot starts watching at the start, so
the quiet old ones are only flagged once its deeper scan has looked back `at_risk_days` (item 13 of issue #10). The real pollers (QuotaWatch, CampaignRefresh, ActivityScan)
and the real MarketoClient talk HTTP to FakeMarketo on loopback; time is virtual (the client's clock, pacing sleeps,
token expiry, export processing and the fake's notion of "now" all move together), so two days run in seconds.
Calls are counted by the fake, per US Central day, the way Marketo counts them.

    .venv/bin/python bench/marketo_budget.py [--days 2] [--activities-per-day 200000] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from tests.fakes.marketo import FakeMarketo  # noqa: E402

from notifbot.central_time import CENTRAL, central_date  # noqa: E402
from notifbot.config import parse_settings  # noqa: E402
from notifbot.marketo.client import MarketoClient  # noqa: E402
from notifbot.model import Notification  # noqa: E402
from notifbot.sources.marketo.activities import POLLER as ACTIVITIES  # noqa: E402
from notifbot.sources.marketo.activities import ActivityScan  # noqa: E402
from notifbot.sources.marketo.campaigns import CampaignRefresh  # noqa: E402
from notifbot.sources.marketo.quota import QuotaWatch  # noqa: E402
from notifbot.store.events import insert_notifications  # noqa: E402
from notifbot.store.runner import Database  # noqa: E402

MUNCHKIN = "123-ABC-456"
DEEPER = "deeper"  # activities calls looking back before the first scan's look-back (a breakdown)
QUOTA = 50_000
START = datetime(2026, 3, 2, 0, 0, tzinfo=CENTRAL)  # a Monday, 00:00 CT
TRIGGERS, CAMPAIGNS, QUIET_TRIGGERS, YOUNG_QUIET = 1_200, 2_000, 300, 50
CREATED_LONG_AGO = START - timedelta(days=420)
COVERED_AT_START = START - timedelta(
    days=1
)  # the first scan's look-back: older windows are the deeper scan's


def _hours(now: datetime) -> float:
    local = now.astimezone(CENTRAL)
    return local.hour + local.minute / 60 + local.second / 3600


# Percent of the daily quota the instance's other integrations have used, by US Central time of day.
SCENARIOS: dict[str, tuple[str, Callable[[datetime], float]]] = {
    "quiet": ("35 % by midnight", lambda t: 35 * _hours(t) / 24),
    "busy": (
        "80 % at ~21:00, 97 % by midnight",
        lambda t: min(97.0, 10 * _hours(t) / 8 + max(0, _hours(t) - 8) * 87 / 16),
    ),
    "runaway": (
        "100 % at 16:40 CT (Marketo answers 607)",
        lambda t: min(100.0, 100 * _hours(t) / (16 + 2 / 3)),
    ),
    "hot-all-day": (
        "over 80 % from 01:00, never 100 %",
        lambda t: 80 * _hours(t) if _hours(t) < 1 else min(99.9, 80 + 19 * (_hours(t) - 1) / 23),
    ),
}


class VirtualTime:
    """One clock for everything: wall time, monotonic time and sleeps."""

    def __init__(self, start: datetime) -> None:
        self.t = start.timestamp()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)


class ScenarioMarketo(FakeMarketo):
    """FakeMarketo whose usage follows a scenario curve, answering 607 once the quota is used up."""

    def __init__(self, curve: Callable[[datetime], float], **kw: Any) -> None:
        super().__init__(**kw)
        self.curve = curve
        self.by_day: Counter[tuple[str, str]] = Counter()
        self.deep_exports: set[str] = set()  # export jobs of windows older than the first scan's look-back
        self.deep_tokens: set[str] = set()  # paging tokens of such windows (and the pages after them)

    def _category(self, path: str) -> str:
        if "/stats/" in path:
            return "quota"
        return "campaigns" if "smartCampaign" in path else ACTIVITIES

    def _deeper(self, request: Request) -> bool:
        """Whether an activities call belongs to the deeper scan (looking back before the first scan's start)."""
        q, path = request.query_params, request.url.path
        if path.endswith("pagingtoken.json"):
            return _parse(q.get("sinceDatetime")) < COVERED_AT_START
        if path.endswith("activities.json"):
            return q.get("nextPageToken") in self.deep_tokens
        return any(f"/{job}/" in path for job in self.deep_exports)

    def _gate(self, request: Request) -> Response | None:
        day = central_date(self.now()).isoformat()
        self.by_day[(day, self._category(request.url.path))] += 1
        if self._category(request.url.path) == ACTIVITIES and self._deeper(request):
            self.by_day[(day, DEEPER)] += 1  # counted among the activities too: a breakdown, not a feature
        blocked = super()._gate(request)
        if blocked is None and self.curve(self.now()) >= 100:
            return self._error("607")
        return blocked

    def _paging_token(self, request: Request) -> Response:
        answer = super()._paging_token(request)
        if self._deeper(request):
            self.deep_tokens.add(str(json.loads(bytes(answer.body)).get("nextPageToken")))
        return answer

    def _activities(self, request: Request) -> Response:
        answer = super()._activities(request)
        if self._deeper(request):
            self.deep_tokens.add(str(json.loads(bytes(answer.body)).get("nextPageToken")))
        return answer

    async def _export_create(self, request: Request) -> Response:
        answer = await super()._export_create(request)
        start = json.loads(await request.body()).get("filter", {}).get("createdAt", {}).get("startAt")
        result = json.loads(bytes(answer.body)).get("result") or [{}]
        if result[0].get("exportId") and _parse(start) < COVERED_AT_START:
            self.deep_exports.add(str(result[0]["exportId"]))
            self.by_day[(central_date(self.now()).isoformat(), DEEPER)] += 1  # the create itself
        return answer

    def _usage(self, request: Request) -> Response:
        used = int(QUOTA * self.curve(self.now()) / 100)
        self.usage_users = {"bi-connector": used * 7 // 10, "crm-sync": used // 4}
        self.usage_users["forms-api"] = used - sum(self.usage_users.values())
        return super()._usage(request)


def _parse(text: object) -> datetime:
    """A timestamp the client sent (ISO 8601, `Z`), else the epoch."""
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return datetime.fromtimestamp(0, UTC)


def build_campaigns() -> list[dict[str, Any]]:
    out = []
    for cid in range(1, CAMPAIGNS + 1):
        young = TRIGGERS - YOUNG_QUIET < cid <= TRIGGERS  # the last quiet triggers are a month old
        created = START - timedelta(days=30) if young else CREATED_LONG_AGO
        out.append(
            {
                "id": cid,
                "name": f"Campaign {cid}",
                "type": "trigger" if cid <= TRIGGERS else "batch",
                "isActive": True,
                "computedUrl": f"https://app-ab01.marketo.com/#SC{cid}A1",
                "createdAt": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ+0000"),
            }
        )
    return out


def build_activities(
    days: int, per_day: int, types: list[int]
) -> tuple[list[dict[str, Any]], list[datetime]]:
    """`per_day` activities for each day from the day before START (the first scan's look-back) on, sorted."""
    rng = random.Random(42)
    first = START - timedelta(days=1)
    total_seconds = (days + 1) * 86_400
    offsets = sorted(rng.random() * total_seconds for _ in range(per_day * (days + 1)))
    active = TRIGGERS - QUIET_TRIGGERS  # the last QUIET_TRIGGERS triggers never qualify anyone
    acts, times = [], []
    for i, off in enumerate(offsets):
        when = first + timedelta(seconds=int(off))
        cid = rng.randint(1, active) if rng.random() < 0.8 else rng.randint(TRIGGERS + 1, CAMPAIGNS)
        acts.append(
            {
                "id": i,
                "activityDate": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "activityTypeId": types[i % len(types)],
                "campaignId": cid,
            }
        )
        times.append(when.astimezone(UTC).replace(microsecond=0))
    return acts, times


async def simulate(
    name: str,
    curve: Callable[[datetime], float],
    days: int,
    data: tuple[list[dict[str, Any]], list[datetime]],
) -> dict[str, Any]:
    vt = VirtualTime(START)
    with (
        tempfile.TemporaryDirectory() as tmp,
        ScenarioMarketo(
            curve,
            client_id="cid",
            client_secret="secret",
            clock=vt.monotonic,
            now=vt.now,
            export_seconds=20 * 60,
            campaigns=build_campaigns(),
        ) as fake,
    ):
        fake.set_activities(*data)
        settings = parse_settings(
            {
                "storage": {"path": f"{tmp}/notifbot.db"},
                "marketo": {
                    "instances": [
                        {
                            "munchkin_id": MUNCHKIN,
                            "base_url": fake.base_url,
                            "client_id": "cid",
                            "client_secret": "secret",
                        }
                    ]
                },
            },
            source="bench",
        )
        m, t = settings.marketo, settings.marketo.triggers
        inst = m.instances[0]
        db = Database(settings.storage.path)
        client = MarketoClient(
            inst,
            budget=m.budget_for(inst),
            caps=m.caps_for(inst),
            sleep=vt.sleep,
            now=vt.now,
            monotonic=vt.monotonic,
        )
        alerts: list[Notification] = []
        flagged: dict[int, datetime] = {}  # campaign id -> when an at-risk warning first named it

        async def accept(ns: list[Notification]) -> None:
            alerts.extend(ns)
            for n in ns:
                if n.fields.get("stage") == "at_risk":
                    for c in n.fields.get("campaigns") or []:
                        flagged.setdefault(int(c["id"]), vt.now())
            await db.call(insert_notifications, [(n, []) for n in ns])

        watch = QuotaWatch(client, inst, db, accept, thresholds=m.quota_thresholds, clock=vt.now)
        refresh = CampaignRefresh(client, db, accept, t.at_risk_days, clock=vt.now)
        scan = ActivityScan(client, db, t, accept, clock=vt.now)

        async def refresh_poll() -> float:
            await refresh.run_once()
            return t.refresh_minutes * 60.0

        polls: dict[str, Callable[[], Awaitable[float]]] = {
            "quota": watch.poll,
            "campaigns": refresh_poll,
            ACTIVITIES: scan.run_once,
        }
        due = {"quota": vt.t + 5, "campaigns": vt.t + 20, ACTIVITIES: vt.t + 40}
        end = (START + timedelta(days=days)).timestamp()
        intervals: list[float] = []
        events: list[str] = []
        mode = "rest"
        while True:
            name_ = min(due, key=lambda k: due[k])
            if due[name_] >= end:
                break
            vt.t = max(vt.t, due[name_])
            started = vt.t
            delay = await polls[name_]()
            if name_ == "quota":
                intervals.append(delay)
            if name_ == ACTIVITIES:
                cursor = await scan.cursor()
                if cursor.mode != mode:
                    local = vt.now().astimezone(CENTRAL)
                    events.append(
                        f"{local:%a %H:%M} CT activities {mode} → {cursor.mode} "
                        f"(measured ~{cursor.rate_per_day or 0:,.0f} activities/day)"
                    )
                    mode = cursor.mode
            due[name_] = max(started, vt.t) + max(1.0, delay)
        cursor = await scan.cursor()
        lag_h = (
            (vt.now() - datetime.fromisoformat(cursor.through.replace("Z", "+00:00"))).total_seconds() / 3600
            if cursor.through
            else None
        )
        seen = await db.read(
            lambda c: c.execute(
                "SELECT count(*) FROM trigger_campaigns WHERE last_activity_at IS NOT NULL"
            ).fetchone()[0]
        )
        db.close()
        await client.aclose()
        per_day: dict[str, dict[str, int]] = {}
        for (day, feature), n in sorted(fake.by_day.items()):
            per_day.setdefault(day, {"quota": 0, "campaigns": 0, ACTIVITIES: 0, DEEPER: 0})[feature] = n
        for counts in per_day.values():
            counts["total"] = counts["quota"] + counts["campaigns"] + counts[ACTIVITIES]
        quiet_old = range(TRIGGERS - QUIET_TRIGGERS + 1, TRIGGERS - YOUNG_QUIET + 1)
        first_flag = min((flagged[c] for c in quiet_old if c in flagged), default=None)
        stretched = sum(1 for i in intervals if i not in (300.0, 600.0, 1800.0))
        return {
            "scenario": name,
            "calls_per_day": per_day,
            "budget": m.budget_for(inst),
            "quota_polls": len(intervals),
            "quota_polls_stretched": stretched,
            "alerts": sorted(
                {f"{n.kind.value}:{n.fields.get('threshold', n.fields.get('stage'))}" for n in alerts}
            ),
            "mode_changes": events,
            "activity_mode_at_end": cursor.mode,
            "activity_lag_hours_at_end": None if lag_h is None else round(lag_h, 1),
            "triggers_with_activity": seen,
            "triggers_never_qualifying": QUIET_TRIGGERS,
            "quiet_old_flagged": sum(1 for c in quiet_old if c in flagged),
            "quiet_old": len(quiet_old),
            "quiet_young_flagged": sum(
                1 for c in range(TRIGGERS - YOUNG_QUIET + 1, TRIGGERS + 1) if c in flagged
            ),
            "others_flagged": sum(1 for c in flagged if c <= TRIGGERS - QUIET_TRIGGERS),
            "first_flagged_after_hours": None
            if first_flag is None
            else round((first_flag - START).total_seconds() / 3600, 1),
        }


def print_report(results: list[dict[str, Any]], args: argparse.Namespace, seconds: float) -> None:
    print(
        f"Marketo budget simulation: {CAMPAIGNS:,} smart campaigns ({TRIGGERS:,} active triggers), "
        f"{args.activities_per_day:,} activities/day, default settings, {args.days} days, {seconds:.1f} s wall"
    )
    print(
        f"{'scenario':<13} {'day':<11} {'quota':>6} {'campaigns':>10} {'activities':>11} {'(deeper)':>9} "
        f"{'total':>6} {'budget':>7}"
    )
    for r in results:
        for day, c in r["calls_per_day"].items():
            ok = "ok" if c["total"] <= r["budget"] else "OVER"
            print(
                f"{r['scenario']:<13} {day:<11} {c['quota']:>6} {c['campaigns']:>10} {c[ACTIVITIES]:>11} "
                f"{c[DEEPER]:>9} {c['total']:>6} {r['budget']:>5} {ok}"
            )
        print(
            f"  quota polls {r['quota_polls']} ({r['quota_polls_stretched']} stretched to fit the budget); "
            f"alerts {', '.join(r['alerts']) or 'none'}; activity source at end: {r['activity_mode_at_end']}, "
            f"lag {r['activity_lag_hours_at_end']} h; triggers with observed activity {r['triggers_with_activity']:,}"
        )
        when = r["first_flagged_after_hours"]
        print(
            f"  at risk: {r['quiet_old_flagged']} of the {r['quiet_old']} quiet triggers created long ago flagged"
            + (f" ({when} h after the start)" if when is not None else "")
            + f"; {r['quiet_young_flagged']} of the {YOUNG_QUIET} a month old and {r['others_flagged']} others"
        )
        for e in r["mode_changes"]:
            print(f"  {e}")


def run(days: int = 2, per_day: int = 200_000, only: list[str] | None = None) -> list[dict[str, Any]]:
    """Runs every scenario (or `only` those) and returns their results."""
    from notifbot.config import DEFAULT_ACTIVITY_TYPES

    logging.getLogger("notifbot").setLevel(
        logging.ERROR
    )  # the pollers' 607 and budget warnings are expected here
    data = build_activities(days, per_day, list(DEFAULT_ACTIVITY_TYPES))
    names = only or list(SCENARIOS)
    return [asyncio.run(simulate(n, SCENARIOS[n][1], days, data)) for n in names]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=2)
    ap.add_argument("--activities-per-day", type=int, default=200_000)
    ap.add_argument("--scenario", action="append", choices=list(SCENARIOS))
    ap.add_argument("--json", type=Path, help="write the results as JSON here")
    args = ap.parse_args(argv)
    began = time.monotonic()
    results = run(args.days, args.activities_per_day, args.scenario)
    print_report(results, args, time.monotonic() - began)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    over = [r for r in results for c in r["calls_per_day"].values() if c["total"] > r["budget"]]
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
