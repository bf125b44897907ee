"""Accounts' tables: the organisations (for listing them) and the audit trail, and their migrations.

Members, invitations and keys of one organisation are read from its stream (they are few, and a command's
answer must show its own write); who belongs where and the keys' last use are in the identity mirror every
service keeps (``shared/identities.py``). The audit trail is kept from every service's events as the bus
brings them (``services/accounts/handlers.py``).
"""

from __future__ import annotations

import sqlalchemy as sa

from shared.migrations import Migration, tables_ddl

metadata = sa.MetaData(schema="accounts")

organisations = sa.Table(
    "organisations",
    metadata,
    sa.Column("org", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
)

trail = sa.MetaData(schema="accounts")
ACTOR_LENGTH, NAME_LENGTH = 300, 200
"""Longest actor, and longest organisation, service, event type, stream id or correlation id, the trail keeps
(what comes longer is cut)."""

audit_trail = sa.Table(
    "audit_trail",
    trail,
    sa.Column("event_id", sa.Uuid, primary_key=True),
    sa.Column("org", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("service", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("event_type", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("stream_id", sa.String(NAME_LENGTH), nullable=False),
    sa.Column("stream_version", sa.Integer, nullable=False),
    sa.Column("actor", sa.String(ACTOR_LENGTH), nullable=False),
    sa.Column("correlation_id", sa.String(NAME_LENGTH)),
    # an organisation's trail, newest first, and one actor's within it; the oldest, for pruning
    sa.Index("audit_trail_by_org", "org", sa.desc("at"), sa.desc("event_id")),
    sa.Index("audit_trail_by_actor", "org", "actor", sa.desc("at"), sa.desc("event_id")),
    sa.Index("audit_trail_by_age", "at"),
)

MIGRATIONS = [
    Migration("0001_organisations", lambda schema: tables_ddl(metadata)),
    Migration("0002_audit_trail", lambda schema: tables_ddl(trail)),
    # The trail is not held to any stream's order (``services.accounts.handlers.audit``): what it kept is dropped.
    Migration(
        "0003_trail_without_stream_order",
        lambda schema: [f"DELETE FROM {schema}.stream_progress WHERE consumer LIKE 'audit-%'"],
    ),
]
