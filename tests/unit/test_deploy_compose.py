"""docker-compose.yml as compose reads it (Debian's docker-compose, `config`, no engine needed), and the proxy in
front of it: every service that pyproject declares runs, is configured and gets its routes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.config import Settings
from shared.http import create_app

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
SECRET = "a-long-random-secret-for-the-compose-check"

REQUIRED = {
    "GOTONG_DATABASE_URL": "no database otherwise (`gotong serve` outside `gotong dev` refuses to start)",
    "GOTONG_NATS_URL": "no NATS otherwise",
    "GOTONG_JWT_SECRET": "tokens cannot be checked otherwise (or GOTONG_JWT_PUBLIC_KEY)",
    "GOTONG_STREAM_REPLICAS": "the default, 1, loses events with a NATS node; a cluster needs 3",
    "GOTONG_TRUSTED_PROXIES": "behind a proxy, the default would count every client as the proxy's address",
}
"""Settings whose defaults are unsafe for a deployment: every deployment sets them."""


def declared_services() -> list[str]:
    """The services pyproject declares (the `gotong.services` entry points), as the image installs them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return sorted(project["project"]["entry-points"]["gotong.services"])


def settings_read() -> set[str]:
    """Every GOTONG_* variable Settings reads."""
    return set(re.findall(r'"(GOTONG_[A-Z_]+)"', (ROOT / "shared" / "config.py").read_text()))


@cache
def routes_of(service: str) -> list[str]:
    """The paths of a service's API (its OpenAPI document), with example values for their parameters."""
    from shared.service import load_services

    (found,) = load_services([service])
    settings = Settings(database_url="postgresql://unused", nats_url="nats://unused", jwt_secret=SECRET)
    document: dict[str, Any] = create_app(settings, [found]).openapi_schema.to_schema()
    return [re.sub(r"\{[^}]+\}", "0190f0a4-7b1c-7cc0-8000-000000000001", path) for path in document["paths"]]


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("docker-compose")
    if executable is None:
        reason = "docker-compose is not installed (apt-get install docker-compose)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the compose file must be checked in CI: {reason}")
        pytest.skip(reason)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GOTONG_", "COMPOSE_"))}
    return subprocess.run(
        [executable, "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml"), "config"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    done = compose_config({"GOTONG_JWT_SECRET": SECRET})
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = yaml.safe_load(done.stdout)
    return config


def test_compose_refuses_to_start_without_a_token_secret() -> None:
    done = compose_config({})
    assert done.returncode != 0
    assert "set GOTONG_JWT_SECRET" in done.stderr


def test_every_declared_service_runs_after_the_migration(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["command"] == ["migrate"]
    for name in declared_services():
        assert name in services, f"docker-compose.yml has no `{name}` service"
        service = services[name]
        assert service["command"] == ["serve", name]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    served = {n for n, s in services.items() if s.get("command", [None])[0] == "serve"}
    assert served == set(declared_services())
    assert set(declared_services()) <= set(services["proxy"]["depends_on"])


def test_every_gotong_container_is_configured(compose: dict[str, Any]) -> None:
    assert set(REQUIRED) <= settings_read(), "a setting named here no longer exists"
    for name in [*declared_services(), "migrate"]:
        environment = compose["services"][name]["environment"]
        for variable in REQUIRED:
            assert environment.get(variable), f"{name} does not set {variable}: {REQUIRED[variable]}"
        assert environment["GOTONG_JWT_SECRET"] == SECRET
        assert environment["GOTONG_STREAM_REPLICAS"] == "3"


def test_the_comment_about_tokens_names_a_command_that_exists() -> None:
    head = (ROOT / "docker-compose.yml").read_text().split("\n\n")[0]
    assert "see below" not in head
    command = re.search(r"`docker compose exec (\w+) (gotong token[^`]+)`", head.replace("\n# ", " "))
    assert command is not None, head
    assert command[1] in declared_services()
    from shared.cli import parser

    arguments = parser().parse_args(command[2].split()[1:])
    assert arguments.run.__name__ == "cmd_token"


# --- the proxy --------------------------------------------------------------------------------------------


def nginx_locations() -> tuple[list[tuple[re.Pattern[str], str]], list[tuple[str, str]]]:
    """(regex locations in order, prefix locations) of the proxy, each with its body."""
    text = (ROOT / "deploy" / "proxy" / "nginx.conf").read_text()
    regexes = [(re.compile(m[1]), m[2]) for m in re.finditer(r"location ~ (\S+)\s*\{([^}]*)\}", text)]
    prefixes = [(m[1], m[2]) for m in re.finditer(r"location (/\S*)\s*\{([^}]*)\}", text)]
    return regexes, prefixes


def proxied_to(path: str) -> str | None:
    """The upstream nginx sends ``path`` to (nginx: the first matching regex, else the longest prefix)."""
    regexes, prefixes = nginx_locations()
    for pattern, body in regexes:
        if matched := pattern.search(path):
            upstream = re.search(r"proxy_pass http://([\w$]+)", body)
            if upstream is None:
                return None
            return re.sub(r"\$(\d)", lambda g: matched[int(g[1])], upstream[1])
    longest = max((p for p in prefixes if path.startswith(p[0])), key=lambda p: len(p[0]), default=None)
    if longest is None:
        return None
    upstream = re.search(r"proxy_pass http://(\w+)", longest[1])
    return upstream[1] if upstream else None


def test_the_proxy_sends_every_route_to_the_service_that_serves_it() -> None:
    for service in declared_services():
        for path in routes_of(service):
            if path.startswith("/v1/"):
                assert proxied_to(path) == service, f"the proxy sends {path} to {proxied_to(path)}, not {service}"
    assert proxied_to("/schema/openapi.json") in declared_services()
    assert proxied_to("/schema/asyncapi.json") in declared_services()


def test_the_proxy_keeps_metrics_private() -> None:
    assert proxied_to("/metrics") is None
    upstreams = set(re.findall(r"upstream (\w+)", (ROOT / "deploy" / "proxy" / "nginx.conf").read_text()))
    assert upstreams == set(declared_services())
