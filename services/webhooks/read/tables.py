"""Webhooks' tables and their migrations.

- ``subscriptions``: the read model of the subscriptions' streams (projection ``webhooks``), which routes read
  and the fan-out queries for the subscriptions an event goes to; ``since`` is when the subscription was
  stored, by the database's clock, which also stamps the events it compares with.
- ``secrets``: each subscription's signing keys (the current one, and the previous one until it expires). They
  are never in an event (events travel on the bus and live forever): commands write them beside their events.
- ``owners``: who owns each pool, allocation request and order, learnt from pooling's events (the fan-out
  keeps it; a rebuild of the projection leaves it alone).
- ``deliveries``: one message per (event, subscription), its body as sent every time, its state and the
  outcome of its last try; ``attempts``: every try; ``health``: each subscription's failures since its last
  success. Kept by the fan-out and the dispatcher, not by projections.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from shared.migrations import Migration, tables_ddl

metadata = sa.MetaData(schema="webhooks")

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("org", sa.Text, nullable=False),
    sa.Column("audience", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("event_types", ARRAY(sa.Text), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("disabled_reason", sa.Text),
    sa.Column("disabled_at", sa.DateTime(timezone=True)),
    sa.Column("secret_version", sa.Integer, nullable=False),
    sa.Column("secret_rotated_at", sa.DateTime(timezone=True)),
    sa.Column("previous_secret_valid_until", sa.DateTime(timezone=True)),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("subscriptions_by_org", "org", "id"),
)

secrets = sa.Table(
    "secrets",
    metadata,
    sa.Column("subscription_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
)

owners = sa.Table(
    "owners",
    metadata,
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("org", sa.Text, nullable=False),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("message_id", sa.Text, nullable=False, unique=True),
    sa.Column("subscription_id", UUID(as_uuid=True), nullable=False),
    sa.Column("org", sa.Text, nullable=False),
    sa.Column("ordering_key", sa.Text, nullable=False),
    sa.Column("event_id", UUID(as_uuid=True), nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
    sa.Column("first_attempted_at", sa.DateTime(timezone=True)),
    sa.Column("last_attempted_at", sa.DateTime(timezone=True)),
    sa.Column("delivered_at", sa.DateTime(timezone=True)),
    sa.Column("response_status", sa.Integer),
    sa.Column("response_body", sa.Text),
    sa.Column("latency_ms", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Index("deliveries_of_subscription", "subscription_id", "seq"),
    sa.Index("deliveries_due", "next_attempt_at", "seq", postgresql_where=sa.text("status = 'pending'")),
    sa.Index(
        "deliveries_in_line",
        "subscription_id",
        "ordering_key",
        "seq",
        postgresql_where=sa.text("status = 'pending'"),
    ),
)

attempts = sa.Table(
    "attempts",
    metadata,
    sa.Column("delivery_seq", sa.BigInteger, primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("response_status", sa.Integer),
    sa.Column("response_body", sa.Text),
    sa.Column("latency_ms", sa.Integer, nullable=False),
    sa.Column("error", sa.Text),
)

health = sa.Table(
    "health",
    metadata,
    sa.Column("subscription_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("consecutive_failures", sa.Integer, nullable=False),
    sa.Column("failing_since", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text),
    sa.Column("last_success_at", sa.DateTime(timezone=True)),
)

MIGRATIONS = [Migration("0001_webhooks", lambda schema: tables_ddl(metadata))]
