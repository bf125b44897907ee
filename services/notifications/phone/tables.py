"""The phone page's own tables: one-time sign-in codes and sessions. Operational, not event-sourced (like the
outbox): a code or a session is a credential that lives minutes or hours, not a fact of the marketplace."""

from __future__ import annotations

import sqlalchemy as sa

from shared.migrations import Migration, tables_ddl

metadata = sa.MetaData(schema="notifications")

sign_in_codes = sa.Table(
    "sign_in_codes",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("phone", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("code_hash", sa.LargeBinary, nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("used_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("sign_in_codes_phone", "phone", "created_at"),
    sa.Index("sign_in_codes_address", "address", "created_at"),
    sa.Index("sign_in_codes_created", "created_at"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.LargeBinary, primary_key=True),
    sa.Column("phone", sa.Text, nullable=False),
    sa.Column("csrf_token", sa.Text, nullable=False),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("sessions_expiry", "expires_at"),
)

MIGRATION = Migration("0100_phone_page", lambda schema: tables_ddl(metadata))
