"""Who belongs where, and which API keys exist: a mirror of accounts' events in every service's own schema.

No service reads accounts' tables. Each keeps two small tables, fed by accounts' events (which carry full
state): ``identity_memberships`` (subject → organisation, role, organisation admin) and ``identity_api_keys``
(key id → organisation, role, scopes, HMAC of the secret, expiry, revocation, last use). The runtime adds
them to every service (``with_identities``), so a new service gets them without a line of its own.

In accounts itself the mirror is a projection of its own store, which its routes wait for, so a revocation
holds there the moment the revoke call answers; in every other service it is a durable subscription to
accounts' stream, so a revoked key is refused there as soon as the event arrives (a fraction of a second;
the README records the bound measured). Every request with a key reads its row (a primary-key lookup), so
nothing caches a key past its revocation. A key's use is noted in the mirror and, for accounts' list of keys,
in the bucket of keys' uses every service writes (``shared/key_uses.py``).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert

from events.accounts import CODEC as ACCOUNTS
from events.accounts import ApiKeyCreated, ApiKeyRevoked, MembershipGranted, MembershipRevoked
from events.base import Event
from shared.eventstore import Connection, RecordedEvent
from shared.inbox import Delivery, HandlerContext, Subscription
from shared.migrations import Migration
from shared.projection import Projection, Tables
from shared.sql import execute, fetch, fetchrow

if TYPE_CHECKING:
    from shared.key_uses import KeyUses
    from shared.service import Service

SOURCE = "accounts"
MIRROR = "identities"
LAST_USE_EVERY = timedelta(minutes=1)  # a key's last use is written at most this often


def identities_sql(schema: str) -> list[str]:
    """The mirror's tables (part of every service's platform migration)."""
    return [
        f"""CREATE TABLE IF NOT EXISTS {schema}.identity_memberships (
            subject text NOT NULL,
            org text NOT NULL,
            role text NOT NULL,
            org_admin boolean NOT NULL,
            PRIMARY KEY (subject, org))""",
        f"""CREATE TABLE IF NOT EXISTS {schema}.identity_api_keys (
            key_id text PRIMARY KEY,
            org text NOT NULL,
            role text NOT NULL,
            scopes text[] NOT NULL,
            secret_hash text NOT NULL,
            expires_at timestamptz,
            revoked_at timestamptz,
            last_used_at timestamptz)""",
    ]


@cache
def memberships_table(schema: str) -> sa.Table:
    return sa.Table(
        "identity_memberships",
        sa.MetaData(schema=schema),
        sa.Column("subject", sa.Text, primary_key=True),
        sa.Column("org", sa.Text, primary_key=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("org_admin", sa.Boolean, nullable=False),
    )


@cache
def api_keys_table(schema: str) -> sa.Table:
    return sa.Table(
        "identity_api_keys",
        sa.MetaData(schema=schema),
        sa.Column("key_id", sa.Text, primary_key=True),
        sa.Column("org", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("scopes", ARRAY(sa.Text), nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
    )


async def keep(connection: Connection, memberships: sa.Table, keys: sa.Table, event: Event) -> None:
    """Apply one of accounts' events to the mirror; events it does not need are ignored."""
    match event:
        case MembershipGranted():
            row = {"role": event.role, "org_admin": event.org_admin}
            statement = insert(memberships).values(subject=event.subject, org=event.org, **row)
            await execute(connection, statement.on_conflict_do_update(index_elements=["subject", "org"], set_=row))
        case MembershipRevoked():
            table = memberships
            await execute(connection, table.delete().where(table.c.subject == event.subject, table.c.org == event.org))
        case ApiKeyCreated():
            statement = insert(keys).values(
                key_id=event.key_id,
                org=event.org,
                role=event.role,
                scopes=list(event.scopes),
                secret_hash=event.secret_hash,
                expires_at=event.expires_at,
            )
            await execute(connection, statement.on_conflict_do_nothing())
        case ApiKeyRevoked():
            await execute(
                connection,
                keys.update()
                .where(keys.c.key_id == event.key_id, keys.c.revoked_at.is_(None))
                .values(revoked_at=event.at),
            )
        case _:
            return


