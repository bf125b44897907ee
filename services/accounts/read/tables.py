"""Accounts' tables: the organisations (for listing them) and the audit trail, and their migrations.

Members, invitations and keys of one organisation are read from its stream (they are few, and a command's
answer must show its own write); who belongs where and the keys' last use are in the identity mirror every
service keeps (``shared/identities.py``).
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

MIGRATIONS = [Migration("0001_organisations", lambda schema: tables_ddl(metadata))]
