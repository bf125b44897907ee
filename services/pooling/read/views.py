"""What pooling's routes answer about a pool: the pool, its lines, suppliers and lots, and its consignment."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import msgspec

from events.common import Money
from events.pooling import (
    Packages,
    SetAside,
    ShippedLot,
)
from services.pooling.domain.lines import priority
from services.pooling.domain.pool_state import Lot, Pool


class LineView(msgspec.Struct, frozen=True, kw_only=True):
    order_id: UUID
    line_id: UUID
    buyer_org: str
    required_by: date
    demand: int
    accepted: int
    delivered: int
    passed: int
    shipped: int


class SupplierView(msgspec.Struct, frozen=True, kw_only=True):
    """One MSME's quantities in the pool; ``outstanding`` is accepted and not yet delivered."""

    msme_id: UUID
    requested: int
    accepted: int
    delivered: int
    passed: int
    returned: int
    shipped: int
    outstanding: int


class LotView(msgspec.Struct, frozen=True, kw_only=True):
    lot_id: UUID
    msme_id: UUID
    product_id: UUID
    lot_code: str
    quantity: int
    status: str
    shipped: bool
    plot_ids: list[UUID] = msgspec.field(default_factory=list)


class PoolView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    aggregator_org: str
    hs_code: str
    standard_id: UUID
    standard_version: int
    unit: str
    currency: str
    consolidation_point: str
    required_by: date | None
    inspector_orgs: list[str]
    status: str
    demand: int
    open: int
    requested: int
    accepted: int
    delivered: int
    passed: int
    returned: int
    shipped: int
    lines: list[LineView]
    msmes: list[SupplierView]
    lots: list[LotView]
    set_aside: list[SetAside]
    version: int
    position: int = 0


def lot_view(lot: Lot) -> LotView:
    return LotView(
        lot_id=lot.lot_id,
        msme_id=lot.msme_id,
        product_id=lot.product_id,
        lot_code=lot.lot_code,
        quantity=lot.quantity,
        status=lot.status,
        shipped=lot.shipped,
        plot_ids=list(lot.plot_ids),
    )


def pool_view(state: Pool, version: int, position: int = 0) -> PoolView:
    assert state.pool_id is not None and state.standard_id is not None
    lines = [
        LineView(
            order_id=line.order_id,
            line_id=line.line_id,
            buyer_org=line.buyer_org,
            required_by=line.required_by,
            demand=line.quantity,
            accepted=line.accepted,
            delivered=line.delivered,
            passed=line.passed,
            shipped=line.shipped,
        )
        for line in sorted(state.lines.values(), key=priority)
    ]
    suppliers = [
        SupplierView(
            msme_id=s.msme_id,
            requested=s.requested,
            accepted=s.accepted,
            delivered=s.delivered,
            passed=s.passed,
            returned=s.returned,
            shipped=s.shipped,
            outstanding=s.outstanding,
        )
        for s in sorted(state.suppliers.values(), key=lambda s: s.msme_id)
    ]
    lots = [lot_view(lot) for lot in state.lots.values()]
    return PoolView(
        id=state.pool_id,
        aggregator_org=state.aggregator_org,
        hs_code=state.hs_code,
        standard_id=state.standard_id,
        standard_version=state.standard_version,
        unit=state.unit,
        currency=state.currency,
        consolidation_point=state.consolidation_point,
        required_by=state.required_by,
        inspector_orgs=list(state.inspector_orgs),
        status=state.status,
        demand=state.demand,
        open=state.open,
        requested=state.requested,
        accepted=state.accepted,
        delivered=state.delivered,
        passed=state.passed,
        returned=state.returned,
        shipped=state.shipped,
        lines=lines,
        msmes=suppliers,
        lots=lots,
        set_aside=sorted(state.set_aside.values(), key=lambda s: s.msme_id),
        version=version,
        position=position,
    )


class PoolSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    hs_code: str
    standard_id: UUID
    standard_version: int
    unit: str
    consolidation_point: str
    status: str
    demand: int
    accepted: int
    passed: int
    shipped: int
    version: int


class ConsignmentView(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    pool_id: UUID
    quantity: int
    partial: bool
    lots: list[ShippedLot]
    pool: PoolView
    packages: list[Packages] | None = None
    freight: Money | None = None
    insurance: Money | None = None