def mirror_subscription(schema: str) -> Subscription:
    """How a service other than accounts keeps its mirror: a durable subscription to accounts' events."""

    async def handle(hctx: HandlerContext, delivery: Delivery) -> None:
        await keep(hctx.connection, memberships_table(schema), api_keys_table(schema), delivery.event)

    return Subscription(MIRROR, source=SOURCE, codec=ACCOUNTS, handle=handle)


def mirror_projection(schema: str) -> Projection:
    """How accounts keeps its own mirror: a projection of its store, which its routes can wait for."""
    memberships, keys = memberships_table(schema), api_keys_table(schema)

    async def apply(connection: Connection, tables: Tables, event: Event, _: RecordedEvent) -> None:
        await keep(connection, tables[memberships.name], tables[keys.name], event)

    return Projection(MIRROR, [memberships, keys], apply)


MIRROR_MIGRATION = Migration("0000_platform_identities", identities_sql)


def with_identities(service: Service) -> Service:
    """The service with its identity mirror: its tables, and accounts' own projection or a subscription to
    accounts. Applied by ``load_services`` and the runtime, so every service has it; applying it twice is
    the same as once."""
    if not any(m.name == MIRROR_MIGRATION.name for m in service.migrations):
        service = dataclasses.replace(service, migrations=[MIRROR_MIGRATION, *service.migrations])
    if service.name == SOURCE:
        if any(p.name == MIRROR for p in service.projections):
            return service
        return dataclasses.replace(service, projections=[*service.projections, mirror_projection(service.name)])
    if any(s.name == MIRROR for s in service.subscriptions):
        return service
    return dataclasses.replace(service, subscriptions=[*service.subscriptions, mirror_subscription(service.name)])


@dataclass(frozen=True)
class StoredKey:
    """An API key as the mirror holds it."""

    key_id: str
    org: str
    role: str
    scopes: frozenset[str]
    secret_hash: str
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class Membership:
    subject: str
    org: str
    role: str
    org_admin: bool


class IdentityMirror:
    """Reads of one service's mirror, for authentication: a key by id, a subject's memberships."""

    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.schema = schema
        self.uses: KeyUses | None = None
        """Where keys' uses are noted for accounts to read (set by the runtime once NATS is there)."""
        self._keys = api_keys_table(schema)
        self._memberships = memberships_table(schema)
        self._last_written: dict[str, float] = {}

    async def key(self, key_id: str) -> StoredKey | None:
        row = await fetchrow(self.pool, sa.select(self._keys).where(self._keys.c.key_id == key_id))
        if row is None:
            return None
        return StoredKey(
            key_id=row["key_id"],
            org=row["org"],
            role=row["role"],
            scopes=frozenset(row["scopes"]),
            secret_hash=row["secret_hash"],
            expires_at=row["expires_at"],
            revoked_at=row["revoked_at"],
        )

    async def memberships(self, subject: str) -> list[Membership]:
        table = self._memberships
        rows = await fetch(self.pool, sa.select(table).where(table.c.subject == subject).order_by(table.c.org))
        return [Membership(r["subject"], r["org"], r["role"], r["org_admin"]) for r in rows]

    async def used(self, key_id: str, at: datetime) -> bool:
        """Note that the key was used, in this service's mirror and for accounts (``shared/key_uses.py``), at
        most once a minute per key and process (True when the mirror's row was written)."""
        now = time.monotonic()
        last = self._last_written.get(key_id)
        if last is not None and now - last < LAST_USE_EVERY.total_seconds():
            return False
        self._last_written[key_id] = now
        if self.uses is not None:
            self.uses.note(key_id, at)
        if len(self._last_written) > 100_000:  # bounded: forget the oldest half
            for stale in sorted(self._last_written, key=self._last_written.__getitem__)[:50_000]:
                del self._last_written[stale]
        keys = self._keys
        stale_before = at - LAST_USE_EVERY
        statement = (
            keys.update()
            .where(keys.c.key_id == key_id, sa.or_(keys.c.last_used_at.is_(None), keys.c.last_used_at < stale_before))
            .values(last_used_at=at)
        )
        return await execute(self.pool, statement) != "UPDATE 0"
