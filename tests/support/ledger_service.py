"""The ledger as a service over HTTP: the platform's own example of routes, commands and a projection."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
import sqlalchemy as sa
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.dialects.postgresql import insert

from events.base import Event
from shared.api import Caller, Context, check_version, command_metadata, idempotent, if_match, wait_for_position
from shared.auth import Principal, Role
from shared.decider import UnitOfWork, run_command
from shared.eventstore import Connection, RecordedEvent
from shared.kernel.errors import NotFound
from shared.kernel.ids import new_id
from shared.migrations import Migration, tables_ddl
from shared.problems import problem_responses
from shared.projection import Projection, Tables
from shared.service import Service, ServiceContext
from shared.sql import execute, fetchrow
from tests.support.ledger import ACCOUNT, CODEC, Deposit, Deposited, Open, Opened

metadata = sa.MetaData(schema="ledger")
accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("org", sa.Text, nullable=False),
    sa.Column("balance", sa.BigInteger, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)


async def project(connection: Connection, tables: Tables, event: Event, record: RecordedEvent) -> None:
    table = tables["accounts"]
    match event:
        case Opened(owner=owner):
            org = owner.split("/")[0]
            await execute(
                connection,
                insert(table)
                .values(id=record.stream_id, owner=owner, org=org, balance=0, version=record.stream_version)
                .on_conflict_do_nothing(),
            )
        case Deposited(amount=amount):
            await execute(
                connection,
                table.update()
                .where(table.c.id == record.stream_id)
                .values(balance=table.c.balance + amount, version=record.stream_version),
            )


class OpenAccount(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    owner: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class MakeDeposit(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    amount: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]


class AccountView(msgspec.Struct, frozen=True):
    id: str
    owner: str
    balance: int
    version: int
    position: int = 0


@post("/accounts", responses=problem_responses(400, 401, 403, 415, 422))
async def open_account(
    data: JSONBody[OpenAccount], request: Request[Any, Any, Any], principal: Caller, ctx: Context
) -> Response[Any]:
    principal.require(Role.BUYER)
    account_id = str(new_id())

    async def work(connection: Connection | None) -> tuple[int, Any]:
        outcome = await run_command(
            ctx.store,
            lambda unit: unit.execute(ACCOUNT, account_id, Open(owner=f"{principal.org}/{data.owner}")),
            metadata=command_metadata(request, principal),
            connection=connection,
        )
        state = outcome.value[0]
        return 201, AccountView(account_id, state.owner or "", state.balance, 1, outcome.position)

    stored = await idempotent(ctx, request, principal, work)
    return Response(content=stored.body, status_code=stored.status, media_type="application/json")


@post("/accounts/{account_id:str}/deposits", responses=problem_responses(400, 401, 404, 409, 412, 422))
async def deposit(
    account_id: FromPath[str],
    data: JSONBody[MakeDeposit],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
) -> AccountView:
    expected = if_match(request)
    await _visible_account(ctx, principal, account_id)

    async def work(unit: UnitOfWork) -> AccountView:
        state = await unit.load(ACCOUNT, account_id)
        check_version(expected, await unit.version(account_id))
        state, _ = await unit.execute(ACCOUNT, account_id, Deposit(amount=data.amount))
        return AccountView(account_id, state.owner or "", state.balance, await unit.version(account_id) + 1)

    outcome = await run_command(ctx.store, work, metadata=command_metadata(request, principal))
    return msgspec.structs.replace(outcome.value, position=outcome.position)


@get("/accounts/{account_id:str}", responses=problem_responses(401, 404))
async def get_account(
    account_id: FromPath[str],
    principal: Caller,
    ctx: Context,
    wait_for: Annotated[int | None, QueryParameter(name="wait_for_position", ge=1)] = None,
) -> AccountView:
    await wait_for_position(ctx, wait_for)
    row = await _visible_account(ctx, principal, account_id)
    return AccountView(row["id"], row["owner"], row["balance"], row["version"])


async def _visible_account(ctx: ServiceContext, principal: Principal, account_id: str) -> Any:
    row = await fetchrow(ctx.pool, sa.select(accounts).where(accounts.c.id == account_id))
    if row is None or (row["org"] != principal.org and not principal.is_admin):
        raise NotFound(f"no account {account_id}")
    return row


ledger_service = Service(
    name="ledger",
    codec=CODEC,
    routes=[open_account, deposit, get_account],
    migrations=[Migration("0001_accounts", lambda schema: tables_ddl(metadata))],
    projections=[Projection("accounts", [accounts], project)],
)

__all__ = ["UUID", "ledger_service"]
