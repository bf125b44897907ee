"""The audit trail of an organisation: what its people and keys did, in every service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import get
from litestar.params import QueryParameter

from services.accounts import commands
from services.accounts.api.organisations import OrgPath
from services.accounts.read.audit import trail_page
from services.accounts.read.tables import ACTOR_LENGTH
from services.accounts.read.views import AuditEntry
from shared.api import Caller, Context, Cursor, Limit
from shared.auth import Role
from shared.guards import allow
from shared.kernel.errors import Forbidden, InvalidInput
from shared.kernel.scopes import Scope
from shared.pages import Page

Actor = Annotated[str | None, QueryParameter(name="actor", min_length=1, max_length=ACTOR_LENGTH)]
Since = Annotated[datetime | None, QueryParameter(name="since")]


@get(
    "/organisations/{org:str}/audit",
    guards=[allow(Role.BUYER, Role.AGGREGATOR, Role.MSME, Role.INSPECTOR, scope=Scope.AUDIT_READ)],
)
async def read_audit_trail(
    org: OrgPath,
    principal: Caller,
    ctx: Context,
    limit: Limit = 50,
    cursor: Cursor = None,
    actor: Actor = None,
    since: Since = None,
) -> Page[AuditEntry]:
    """What was done for the organisation in every service, newest first: by whom (``actor``, e.g.
    ``aggregator:dewi`` or ``key:<id>``), when (from ``since`` on), the event recorded and the stream it changed.
    For the organisation's admins, operators, and its API keys holding ``audit:read``. Entries arrive over the
    bus within moments of the act."""
    if since is not None and since.tzinfo is None:
        raise InvalidInput.of("since", "must name its time zone (RFC 3339, e.g. 2027-01-31T00:00:00Z)")
    state, _ = await commands.organisation(ctx, principal, org)
    if not commands.may_audit(principal, state):
        raise Forbidden(f"only an admin of {org} (or its keys holding audit:read) may read its audit trail")
    return await trail_page(ctx.pool, org, limit=limit, cursor=cursor, actor=actor, since=since)


ROUTES = [read_audit_trail]
