"""Pooling's events: pools, allocation requests, capacity ledgers, lots and consignments.

Streams: ``pool-<pool_id>`` (demand, proposals, the supply booked into the pool, lots, shipment),
``allocation-request-<request_id>`` (one request to one MSME), ``capacity:<product_id>:<YYYY-MM>`` (the
capacity ledger of a product's month), ``order-demand-<order_id>`` (which pool each confirmed line joined,
or that none matched), ``answer-<answer_id>`` (an answer given on WhatsApp or the phone page, settled) and
``exporter-<org>`` (an aggregator's exporter profile). Capacity ledger events carry the month's totals after the
change.

Every event that changes quantities names the order lines it affects (``lines``: order, line, quantity),
and the pool's events carry ``progress``, each affected line's totals after the change, so orders can follow
a line from the pool's stream alone, in order.
"""

from __future__ import annotations

from events.base import EventCodec
from events.pooling.allocation_requests import (
    AllocationAccepted,
    AllocationDeclined,
    AllocationExpired,
    AllocationReleased,
    AllocationRequested,
    AllocationWithdrawn,
)
from events.pooling.answers import AnswerOutcome, AnswerSettled
from events.pooling.capacity_ledger import (
    CapacityCommitted,
    CapacityRecorded,
    CapacityReleased,
)
from events.pooling.exporter import ExporterProfileSet
from events.pooling.lots import (
    ConsignmentShipped,
    LotPassed,
    LotReceived,
    LotReturned,
    PoolFilled,
)
from events.pooling.order_demand import (
    DemandCancelled,
    DemandPooled,
    DemandUnmatched,
)
from events.pooling.pool import (
    AllocationProposed,
    DemandAdded,
    DemandRemoved,
    PoolOpened,
    ProposalApproved,
    SupplyBooked,
    SupplyLapsed,
    SupplyReleased,
    SupplyRequested,
)
from events.pooling.values import (
    AllocationPolicy,
    CostTerms,
    ExchangeRate,
    LineProgress,
    LineQuantity,
    MonthQuantity,
    Packages,
    ProposalExclusion,
    ProposedSupply,
    RequestEnd,
    SetAside,
    SetAsideReason,
    ShippedLot,
)

PoolingEvent = (
    PoolOpened
    | DemandAdded
    | DemandRemoved
    | AllocationProposed
    | ProposalApproved
    | SupplyRequested
    | SupplyBooked
    | SupplyLapsed
    | SupplyReleased
    | LotReceived
    | LotPassed
    | LotReturned
    | PoolFilled
    | ConsignmentShipped
    | AllocationRequested
    | AllocationAccepted
    | AllocationDeclined
    | AllocationExpired
    | AllocationWithdrawn
    | AllocationReleased
    | CapacityRecorded
    | CapacityCommitted
    | CapacityReleased
    | DemandUnmatched
    | DemandPooled
    | DemandCancelled
    | AnswerSettled
    | ExporterProfileSet
)
CODEC = EventCodec("pooling", PoolingEvent)

__all__ = [
    "CODEC",
    "AllocationAccepted",
    "AllocationDeclined",
    "AllocationExpired",
    "AllocationPolicy",
    "AllocationProposed",
    "AllocationReleased",
    "AllocationRequested",
    "AllocationWithdrawn",
    "AnswerOutcome",
    "AnswerSettled",
    "CapacityCommitted",
    "CapacityRecorded",
    "CapacityReleased",
    "ConsignmentShipped",
    "CostTerms",
    "DemandAdded",
    "DemandCancelled",
    "DemandPooled",
    "DemandRemoved",
    "DemandUnmatched",
    "ExchangeRate",
    "ExporterProfileSet",
    "LineProgress",
    "LineQuantity",
    "LotPassed",
    "LotReceived",
    "LotReturned",
    "MonthQuantity",
    "Packages",
    "PoolFilled",
    "PoolOpened",
    "PoolingEvent",
    "ProposalApproved",
    "ProposalExclusion",
    "ProposedSupply",
    "RequestEnd",
    "SetAside",
    "SetAsideReason",
    "ShippedLot",
    "SupplyBooked",
    "SupplyLapsed",
    "SupplyReleased",
    "SupplyRequested",
]
