"""Rebuilding a projection from the events into new tables, then swapping them in atomically.

The live tables keep serving during the rebuild, which replays the events in committed batches of 1,000, each
applied at once when the projection can (``apply_many``), as the projector applies them. At the end, holding the
live checkpoint's row lock (which the projector takes for every batch), both the live and the rebuilt tables are
brought to the same position, compared, and (unless only verifying) the rebuilt ones replace the live ones in one
transaction.
The events the projection had parked are kept as dead letters only if the rebuild could not apply them
either (after a fix of the projection, a rebuild is how its parked events get applied, in order).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from shared.eventstore import Connection, EventStore
from shared.migrations import tables_ddl
from shared.projection import PARKED, Projection, Tables, apply_batch, read_checkpoint, write_checkpoint

SUFFIX = "__rebuild"


@dataclass(frozen=True)
class RebuildReport:
    projection: str
    events_applied: int
    missing_rows: int
    extra_rows: int
    swapped: bool

    @property
    def matches(self) -> bool:
        return self.missing_rows == 0 and self.extra_rows == 0

    def __str__(self) -> str:
        verdict = "identical" if self.matches else f"{self.missing_rows} missing, {self.extra_rows} extra rows"
        action = "swapped in" if self.swapped else "verified only"
        return f"{self.projection}: {self.events_applied} events replayed; rebuilt rows {verdict}; {action}"


def rebuild_tables(projection: Projection) -> tuple[sa.MetaData, Tables]:
    """Copies of the projection's tables under new names, with renamed indexes and constraints."""
    metadata = sa.MetaData()
    copies: dict[str, sa.Table] = {}
    for table in projection.tables:
        copy = table.to_metadata(metadata, name=f"{table.name}{SUFFIX}")
        for index in copy.indexes:
            if isinstance(index.name, str):
                index.name = sa.sql.elements.quoted_name(f"{index.name}{SUFFIX}", None)
        for constraint in copy.constraints:
            if isinstance(constraint.name, str) and not constraint.name.endswith(SUFFIX):
                constraint.name = sa.sql.elements.quoted_name(f"{constraint.name}{SUFFIX}", None)
        copies[table.name] = copy
    return metadata, Tables(copies)


async def _differences(connection: Connection, schema: str, live: str, rebuilt: str) -> tuple[int, int]:
    missing = await connection.fetchval(
        f"SELECT count(*) FROM (SELECT * FROM {schema}.{live} EXCEPT ALL SELECT * FROM {schema}.{rebuilt}) d"
    )
    extra = await connection.fetchval(
        f"SELECT count(*) FROM (SELECT * FROM {schema}.{rebuilt} EXCEPT ALL SELECT * FROM {schema}.{live}) d"
    )
    return int(missing), int(extra)


async def rebuild(store: EventStore, projection: Projection, *, verify_only: bool = False) -> RebuildReport:
    schema = store.schema
    checkpoint = f"rebuild:{projection.name}"
    metadata, copies = rebuild_tables(projection)
    applied = 0
    async with store.pool.acquire() as connection:
        async with connection.transaction():
            started = await connection.fetchval("SELECT now()")
            for table in copies.values():
                await connection.execute(f"DROP TABLE IF EXISTS {schema}.{table.name}")
            for statement in tables_ddl(metadata):
                await connection.execute(statement)
            await read_checkpoint(connection, schema, checkpoint)
            await connection.execute(
                f"UPDATE {schema}.checkpoints SET transaction_id = 0, position = 0 WHERE name = $1", checkpoint
            )
        # Catch up in committed batches while the live tables keep serving.
        while batch := await apply_batch(store, connection, projection, copies, checkpoint, 1000):
            applied += batch
        async with connection.transaction():
            live = projection.live_tables()
            await read_checkpoint(connection, schema, projection.checkpoint, lock=True)
            while await apply_batch(store, connection, projection, live, projection.checkpoint, 1000):
                pass
            while batch := await apply_batch(store, connection, projection, copies, checkpoint, 1000):
                applied += batch
            missing = extra = 0
            for name, table in live.items():
                m, e = await _differences(connection, schema, table.name, copies[name].name)
                missing, extra = missing + m, extra + e
            if verify_only:
                for table in copies.values():
                    await connection.execute(f"DROP TABLE {schema}.{table.name}")
            else:
                await _swap(connection, schema, live, copies)
                await connection.execute(  # letters of events the rebuilt tables hold, as it did not park them again
                    f"DELETE FROM {schema}.{PARKED} WHERE projection = $1 AND failed_at < $2", projection.name, started
                )
                rebuilt_at = await read_checkpoint(connection, schema, checkpoint)
                await write_checkpoint(connection, schema, projection.checkpoint, rebuilt_at)
            await connection.execute(f"DELETE FROM {schema}.checkpoints WHERE name = $1", checkpoint)
    return RebuildReport(projection.name, applied, missing, extra, swapped=not verify_only)


async def _swap(connection: Connection, schema: str, live: Tables, copies: Tables) -> None:
    for name, table in live.items():
        await connection.execute(f"LOCK TABLE {schema}.{table.name} IN ACCESS EXCLUSIVE MODE")
        await connection.execute(f"DROP TABLE {schema}.{table.name}")
        await connection.execute(f"ALTER TABLE {schema}.{copies[name].name} RENAME TO {table.name}")
        indexes = await connection.fetch(
            "SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2", schema, table.name
        )
        for row in indexes:
            old = row["indexname"]
            if SUFFIX in old:
                await connection.execute(f'ALTER INDEX {schema}."{old}" RENAME TO "{old.replace(SUFFIX, "")}"')
