"""How `gotong demo` talks to a running Gotong: the public HTTP API only, as the marketplace's people.

Each person calls with a bearer token minted with the development secret, like `gotong token`.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any, TextIO, TypeVar

import httpx

from shared.auth import Role, TokenAuthority

T = TypeVar("T")
Json = Any


class DemoError(RuntimeError):
    """The marketplace answered something the demo cannot go on from."""


class Person:
    """Someone in the marketplace: a role in an organisation, with the token they call with."""

    def __init__(self, tokens: TokenAuthority, role: Role, org: str, sub: str) -> None:
        self.role, self.org, self.sub = role, org, sub
        token = tokens.issue(sub=sub, role=role, org=org, lifetime=timedelta(hours=2))
        self.headers = {"Authorization": f"Bearer {token}"}


class Marketplace:
    """One Gotong base URL; calls are retried briefly while a service is not ready (503), and after the
    Retry-After of a rate limit (429)."""

    def __init__(self, client: httpx.AsyncClient, tokens: TokenAuthority, *, concurrency: int = 16) -> None:
        self.client = client
        self.tokens = tokens
        self.calls = 0
        self._limit = asyncio.Semaphore(concurrency)

    def person(self, role: Role, org: str, sub: str) -> Person:
        return Person(self.tokens, role, org, sub)

    async def call(
        self, method: str, path: str, who: Person, body: Json = None, *, accept: Iterable[int] = (200, 201)
    ) -> httpx.Response:
        """One request; any status outside ``accept`` stops the demo with the problem Gotong reported."""
        allowed = set(accept)
        async with self._limit:
            for attempt in range(20):
                try:
                    response = await self.client.request(method, path, json=body, headers=who.headers)
                except httpx.TransportError as error:
                    raise DemoError(
                        f"{method} {path}: cannot reach Gotong at {self.client.base_url}: {error}"
                    ) from error
                self.calls += 1
                if response.status_code == 429 and 429 not in allowed:  # rate limited: wait as told
                    await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                    continue
                if response.status_code != 503 or 503 in allowed:
                    break
                await asyncio.sleep(0.25 * (attempt + 1))
        if response.status_code not in allowed:
            raise DemoError(f"{method} {path} as {who.role.value} of {who.org}: {_problem(response)}")
        return response

    async def post(self, path: str, who: Person, body: Json = None) -> Json:
        return (await self.call("POST", path, who, {} if body is None else body)).json()

    async def put(self, path: str, who: Person, body: Json) -> Json:
        return (await self.call("PUT", path, who, body)).json()

    async def get(self, path: str, who: Person) -> Json:
        return (await self.call("GET", path, who)).json()

    async def all(self, path: str, who: Person) -> list[Json]:
        """Every item of a list, page by page."""
        items: list[Json] = []
        cursor: str | None = None
        while True:
            separator = "&" if "?" in path else "?"
            page = await self.get(f"{path}{separator}limit=500" + (f"&cursor={cursor}" if cursor else ""), who)
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                return items

    async def ready(self, timeout: float = 60.0) -> None:
        """Wait until every service answers /ready."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if (await self.client.get("/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise DemoError(f"Gotong at {self.client.base_url} is not ready; is `gotong dev` running?")
            await asyncio.sleep(0.5)


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 60.0) -> T:
    """Poll ``probe`` until it answers (events travel between services asynchronously); bounded."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise DemoError(f"gave up after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} {response.text[:200]}"
    if not isinstance(body, dict):
        return f"{response.status_code} {body}"
    errors = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in body.get("errors") or [])
    return f"{response.status_code} {body.get('title', '')}: {body.get('detail', '')} {errors}".strip()


class Progress:
    """A plain-text counter on stderr: redrawn in place on a terminal, a line per quarter otherwise."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label, self.total, self.done = label, total, 0
        self.stream = stream or sys.stderr
        self._live = self.stream.isatty()
        self._reported = 0

    def step(self, count: int = 1) -> None:
        self.done += count
        if self._live:
            self.stream.write(f"\r  {self.label} {self._bar()} {self.done}/{self.total}")
            self.stream.flush()
        elif self.total and self.done * 4 // self.total > self._reported:
            self._reported = self.done * 4 // self.total
            self.stream.write(f"  {self.label} {self.done}/{self.total}\n")

    def close(self) -> None:
        if self._live:
            self.stream.write("\n")
            self.stream.flush()

    def _bar(self, width: int = 30) -> str:
        filled = width * self.done // max(self.total, 1)
        return "[" + "#" * filled + "." * (width - filled) + "]"


async def in_parallel(items: Iterable[T], work: Callable[[T], Awaitable[Any]], progress: Progress) -> list[Any]:
    """Run ``work`` on every item (the marketplace's semaphore bounds how many calls run at once)."""

    async def one(item: T) -> Any:
        result = await work(item)
        progress.step()
        return result

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(item)) for item in items]
    except* DemoError as failed:
        raise failed.exceptions[0] from None
    finally:
        progress.close()
    return [task.result() for task in tasks]
