"""Running services over HTTP in tests: an app on the test's own database and NATS prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace

from litestar.testing import AsyncTestClient

from shared.auth import Role, TokenAuthority
from shared.config import Settings
from shared.http import create_app
from shared.kernel.clock import Clock
from shared.runtime import Runtime
from shared.service import Service

SECRET = "test-secret-that-is-long-enough-for-hs256"
TOKENS = TokenAuthority(secret=SECRET)
PEPPER = "test-pepper-for-api-key-hashes"
LOOPBACK = ("127.0.0.0/8", "::1/128")


def token(role: Role | str, org: str = "org-1", sub: str = "user-1") -> dict[str, str]:
    """An Authorization header for a caller with this role and organisation."""
    return {"Authorization": f"Bearer {TOKENS.issue(sub=sub, role=Role(role), org=org)}"}


def settings_for(database_url: str, nats_url: str, prefix: str) -> Settings:
    return replace(
        Settings(),
        database_url=database_url,
        nats_url=nats_url,
        nats_prefix=prefix,
        jwt_secret=SECRET,
        api_key_pepper=PEPPER,
        pool_size=10,
        max_deliveries=3,
        log_json=False,
        webhooks_allow_private=LOOPBACK,  # the tests' webhook receivers listen on loopback, over plain http
        webhooks_allow_http=True,
    )


@asynccontextmanager
async def serve(
    services: Sequence[Service], settings: Settings, *, clock: Clock | None = None
) -> AsyncIterator[tuple[AsyncTestClient, Runtime]]:  # type: ignore[type-arg]
    """Start the services' app (runtime included) and yield an HTTP client for it."""
    runtime = Runtime(settings, services, clock=clock)
    app = create_app(settings, services, runtime=runtime)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield client, runtime
