"""What a shipped pool hands over at the border: the EU deforestation regulation statement's data."""

from __future__ import annotations

from uuid import UUID

import msgspec
import sqlalchemy as sa

from events.catalog import PlotRegistered
from services.pooling.domain.eudr_statement import NotCovered, ProductFacts, ShippedGoods, Statement, statement
from services.pooling.read.tables import msmes, plots, products
from services.pooling.use_cases.access import visible_pool
from shared.auth import Principal
from shared.kernel.errors import Conflict
from shared.kernel.eudr import annex_i
from shared.service import ServiceContext
from shared.sql import fetch

_plot = msgspec.json.Decoder(PlotRegistered)


async def eudr_statement(ctx: ServiceContext, principal: Principal, pool_id: UUID) -> Statement | NotCovered:
    """The due diligence statement's data for every lot the pool shipped (its aggregator or an admin; else 404)."""
    state, _ = await visible_pool(ctx, principal, pool_id)
    annex = annex_i()
    if annex.heading_of(state.hs_code) is None:
        return statement(annex, hs_code=state.hs_code, operator_org=state.aggregator_org, goods=[], products={},
                         plots={}, producers={})  # fmt: skip
    goods = [
        ShippedGoods(lot.lot_code, lot.msme_id, lot.product_id, lot.quantity, lot.plot_ids)
        for lot in sorted(state.lots.values(), key=lambda lot: lot.lot_code)
        if lot.shipped
    ]
    if not goods:
        raise Conflict("a statement is made for what the pool shipped, and it has shipped nothing yet",
                       problem="not-shipped")  # fmt: skip
    product_ids = sorted({g.product_id for g in goods})
    plot_ids = sorted({p for g in goods for p in g.plot_ids})
    p, m, t = products.c, msmes.c, plots.c
    product_rows = await fetch(
        ctx.pool, sa.select(p.product_id, p.sku, p.name, p.unit, p.net_mass_kg).where(p.product_id.in_(product_ids))
    )
    plot_rows = await fetch(ctx.pool, sa.select(t.plot_id, t.registered).where(t.plot_id.in_(plot_ids)))
    producer_rows = await fetch(ctx.pool, sa.select(m.msme_id, m.name).where(m.msme_id.in_({g.msme_id for g in goods})))
    return statement(
        annex,
        hs_code=state.hs_code,
        operator_org=state.aggregator_org,
        goods=goods,
        products={
            r["product_id"]: ProductFacts(r["product_id"], r["sku"], r["name"], r["unit"], r["net_mass_kg"])
            for r in product_rows
        },
        plots={r["plot_id"]: _plot.decode(r["registered"]) for r in plot_rows},
        producers={r["msme_id"]: r["name"] for r in producer_rows},
    )
