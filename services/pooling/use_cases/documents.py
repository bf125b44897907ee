"""Trade documents of a shipped pool, from what pooling keeps of its lots, orders, buyers, MSMEs and products, and
the aggregator's exporter profile."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import sqlalchemy as sa

from events.orders import ConfirmedLine
from events.pooling import ConsignmentShipped
from services.pooling.domain.export_declaration import MadeLot, ShipmentCosts, declarations
from services.pooling.domain.exporter_profile import ExporterProfile
from services.pooling.domain.peb_fields import ExportDeclarations
from services.pooling.domain.pool import pool_stream
from services.pooling.domain.pool_state import Pool
from services.pooling.domain.trade_documents import (
    CommercialInvoices,
    OrderTerms,
    OriginRequests,
    PackingList,
    Party,
    QuotedLine,
    ShippedLine,
    ShippedLot,
    invoices,
    origin_requests,
    packing_list,
)
from services.pooling.read.tables import buyers, msmes, orders, products
from services.pooling.use_cases.access import visible_pool
from services.pooling.use_cases.exporters import exporter_profile
from shared.auth import Principal
from shared.kernel.errors import Conflict
from shared.service import ServiceContext
from shared.sql import fetch

_lines = msgspec.json.Decoder(list[ConfirmedLine])
EXPORTER_COUNTRY = "ID"  # aggregators export from Indonesia (their pools consolidate at an Indonesian port or city)


async def _shipped_pool(ctx: ServiceContext, principal: Principal, pool_id: UUID) -> Pool:
    state, _ = await visible_pool(ctx, principal, pool_id)
    if not any(lot.shipped for lot in state.lots.values()):
        raise Conflict(
            "documents are made for what the pool shipped, and it has shipped nothing yet", problem="not-shipped"
        )
    return state


def _exporter(state: Pool, profile: ExporterProfile) -> Party:
    """The aggregator as its exporter profile names it, or by its organisation id before it has one."""
    if not profile.exists:
        return Party(org=state.aggregator_org, name=state.aggregator_org, country=EXPORTER_COUNTRY)
    return Party(org=state.aggregator_org, name=profile.name, country=EXPORTER_COUNTRY, address=profile.address)


async def commercial_invoices(ctx: ServiceContext, principal: Principal, pool_id: UUID) -> CommercialInvoices:
    state = await _shipped_pool(ctx, principal, pool_id)
    return (await _invoiced(ctx, state, await exporter_profile(ctx, state.aggregator_org)))[0]


async def certificate_of_origin(ctx: ServiceContext, principal: Principal, pool_id: UUID) -> OriginRequests:
    """The e-SKA request data per order, from the same figures as its invoice."""
    state = await _shipped_pool(ctx, principal, pool_id)
    invoiced, terms = await _invoiced(ctx, state, await exporter_profile(ctx, state.aggregator_org))
    return origin_requests(invoiced, terms)


async def export_declaration(ctx: ServiceContext, principal: Principal, pool_id: UUID) -> ExportDeclarations:
    """The PEB data per order, from the same figures as its invoice, the shipped lots' makers and what the
    aggregator stated when shipping."""
    state = await _shipped_pool(ctx, principal, pool_id)
    profile = await exporter_profile(ctx, state.aggregator_org)
    invoiced, terms = await _invoiced(ctx, state, profile)
    lots = [lot for lot in state.lots.values() if lot.shipped]
    p, m = products.c, msmes.c
    masses = await fetch(
        ctx.pool, sa.select(p.product_id, p.net_mass_kg).where(p.product_id.in_({lot.product_id for lot in lots}))
    )
    places = await fetch(ctx.pool, sa.select(m.msme_id, m.province).where(m.msme_id.in_({lot.msme_id for lot in lots})))
    mass = {r["product_id"]: r["net_mass_kg"] for r in masses}
    province = {r["msme_id"]: r["province"] for r in places}
    made = [
        MadeLot(lot.lot_code, province.get(lot.msme_id, ""), mass.get(lot.product_id), lot.lines)
        for lot in sorted(lots, key=lambda lot: lot.lot_code)
    ]
    records = await ctx.store.read_stream(pool_stream(pool_id))
    costs = [
        ShipmentCosts(None if e.packages is None else tuple(e.packages), e.freight, e.insurance)
        for e in (ctx.store.decode(r) for r in records)
        if isinstance(e, ConsignmentShipped)
    ]
    return declarations(pool_id, profile, invoiced, terms, made, costs, state.consolidation_point)


async def _invoiced(
    ctx: ServiceContext, state: Pool, profile: ExporterProfile
) -> tuple[CommercialInvoices, dict[UUID, OrderTerms]]:
    pool_id = state.pool_id
    assert pool_id is not None
    shipped = [ShippedLine(line.order_id, line.line_id, line.shipped) for line in state.lines.values()]
    order_ids = sorted({line.order_id for line in shipped})
    rows = await fetch(ctx.pool, sa.select(orders).where(orders.c.order_id.in_(order_ids)))
    names = await fetch(ctx.pool, sa.select(buyers).where(buyers.c.org.in_({r["buyer_org"] for r in rows})))
    known = {r["org"]: r for r in names}
    terms: dict[UUID, OrderTerms] = {}
    for row in rows:
        buyer: Any = known.get(row["buyer_org"])
        party = Party(
            org=row["buyer_org"],
            name=buyer["name"] if buyer else row["buyer_org"],
            country=buyer["country"] if buyer else row["destination_country"],
        )
        quoted = {
            line.line_id: QuotedLine(
                line.hs_code,
                line.description,
                line.unit,
                line.quoted_unit_price.amount,
                line.quoted_unit_price.currency,
            )
            for line in _lines.decode(row["lines"])
        }
        terms[row["order_id"]] = OrderTerms(
            row["order_id"],
            party,
            row["incoterm"],
            row["destination_country"],
            row["destination_port"],
            row["loading_port"],
            quoted,
        )
    return invoices(pool_id, _exporter(state, profile), state.consolidation_point, shipped, terms), terms


async def packing(ctx: ServiceContext, principal: Principal, pool_id: UUID) -> PackingList:
    state = await _shipped_pool(ctx, principal, pool_id)
    lots = [lot for lot in state.lots.values() if lot.shipped]
    p, m = products.c, msmes.c
    made = await fetch(
        ctx.pool,
        sa.select(p.product_id, p.name, p.net_mass_kg).where(p.product_id.in_({lot.product_id for lot in lots})),
    )
    makers = await fetch(ctx.pool, sa.select(m.msme_id, m.name).where(m.msme_id.in_({lot.msme_id for lot in lots})))
    product = {r["product_id"]: r for r in made}
    maker = {r["msme_id"]: r["name"] for r in makers}
    packed = [
        ShippedLot(
            lot.lot_code,
            maker.get(lot.msme_id, str(lot.msme_id)),
            product[lot.product_id]["name"] if lot.product_id in product else str(lot.product_id),
            lot.quantity,
            _mass(product.get(lot.product_id)),
        )
        for lot in lots
    ]
    profile = await exporter_profile(ctx, state.aggregator_org)
    return packing_list(pool_id, _exporter(state, profile), state.hs_code, state.unit, packed)


def _mass(row: Any) -> Decimal | None:
    return None if row is None else row["net_mass_kg"]
