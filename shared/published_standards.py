"""The quality standards a service knows are published, learnt from quality's events (never from its tables).

Catalog (products), orders (order lines) and pooling (pools) each keep this small read model, fed by
``StandardVersionPublished``, and refuse a standard, or a version of it, that it does not hold. A standard
just published in quality reaches the others a moment later, so the refusal says "not known to <service>
yet" rather than claiming the standard does not exist. So that a client may use a standard the moment
quality answers its publication, a request naming a standard created in the last few minutes (its UUIDv7 says
when) that is not known at all yet waits a few seconds for it to arrive before it is refused; an unknown
version of a known standard is refused at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from uuid import UUID

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from events.quality import CODEC as QUALITY
from events.quality import StandardVersionPublished
from shared.eventstore import Connection
from shared.inbox import Delivery, HandlerContext, Subscription
from shared.kernel.errors import FieldError
from shared.migrations import Migration, tables_ddl
from shared.sql import execute, fetch

FRESH_SECONDS = 300.0  # a standard minted this recently may still be on its way
PATIENCE_SECONDS = 10.0  # how long a request waits for such a standard before it is refused


def standards_table(schema: str) -> sa.Table:
    """``<schema>.published_standards``: one row per published version of a standard."""
    return sa.Table(
        "published_standards",
        sa.MetaData(schema=schema),
        sa.Column("standard_id", sa.Uuid, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("owner_org", sa.Text, nullable=False),
    )


@dataclass(frozen=True)
class StandardUse:
    """A standard a request names, and the fields that name its id and its version (``lines[0].standard_id``)."""

    standard_id: UUID
    version: int
    id_field: str
    version_field: str


@dataclass(frozen=True)
class PublishedStandards:
    """One service's read model of published standards: its table, migration and subscription to quality."""

    service: str

    @cached_property
    def table(self) -> sa.Table:
        return standards_table(self.service)

    @property
    def migration(self) -> Migration:
        return Migration("published_standards", lambda schema: tables_ddl(self.table.metadata))

    @property
    def subscription(self) -> Subscription:
        return Subscription("published-standards", source="quality", codec=QUALITY, handle=self.keep)

    async def keep(self, hctx: HandlerContext, delivery: Delivery) -> None:
        event = delivery.event
        if isinstance(event, StandardVersionPublished):
            row = {"standard_id": event.standard_id, "version": event.version}
            statement = insert(self.table).values(**row, name=event.name, owner_org=event.owner_org)
            await execute(hctx.connection, statement.on_conflict_do_nothing())

    async def refusals(self, pool: asyncpg.Pool, uses: Sequence[StandardUse]) -> list[FieldError]:
        """Why each standard named is not usable here (unknown, or that version not published), after waiting a
        little for any that quality published a moment ago."""
        if not uses:
            return []
        deadline = time.monotonic() + PATIENCE_SECONDS
        while True:
            async with pool.acquire() as connection:
                errors = await self._refusals(connection, uses)
            awaited = {e.field for e in errors} & {use.id_field for use in uses if _fresh(use.standard_id)}
            if not awaited or time.monotonic() > deadline:
                return errors
            await asyncio.sleep(0.1)

    async def _refusals(self, connection: Connection, uses: Sequence[StandardUse]) -> list[FieldError]:
        ids = sorted({use.standard_id for use in uses})
        rows = await fetch(
            connection,
            sa.select(self.table.c.standard_id, self.table.c.version).where(self.table.c.standard_id.in_(ids)),
        )
        versions: dict[UUID, list[int]] = {}
        for row in rows:
            versions.setdefault(row["standard_id"], []).append(row["version"])
        errors: list[FieldError] = []
        for use in uses:
            known = sorted(versions.get(use.standard_id, []))
            if not known:
                errors.append(
                    FieldError(
                        use.id_field,
                        f"standard {use.standard_id} is not known to {self.service} yet: only a standard quality "
                        "has published can be used (one just published arrives within moments; retry then)",
                    )
                )
            elif use.version not in known:
                published = ", ".join(str(v) for v in known)
                errors.append(
                    FieldError(
                        use.version_field,
                        f"version {use.version} of standard {use.standard_id} is not known to {self.service} yet: "
                        f"the published versions it knows are {published}",
                    )
                )
        return errors


def _fresh(standard_id: UUID) -> bool:
    """Was this id minted (UUIDv7, in milliseconds) in the last few minutes?"""
    if standard_id.version != 7:
        return False
    return 0 <= time.time() - (standard_id.int >> 80) / 1000 < FRESH_SECONDS
