"""A pool's lots and consignment (stream ``pool-<pool_id>``): lots received, passed or returned, shipment."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec

from events.base import Event
from events.common import Money
from events.pooling.values import LineProgress, LineQuantity, Packages, ShippedLot


class LotReceived(Event, frozen=True, kw_only=True, tag="pooling.LotReceived.v1"):
    """An MSME's lot arrived at the consolidation point; quality inspects it by ``lot_id``. ``plot_ids`` are the
    MSME's registered plots its goods came from (empty in events stored before plots existed)."""

    pool_id: UUID
    aggregator_org: str
    lot_id: UUID
    msme_id: UUID
    product_id: UUID
    quantity: int
    lot_code: str
    delivered_on: date
    hs_code: str
    standard_id: UUID
    standard_version: int
    unit: str
    lines: list[LineQuantity]
    progress: list[LineProgress]
    received_by: str
    plot_ids: list[UUID] = msgspec.field(default_factory=list)
    at: datetime


class LotPassed(Event, frozen=True, kw_only=True, tag="pooling.LotPassed.v1"):
    """Quality accepted the lot: its units count toward filling the pool."""

    pool_id: UUID
    lot_id: UUID
    msme_id: UUID
    quantity: int
    inspection_id: UUID | None = None
    lines: list[LineQuantity]
    progress: list[LineProgress]
    at: datetime


class LotReturned(Event, frozen=True, kw_only=True, tag="pooling.LotReturned.v1"):
    """Quality rejected the lot: it goes back to the MSME and its units are open for re-allocation."""

    pool_id: UUID
    lot_id: UUID
    msme_id: UUID
    quantity: int
    reason: str
    inspection_id: UUID | None = None
    lines: list[LineQuantity]
    progress: list[LineProgress]
    at: datetime


class PoolFilled(Event, frozen=True, kw_only=True, tag="pooling.PoolFilled.v1"):
    """Lots that passed inspection cover the pool's whole demand."""

    pool_id: UUID
    aggregator_org: str
    demand: int
    passed: int
    lines: list[LineQuantity]
    progress: list[LineProgress]
    at: datetime


class ConsignmentShipped(Event, frozen=True, kw_only=True, tag="pooling.ConsignmentShipped.v1"):
    """The consolidated consignment left with its lots; ``partial`` when the buyers consented to less.
    ``packages``, ``freight`` and ``insurance`` (in the pool's currency) are what the aggregator stated on shipping,
    for the export declaration; None when not stated (and in events stored before they existed)."""

    pool_id: UUID
    aggregator_org: str
    consignment_id: UUID
    lots: list[ShippedLot]
    quantity: int
    partial: bool
    consent_reference: str | None = None
    lines: list[LineQuantity]
    progress: list[LineProgress]
    shipped_by: str
    packages: list[Packages] | None = None
    freight: Money | None = None
    insurance: Money | None = None
    at: datetime
