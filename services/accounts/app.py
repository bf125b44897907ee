"""The accounts service: organisations, their members, invitations and API keys."""

from __future__ import annotations

from events.accounts import CODEC
from services.accounts.api import ROUTES
from services.accounts.read.projections import PROJECTION
from services.accounts.read.tables import MIGRATIONS
from shared.service import Service

service = Service(name="accounts", codec=CODEC, routes=ROUTES, migrations=MIGRATIONS, projections=[PROJECTION])
