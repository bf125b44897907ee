"""Standards quality has published, for tests that run catalog, orders or pooling without the quality service:
quality's events are appended to its store in the test's database and relayed to the test's JetStream stream, as
the quality service would, and the test waits until the services it runs have learnt them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import asyncpg
from litestar.testing import AsyncTestClient

from events.base import Event
from events.quality import (
    CODEC,
    DefectClassAql,
    StandardCreated,
    StandardVersionDrafted,
    StandardVersionPublished,
    StandardVersionSpec,
)
from shared import bus
from shared.config import Settings
from shared.eventstore import EventStore
from shared.kernel.clock import Clock
from shared.relay import Relay
from shared.runtime import Runtime
from shared.service import Service
from tests.support.app import serve
from tests.support.waiting import eventually

SPEC = StandardVersionSpec(
    attributes=[], checks=[], defect_classes=[DefectClassAql(defect_class="major", aql=Decimal("2.5"))],
    inspection_level="II",
)  # fmt: skip
AT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
KNOWING = ("catalog", "orders", "pooling")  # the services that keep the standards quality publishes


def published_standard(standard_id: UUID, versions: int = 1) -> list[Event]:
    """The events of a standard created and published with versions 1 … ``versions``, as quality records them."""
    name = f"Standard {standard_id}"
    events: list[Event] = [
        StandardCreated(standard_id=standard_id, name=name, owner_org="qc", created_by="inspector:qc", at=AT)
    ]
    for version in range(1, versions + 1):
        events.append(
            StandardVersionDrafted(
                standard_id=standard_id, version=version, spec=SPEC, drafted_by="inspector:qc", at=AT
            )
        )
        events.append(
            StandardVersionPublished(
                standard_id=standard_id, name=name, owner_org="qc", version=version, spec=SPEC,
                published_by="inspector:qc", at=AT,
            )
        )  # fmt: skip
    return events


async def publish_standards(
    settings: Settings, standards: Mapping[str | UUID, int], *, relay_here: bool = True
) -> None:
    """Quality publishes each standard with versions 1 … n (``{standard_id: n}``); ``relay_here=False`` when the
    quality service runs and its own relay publishes them."""
    assert settings.database_url is not None and settings.nats_url is not None
    async with asyncpg.create_pool(settings.database_url, min_size=1, max_size=2) as pool:
        store = EventStore(pool, "quality", CODEC)
        appended = 0
        for raw_id, versions in standards.items():
            standard_id = UUID(str(raw_id))
            events = published_standard(standard_id, versions)
            await store.append(f"standard-{standard_id}", "standard", 0, events)
            appended += len(events)
        if not relay_here:
            return
        nats = await bus.connect(settings.nats_url)
        try:
            relay = Relay(store, settings.database_url, nats.jetstream(), settings.nats_prefix)
            connection = await asyncpg.connect(settings.database_url)
            try:

                async def relayed() -> bool:
                    await relay.publish_batch(connection)
                    return relay.published >= appended

                await eventually(relayed)
            finally:
                await connection.close()
        finally:
            await nats.close()


async def until_known(settings: Settings, services: Sequence[str], standards: Mapping[str | UUID, int]) -> None:
    """Wait until each of ``services`` that keeps standards has learnt every version of ``standards``."""
    wanted = {(UUID(str(s)), v) for s, n in standards.items() for v in range(1, n + 1)}
    assert settings.database_url is not None
    connection = await asyncpg.connect(settings.database_url)
    try:
        for service in (s for s in services if s in KNOWING):

            async def learnt(schema: str = service) -> bool:
                rows = await connection.fetch(f"SELECT standard_id, version FROM {schema}.published_standards")
                return wanted <= {(r["standard_id"], r["version"]) for r in rows}

            await eventually(learnt)
    finally:
        await connection.close()


@asynccontextmanager
async def serve_knowing(
    services: Sequence[Service],
    settings: Settings,
    standards: Mapping[str | UUID, int],
    *,
    clock: Clock | None = None,
) -> AsyncIterator[tuple[AsyncTestClient, Runtime]]:  # type: ignore[type-arg]
    """``serve`` the services, with quality publishing ``standards``, once they have learnt them."""
    async with serve(services, settings, clock=clock) as (client, runtime):
        names = [s.name for s in services]
        # on the stream the services' runtime made sure of; quality's own relay publishes them if it runs
        await publish_standards(settings, standards, relay_here="quality" not in names)
        await until_known(settings, names, standards)
        yield client, runtime
