"""Sending a webhook: resolve, check, connect to the address checked, POST, keep the start of the answer.

Every connection is made by ``PinnedBackend``: it resolves the URL's host itself, refuses the lot if any
address is not allowed (``AddressPolicy``), and connects to an address it checked, so a name cannot resolve
to a public address when checked and to a private one when connected (DNS rebinding). TLS still verifies
the certificate against the URL's host name, and a kept-alive connection is reused only for the same host.
No redirect is followed and no proxy from the environment is used. One try takes at most 10 s in all.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpcore

from services.webhooks.domain.addresses import (
    AddressPolicy,
    EndpointRefused,
    IPAddress,
    literal_address,
)
from services.webhooks.domain.retries import RESPONSE_KEPT, TIMEOUT_SECONDS

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
USER_AGENT = "Gotong-Webhooks/1"
RESOLVE_SECONDS = 5.0


async def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses ``host`` resolves to (itself for an IP literal); a name that does not resolve is refused."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, TimeoutError) as error:
        raise EndpointRefused(f"{host} does not resolve ({error or type(error).__name__})") from None
    found: list[IPAddress] = []
    for info in infos:
        address = literal_address(str(info[4][0]).split("%", 1)[0])  # an IPv6 zone (fe80::1%eth0) is dropped
        if address is not None:
            found.append(address)
    return found


async def vet(policy: AddressPolicy, url: str, resolver: Resolver = resolve) -> None:
    """Refuse (``EndpointRefused``) a URL no webhook may go to, resolving its host now."""
    endpoint = policy.endpoint(url)
    policy.check(endpoint.host, await resolver(endpoint.host, endpoint.port))


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses the policy allows, resolved and checked at connection time."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver) -> None:
        self.policy = policy
        self.resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = self.policy.check(host, await self.resolver(host, port))
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise EndpointRefused("webhooks are not sent to Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@dataclass(frozen=True)
class Outcome:
    """What one try got: the receiver's status and the start of its answer, or the error that stopped it."""

    status: int | None
    body: str | None
    latency_ms: int
    error: str | None


def _text(kept: bytes) -> str:
    return kept[:RESPONSE_KEPT].decode("utf-8", errors="replace").replace("\x00", "\ufffd")


class Sender:
    """Posts webhooks through one pool of pinned connections."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver = resolve) -> None:
        self.policy = policy
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(),
            network_backend=PinnedBackend(policy, resolver),
            max_connections=100,
            keepalive_expiry=30.0,
            retries=0,
        )

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> Outcome:
        started = time.perf_counter()
        status: int | None = None
        kept = b""
        error: str | None = None
        sent = [
            (b"content-type", b"application/json"),
            (b"user-agent", USER_AGENT.encode()),
            *((name.encode(), value.encode()) for name, value in headers.items()),
        ]
        timeouts = {"connect": TIMEOUT_SECONDS, "read": TIMEOUT_SECONDS, "write": TIMEOUT_SECONDS, "pool": 5.0}
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                self.policy.endpoint(url)  # the URL as the operator's policy stands now
                async with self._pool.stream(
                    "POST", url, headers=sent, content=body, extensions={"timeout": timeouts}
                ) as response:
                    status = response.status
                    async for chunk in response.aiter_stream():
                        kept += chunk
                        if len(kept) >= RESPONSE_KEPT:
                            break
        except EndpointRefused as refused:
            error = f"refused: {refused}"
        except TimeoutError:
            error = f"no answer within {TIMEOUT_SECONDS:.0f} s"
        except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError) as failed:
            error = f"{type(failed).__name__}: {failed}" if str(failed) else type(failed).__name__
        except (httpcore.UnsupportedProtocol, httpcore.LocalProtocolError, ssl.SSLError, OSError) as failed:
            error = f"{type(failed).__name__}: {failed}"
        latency = round((time.perf_counter() - started) * 1000)
        if status is not None and error is not None:
            error = f"the answer was cut off: {error}"
        return Outcome(status=status, body=_text(kept) if status is not None else None, latency_ms=latency, error=error)

    async def close(self) -> None:
        await self._pool.aclose()
