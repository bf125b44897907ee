"""Notifications' tables: mirrors of other services' events, the projection of its own, and the operational
tables of the channel (the delivery outbox and log, WhatsApp conversations, inbound webhook entries).

Mirrors (``msmes``, ``products``, ``capacity``, ``pools``, ``requests``, ``lots``) are fed by subscriptions to
catalog, pooling and quality, so a rebuild of the projection leaves them alone. ``contacts`` and ``answers``
are the projection of this service's events. ``deliveries``, ``conversations`` and ``inbound_messages`` are
not event-sourced (like the inbox and due actions): ``deliveries`` is the outbox, one row per trigger and
recipient (its UNIQUE key makes each notification go out once), and also the delivery log.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from shared.migrations import Migration, tables_ddl

metadata = sa.MetaData(schema="notifications")


def _uuid(name: str, **options: object) -> sa.Column[object]:
    return sa.Column(name, sa.Uuid, **options)  # type: ignore[arg-type]


def _time(name: str, **options: object) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), **options)  # type: ignore[arg-type]


msmes = sa.Table(
    "msmes",
    metadata,
    _uuid("msme_id", primary_key=True),
    sa.Column("org", sa.Text, nullable=False),
    sa.Column("registered_by", sa.Text),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("province", sa.Text, nullable=False),
    sa.Column("city", sa.Text, nullable=False),
)

products = sa.Table(
    "products",
    metadata,
    _uuid("product_id", primary_key=True),
    _uuid("msme_id", nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("hs_code", sa.Text, nullable=False),
    sa.Index("products_msme", "msme_id", "product_id"),
)

capacity = sa.Table(
    "capacity",
    metadata,
    _uuid("product_id", primary_key=True),
    sa.Column("month", sa.Text, primary_key=True),
    sa.Column("units", sa.BigInteger, nullable=False),
    sa.Column("committed", sa.BigInteger, nullable=False, server_default="0"),
)

pools = sa.Table(
    "pools",
    metadata,
    _uuid("pool_id", primary_key=True),
    sa.Column("aggregator_org", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("consolidation_point", sa.Text, nullable=False),
)

requests = sa.Table(
    "requests",
    metadata,
    _uuid("request_id", primary_key=True),
    _uuid("pool_id", nullable=False),
    _uuid("proposal_id", nullable=False),
    _uuid("msme_id", nullable=False),
    _uuid("product_id", nullable=False),
    sa.Column("quantity", sa.BigInteger, nullable=False),
    sa.Column("unit", sa.Text, nullable=False),
    sa.Column("plan", JSONB, nullable=False),
    sa.Column("unit_price", JSONB, nullable=False),
    _time("expires_at", nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("accepted", sa.BigInteger, nullable=False, server_default="0"),
    _time("requested_at", nullable=False),
    _time("updated_at", nullable=False),
    sa.Index("requests_msme", "msme_id", "status", "request_id"),
    sa.Index("requests_pool", "pool_id", "request_id"),
)

lots = sa.Table(
    "lots",
    metadata,
    _uuid("lot_id", primary_key=True),
    _uuid("pool_id", nullable=False),
    _uuid("msme_id", nullable=False),
    _uuid("product_id"),
    sa.Column("lot_code", sa.Text),
    sa.Column("quantity", sa.BigInteger, nullable=False),
    sa.Column("delivered_on", sa.Date),
    sa.Column("verdict", sa.Text),  # quality's verdict may arrive before pooling's LotReceived
    sa.Column("reasons", JSONB, nullable=False, server_default="[]"),
    _time("judged_at"),
    sa.Index("lots_msme", "msme_id", "lot_id"),
)

contacts = sa.Table(
    "contacts",
    metadata,
    _uuid("contact_id", primary_key=True),
    _uuid("msme_id", nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("phone", sa.Text, nullable=False),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("email", sa.Text),
    sa.Column("opted_in", sa.Boolean, nullable=False),
    _time("opted_in_at"),
    _time("opted_out_at"),
    sa.Column("removed", sa.Boolean, nullable=False),
    _time("added_at", nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("contacts_phone", "phone"),
    sa.Index("contacts_msme", "msme_id", "contact_id"),
)

answers = sa.Table(
    "answers",
    metadata,
    _uuid("answer_id", primary_key=True),
    _uuid("request_id", nullable=False),
    _uuid("msme_id", nullable=False),
    _uuid("contact_id", nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("decision", sa.Text, nullable=False),
    sa.Column("quantity", sa.BigInteger),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("settled_quantity", sa.BigInteger),
    sa.Column("problem", sa.Text),
    sa.Column("detail", sa.Text),
    _time("given_at", nullable=False),
    _time("settled_at"),
    sa.Index("answers_request", "request_id"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    _uuid("id", primary_key=True),
    sa.Column("trigger", sa.Text, nullable=False),
    _uuid("contact_id", nullable=False),
    _uuid("msme_id", nullable=False),
    sa.Column("phone", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    _uuid("request_id"),
    sa.Column("message", JSONB, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    _time("next_attempt_at", nullable=False),
    _time("lease_until"),
    sa.Column("provider_message_id", sa.Text, unique=True),
    sa.Column("last_error", sa.Text),
    _time("created_at", nullable=False),
    _time("sent_at"),
    _time("delivered_at"),
    _time("read_at"),
    _time("failed_at"),
    sa.UniqueConstraint("trigger", "contact_id", name="deliveries_once"),
    sa.Index("deliveries_due", "next_attempt_at", postgresql_where=sa.text("status IN ('queued', 'sending')")),
    sa.Index("deliveries_msme", "msme_id", "id"),
)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("phone", sa.Text, primary_key=True),
    _time("last_inbound_at"),
    sa.Column("awaiting", JSONB),
    _uuid("last_request_id"),
)

inbound_messages = sa.Table(
    "inbound_messages",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("raw", JSONB, nullable=False),
    _time("received_at", nullable=False),
    _time("processed_at"),
    sa.Column("outcome", sa.Text),
    sa.Index("inbound_unprocessed", "received_at", postgresql_where=sa.text("processed_at IS NULL")),
)

MIGRATIONS = [
    Migration("0001_notifications", lambda schema: tables_ddl(metadata)),
    Migration(
        "0002_contacts_of_an_msme",
        lambda schema: [
            f"CREATE INDEX IF NOT EXISTS events_contacts_of_msme ON {schema}.events ((data->>'msme_id'), stream_id)"
            " WHERE event_type = 'ContactAdded'"
        ],
    ),
]
"""The phone page's tables (sign-in codes, sessions) come in a migration of their own."""
