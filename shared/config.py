"""Gotong's settings, read once from ``GOTONG_*`` environment variables at the entry point."""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path


class SettingsError(ValueError):
    """A ``GOTONG_*`` variable has a value Gotong cannot use."""


def _integer(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from error
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


_RATE = re.compile(r"^(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*(s|min|h)$")
_PERIODS = {"s": 1, "min": 60, "h": 3600}


@dataclass(frozen=True)
class Rate:
    """A rate limit as a token bucket: `requests` at once, refilled evenly over `seconds`."""

    requests: int
    seconds: float

    def __str__(self) -> str:
        return f"{self.requests}/{self.seconds:g}s"


PER_PRINCIPAL = Rate(100, 10)
"""A caller: 100 requests at once, 10 a second after that."""
PER_ADDRESS = Rate(300, 10)
"""A client address, whoever calls from it (an office behind one NAT): 300 at once, 30 a second."""
FAILED_AUTH = Rate(20, 60)
"""Failed authentications from a client address: 20 at once, one more every 3 s."""


def _rate(env: Mapping[str, str], name: str, default: Rate | None) -> Rate | None:
    """`600/min`, `20/s`, `5000/h`, `5/2s`, or `off`."""
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw == "off":
        return None
    matched = _RATE.match(raw)
    if matched:
        requests, count, unit = int(matched[1]), float(matched[2] or 1), matched[3]
        seconds = count * _PERIODS[unit]
        if requests >= 1 and seconds > 0 and math.isfinite(seconds):
            return Rate(requests, seconds)
    raise SettingsError(
        f"{name} must be a number of requests per period, such as 600/min, 20/s, 5000/h or 5/2s "
        f"(at least 1 request), or off; got {raw!r}"
    )


def _switch(env: Mapping[str, str], name: str) -> bool | None:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return None
    if raw in ("on", "true", "1"):
        return True
    if raw in ("off", "false", "0"):
        return False
    raise SettingsError(f"{name} must be on or off, got {raw!r}")


def _leeway(env: Mapping[str, str]) -> int:
    leeway = _integer(env, "GOTONG_OIDC_LEEWAY_SECONDS", 30, minimum=0)
    if leeway > 60:
        raise SettingsError(f"GOTONG_OIDC_LEEWAY_SECONDS must be at most 60, got {leeway}")
    return leeway


EVERY_ADDRESS = ("0.0.0.0/0", "::/0")


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """`1`/`on` (every address), `off` (none), or CIDRs separated by commas, such as `127.0.0.0/8,::1/128`."""
    raw = (env.get(name) or "").strip().lower()
    if raw in ("", "0", "off", "false"):
        return ()
    if raw in ("1", "on", "true", "*"):
        return EVERY_ADDRESS
    networks = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as error:
            raise SettingsError(f"{name} must be on, off or CIDRs separated by commas; {part!r}: {error}") from error
    return tuple(networks)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything a Gotong process needs to know about its surroundings."""

    database_url: str | None = None
    nats_url: str | None = None
    nats_prefix: str = "gotong"
    data_dir: Path = field(default_factory=lambda: Path(".gotong"))
    host: str = "127.0.0.1"
    port: int = 8000
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    jwt_issuer: str = "gotong"
    max_body_bytes: int = 1_048_576
    stream_replicas: int = 1
    duplicate_window_seconds: int = 120
    max_deliveries: int = 5
    pool_size: int = 10
    log_level: str = "INFO"
    log_json: bool = True
    rate_limit: bool | None = None
    """Whether the limits below apply; None leaves it to the command: on for `gotong serve`, off otherwise."""
    rate_per_principal: Rate | None = PER_PRINCIPAL
    rate_per_address: Rate | None = PER_ADDRESS
    rate_failed_auth: Rate | None = FAILED_AUTH
    """Failed authentications per client address; once spent, that address may not try again until it refills."""
    trusted_proxies: str = "127.0.0.1,::1"
    """Addresses (or `*`) whose X-Forwarded-For names the client: the proxy in front of Gotong."""
    api_key_pepper: str | None = None
    """The server secret API keys' secrets are HMAC'd with; without it no key can be created or used."""
    oidc_issuer: str | None = None
    """An OpenID Connect provider whose access tokens are accepted (its discovery document names the JWKS)."""
    oidc_audience: str | None = None
    oidc_org_claim: str | None = None
    """The claim naming the caller's organisation; without it (or when absent) the membership says."""
    oidc_role_claim: str | None = None
    oidc_refresh_seconds: int = 30
    """At most one JWKS refetch per this many seconds for a token with an unknown key id."""
    oidc_leeway_seconds: int = 30
    webhooks_allow_private: tuple[str, ...] = ()
    """Networks (CIDRs) webhook endpoints may resolve into although they are private, loopback, link-local…"""
    webhooks_allow_http: bool = False
    """Whether webhook endpoints may be plain http:// (otherwise https:// only)."""
    webhooks_disable_after_hours: int = 24
    """A webhook subscription failing without a success for this long is disabled."""
    webhooks_disable_after_failures: int = 0
    """…or after this many failed attempts in a row (0: only the streak's length counts)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database_url=env.get("GOTONG_DATABASE_URL") or None,
            nats_url=env.get("GOTONG_NATS_URL") or None,
            nats_prefix=env.get("GOTONG_NATS_PREFIX") or "gotong",
            data_dir=Path(env.get("GOTONG_DATA_DIR") or ".gotong"),
            host=env.get("GOTONG_HOST") or "127.0.0.1",
            port=_integer(env, "GOTONG_PORT", 8000, minimum=0),
            jwt_secret=env.get("GOTONG_JWT_SECRET") or None,
            jwt_public_key=env.get("GOTONG_JWT_PUBLIC_KEY") or None,
            jwt_issuer=env.get("GOTONG_JWT_ISSUER") or "gotong",
            max_body_bytes=_integer(env, "GOTONG_MAX_BODY_BYTES", 1_048_576, minimum=1024),
            stream_replicas=_integer(env, "GOTONG_STREAM_REPLICAS", 1, minimum=1),
            duplicate_window_seconds=_integer(env, "GOTONG_DUPLICATE_WINDOW_SECONDS", 120, minimum=1),
            max_deliveries=_integer(env, "GOTONG_MAX_DELIVERIES", 5, minimum=1),
            pool_size=_integer(env, "GOTONG_POOL_SIZE", 10, minimum=2),
            log_level=(env.get("GOTONG_LOG_LEVEL") or "INFO").upper(),
            log_json=(env.get("GOTONG_LOG_FORMAT") or "json") == "json",
            rate_limit=_switch(env, "GOTONG_RATE_LIMIT"),
            rate_per_principal=_rate(env, "GOTONG_RATE_LIMIT_PER_PRINCIPAL", PER_PRINCIPAL),
            rate_per_address=_rate(env, "GOTONG_RATE_LIMIT_PER_ADDRESS", PER_ADDRESS),
            rate_failed_auth=_rate(env, "GOTONG_RATE_LIMIT_FAILED_AUTH", FAILED_AUTH),
            trusted_proxies=(env.get("GOTONG_TRUSTED_PROXIES") or "127.0.0.1,::1").replace(" ", ""),
            api_key_pepper=env.get("GOTONG_API_KEY_PEPPER") or None,
            oidc_issuer=(env.get("GOTONG_OIDC_ISSUER") or "").rstrip("/") or None,
            oidc_audience=env.get("GOTONG_OIDC_AUDIENCE") or None,
            oidc_org_claim=env.get("GOTONG_OIDC_ORG_CLAIM") or None,
            oidc_role_claim=env.get("GOTONG_OIDC_ROLE_CLAIM") or None,
            oidc_refresh_seconds=_integer(env, "GOTONG_OIDC_REFRESH_SECONDS", 30, minimum=1),
            oidc_leeway_seconds=_leeway(env),
            webhooks_allow_private=_networks(env, "GOTONG_WEBHOOKS_ALLOW_PRIVATE"),
            webhooks_allow_http=_switch(env, "GOTONG_WEBHOOKS_ALLOW_HTTP") or False,
            webhooks_disable_after_hours=_integer(env, "GOTONG_WEBHOOKS_DISABLE_AFTER_HOURS", 24, minimum=1),
            webhooks_disable_after_failures=_integer(env, "GOTONG_WEBHOOKS_DISABLE_AFTER_FAILURES", 0, minimum=0),
        )

    def with_servers(self, database_url: str, nats_url: str) -> Settings:
        return replace(self, database_url=database_url, nats_url=nats_url)
