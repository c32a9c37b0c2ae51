"""docker-compose.yml runs two replicas of one image on one healthy PostgreSQL with a config that validates
(checked from the text: no Docker engine or compose plugin is needed)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from notifbot.config import load_settings
from notifbot.config.checks import environment_problems
from notifbot.config.env import Env
from notifbot.config.settings import ServerSettings
from notifbot.http_server import files_needed

REPO = Path(__file__).resolve().parents[2]
REPLICAS = ("notifbot-a", "notifbot-b")
# compose's `${VAR}`, `${VAR:-default}`, `${VAR:?message}`
_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    service = compose["services"][name]
    assert isinstance(service, dict)
    return service


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """The service's environment as compose would pass it, each `${VAR…}` given a test value."""
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: _INTERPOLATION.sub(lambda m: f"test-{m.group(1).lower()}", str(v)) for k, v in env.items()}


def _seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m)", value)
    assert match is not None, value
    return int(match.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[match.group(2)]


def test_the_replicas_run_one_image_on_one_database(compose: dict[str, Any]) -> None:
    a, b = (_service(compose, name) for name in REPLICAS)
    assert a["build"] == b["build"] and a.get("image") == b.get("image")
    context = a["build"] if isinstance(a["build"], str) else a["build"]["context"]
    assert (REPO / context / "Dockerfile").is_file()
    urls = {_environment(s)["NOTIFBOT_DATABASE_URL"] for s in (a, b)}
    assert urls == {"postgresql://notifbot:notifbot@postgres:5432/notifbot"}


def test_the_database_url_names_the_postgres_service_and_its_account(compose: dict[str, Any]) -> None:
    postgres = _service(compose, "postgres")
    assert postgres["image"].split(":")[0] == "postgres" and postgres["image"].split(":")[1].startswith("16")
    url = urlsplit(_environment(_service(compose, REPLICAS[0]))["NOTIFBOT_DATABASE_URL"])
    pg_env = _environment(postgres)
    assert (url.hostname, url.port) == ("postgres", 5432)
    assert (url.username, url.password, url.path.lstrip("/")) == (
        pg_env["POSTGRES_USER"],
        pg_env["POSTGRES_PASSWORD"],
        pg_env["POSTGRES_DB"],
    )


def test_postgres_keeps_its_data_in_a_named_volume_and_has_a_readiness_check(compose: dict[str, Any]) -> None:
    postgres = _service(compose, "postgres")
    sources = [v.split(":")[0] for v in postgres["volumes"] if v.endswith(":/var/lib/postgresql/data")]
    assert len(sources) == 1 and sources[0] in compose["volumes"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


@pytest.mark.parametrize("name", REPLICAS)
def test_each_replica_needs_healthy_postgres_and_checks_readyz(compose: dict[str, Any], name: str) -> None:
    service = _service(compose, name)
    assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    probe = " ".join(service["healthcheck"]["test"])
    assert "http://127.0.0.1:8080/readyz" in probe
    assert "curl" not in probe and "wget" not in probe  # neither exists in python:*-slim
    assert int(service["ulimits"]["nofile"]) >= files_needed(ServerSettings().max_connections)


def test_replicas_publish_own_host_ports_to_the_serve_port(compose: dict[str, Any]) -> None:
    published = [_service(compose, name)["ports"] for name in REPLICAS]
    assert all(len(ports) == 1 for ports in published)
    host_ports = [ports[0].split(":")[-2] for ports in published]
    assert host_ports == ["8080", "8081"]
    assert {ports[0].split(":")[-1] for ports in published} == {"8080"}


@pytest.mark.parametrize("name", REPLICAS)
def test_mounted_config_validates_with_the_replica_env(compose: dict[str, Any], name: str) -> None:
    service = _service(compose, name)
    environ = _environment(service)
    mounts = dict(reversed(v.split(":")[:2]) for v in service["volumes"])
    source = REPO / mounts[environ["NOTIFBOT_CONFIG"]]
    assert source.is_file(), source
    settings = load_settings(str(source), environ)
    assert environment_problems(settings, Env(environ)) == []
    assert settings.server.port == 8080
    assert _seconds(service["stop_grace_period"]) > settings.delivery.drain_seconds
