"""What a Gotong service is, and how the CLI finds them (the ``gotong.services`` entry-point group)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

import asyncpg

from events.base import EventCodec
from shared.auth import TokenAuthority
from shared.clock import Clock
from shared.config import Settings
from shared.eventstore import EventStore
from shared.migrations import Migration
from shared.projection import Projection, Projector

if TYPE_CHECKING:
    from shared.consumer import Subscription


@dataclass(frozen=True)
class Service:
    """A service: its events, schema, routes, read models, subscriptions to other services and workers."""

    name: str
    codec: EventCodec
    routes: Sequence[Any] = ()
    migrations: Sequence[Migration] = ()
    projections: Sequence[Projection] = ()
    subscriptions: Sequence[Subscription] = ()
    workers: Sequence[Callable[[ServiceContext], Awaitable[None]]] = ()


@dataclass
class ServiceContext:
    """What a running service's routes, handlers and workers share."""

    service: Service
    settings: Settings
    pool: asyncpg.Pool
    store: EventStore
    clock: Clock
    tokens: TokenAuthority
    projector: Projector
    ready: dict[str, bool] = field(default_factory=dict)

    @property
    def schema(self) -> str:
        return self.service.name


def load_services(names: Sequence[str] | None = None) -> list[Service]:
    """The installed services (all, or those named), in a stable order."""
    found = {ep.name: ep for ep in entry_points(group="gotong.services")}
    wanted = sorted(found) if not names else list(names)
    unknown = [n for n in wanted if n not in found]
    if unknown:
        raise LookupError(f"unknown service(s): {', '.join(unknown)}; installed: {', '.join(sorted(found))}")
    services: list[Service] = []
    for name in wanted:
        service = found[name].load()
        if not isinstance(service, Service):
            raise TypeError(f"entry point {name} is not a Service")
        services.append(service)
    return services
