"""Prometheus Alertmanager in the storm bench: its config, its process on a free port, and a storm posted to it."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from bench.ingest import Server, clean_env, free_port
from bench.storm_watch import item_name

BINARIES = ("prometheus-alertmanager", "alertmanager")  # Debian's name, then upstream's
ALERTNAME = "CampaignFailure"
PROMETHEUS_BATCH = 64  # Prometheus' notifier sends at most 64 alerts per request to an Alertmanager
# The message lists every alert (Alertmanager's default Slack text is empty: the title alone says "[FIRING:N]").
TEXT = "{{ range .Alerts }}• {{ .Labels.campaign }}: {{ .Annotations.summary }}\n{{ end }}"


def binary() -> str | None:
    """The Alertmanager executable on PATH, or None (`apt-get install prometheus-alertmanager`)."""
    return next((p for p in map(shutil.which, BINARIES) if p), None)


def version(path: str) -> str:
    """The first line of `alertmanager --version`."""
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    return ((out.stdout or out.stderr).splitlines() or [""])[0]


def config(webhook_url: str) -> dict[str, Any]:
    """Grouped by alertname, group_wait 1 s, group_interval 5 m, repeat 4 h; one Slack receiver (a webhook)."""
    return {
        "route": {
            "receiver": "slack",
            "group_by": ["alertname"],
            "group_wait": "1s",
            "group_interval": "5m",
            "repeat_interval": "4h",
        },
        "receivers": [
            {
                "name": "slack",
                "slack_configs": [
                    {"api_url": webhook_url, "channel": "#storm", "send_resolved": False, "text": TEXT}
                ],
            }
        ],
    }


def server(path: str, workdir: Path, webhook_url: str) -> Server:
    """Alertmanager with its own config and --storage.path under `workdir`, HA gossip off (no settle wait)."""
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = workdir / "alertmanager.yml"
    cfg.write_text(yaml.safe_dump(config(webhook_url), sort_keys=False, allow_unicode=True))
    port = free_port()
    argv = [path, f"--config.file={cfg}", f"--storage.path={workdir / 'data'}"]
    argv += [f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn"]
    return _ReadyServer("alertmanager", argv, port, workdir, clean_env(), workdir)


class _ReadyServer(Server):
    """A Server whose readiness probe is Alertmanager's GET /-/ready."""

    def start(self, timeout: float = 30.0) -> Server:
        stderr = open(self.log_dir / f"{self.name}.stderr.log", "wb")  # noqa: SIM115 - closed in stop()
        self._files.append(stderr)
        self.proc = subprocess.Popen(
            self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"alertmanager exited early ({self.proc.returncode}): {self.stderr_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"alertmanager did not become ready in {timeout:.0f}s: {self.stderr_tail()}")


def alerts(size: int) -> list[dict[str, Any]]:
    """`size` firing alerts as Prometheus posts them: one alertname, one label (`campaign`) telling them apart."""
    now = datetime.now(UTC)
    ends = now + timedelta(hours=1)  # Prometheus resends firing alerts with endsAt a few intervals ahead
    return [
        {
            "labels": {
                "alertname": ALERTNAME,
                "instance": "123-ABC-456",
                "campaign": item_name(i),
                "severity": "warning",
            },
            "annotations": {
                "summary": f'Smart campaign "{item_name(i)}" stopped on flow step 2 (Send Email).'
            },
            "startsAt": now.isoformat(),
            "endsAt": ends.isoformat(),
            "generatorURL": "http://prometheus.example/graph",
        }
        for i in range(size)
    ]


def send(url: str, storm: list[dict[str, Any]], batch: int) -> None:
    """POST /api/v2/alerts in requests of `batch` alerts (1 = one by one), in order, on one connection."""
    with httpx.Client(timeout=30) as client:
        for start in range(0, len(storm), batch):
            resp = client.post(f"{url}/api/v2/alerts", json=storm[start : start + batch])
            if resp.status_code != 200:
                raise RuntimeError(f"alertmanager answered {resp.status_code}: {resp.text[:300]}")
