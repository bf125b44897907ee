"""What a Gotong service is, and how the CLI finds them (the ``gotong.services`` entry-point group)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg

from events.base import EventCodec
from shared.auth import TokenAuthority
from shared.config import Settings
from shared.eventstore import EventStore
from shared.identities import IdentityMirror, with_identities
from shared.kernel.clock import Clock
from shared.migrations import Migration
from shared.projection import Projection, Projector

if TYPE_CHECKING:
    from shared.inbox import Subscription


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
    open_routes: Sequence[Any] = ()
    """Routes served without a bearer token, at their own absolute paths (a provider's signed webhook, a page
    with its own sign-in); each checks its caller itself."""
    templates: Sequence[Path] = ()
    """Directories of the Jinja2 templates its pages render (through Litestar's template engine)."""


class ServiceContext:
    """What a running service's routes, handlers and workers share.

    A plain class on purpose: the HTTP layer passes it through untouched, where a dataclass would be
    inspected and converted field by field.
    """

    def __init__(
        self,
        service: Service,
        settings: Settings,
        pool: asyncpg.Pool,
        store: EventStore,
        clock: Clock,
        tokens: TokenAuthority,
        projector: Projector,
    ) -> None:
        self.service = service
        self.settings = settings
        self.pool = pool
        self.store = store
        self.clock = clock
        self.tokens = tokens
        self.projector = projector
        self.identities = IdentityMirror(pool, service.name)
        """Who belongs where and which API keys exist, as this service's mirror of accounts' events holds it."""

    @property
    def schema(self) -> str:
        return self.service.name


def load_services(names: Sequence[str] | None = None) -> list[Service]:
    """The installed services (all, or those named), in a stable order, each with its identity mirror."""
    found = {ep.name: ep for ep in entry_points(group="gotong.services")}
    wanted = sorted(found) if not names else list(names)
    unknown = [n for n in wanted if n not in found]
    if unknown:
        raise LookupError(f"unknown service(s): {', '.join(unknown)}; installed: {', '.join(sorted(found))}")
    services: list[Service] = []
    for name in wanted:
        try:
            service = found[name].load()
        except ModuleNotFoundError as error:
            # A service declared but not part of this installation yet is skipped, unless asked for by name.
            if names or error.name != found[name].module:
                raise
            continue
        if not isinstance(service, Service):
            raise TypeError(f"entry point {name} is not a Service")
        services.append(with_identities(service))
    return services
