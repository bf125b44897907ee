"""The public list of webhook event types: each names real events, each audience gets one type per event,
every event a buyer's or an aggregator's systems care about has a type, and the committed schema document
of the messages matches the list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from events import orders, pooling
from events.schema import webhooks_schema
from events.webhooks import BOTH, EVENT_TYPES, type_for

pytestmark = pytest.mark.unit

SNAPSHOT = Path(__file__).parents[3] / "events" / "schema" / "webhooks.schema.json"
UNTOLD = {orders.BuyerRegistered, pooling.AllocationWithdrawn, pooling.ProposalApproved, pooling.SupplyRequested,
          pooling.SupplyLapsed, pooling.CapacityRecorded, pooling.CapacityCommitted, pooling.CapacityReleased,
          pooling.DemandPooled, pooling.DemandCancelled, pooling.PoolOpened, pooling.AnswerSettled,
          pooling.ExporterProfileSet}  # fmt: skip
"""Events no one is told of: a buyer's own registration, and pooling's bookkeeping, which other events tell (an
MSME's answer settled is told as the request's acceptance or decline; an exporter profile is the aggregator's own)."""


def test_names_are_unique_and_each_audience_has_one_type_per_event() -> None:
    names = [t.name for t in EVENT_TYPES]
    assert len(names) == len(set(names))
    for audience in BOTH:
        seen: dict[type, str] = {}
        for event_type in (t for t in EVENT_TYPES if audience in t.audiences):
            for cls in event_type.events:
                assert cls not in seen, f"{cls.__name__} is both {seen[cls]} and {event_type.name} for {audience}s"
                seen[cls] = event_type.name


def test_every_order_and_pool_event_is_told_to_someone_or_deliberately_not() -> None:
    classes = [*orders.CODEC.classes.values(), *pooling.CODEC.classes.values()]
    untold = {cls for cls in classes if type_for(cls, "buyer") is None and type_for(cls, "aggregator") is None}
    assert untold == UNTOLD


def test_the_committed_schema_of_messages_is_the_generated_one() -> None:
    committed = json.loads(SNAPSHOT.read_text())
    assert committed == webhooks_schema(), "run `gotong events schema` and commit events/schema/"
    assert set(committed["messages"]) == {t.name for t in EVENT_TYPES}
    confirmed = committed["messages"]["order.confirmed"]
    assert confirmed["properties"]["type"] == {"const": "order.confirmed"}
    assert confirmed["properties"]["data"] == {"$ref": "#/components/schemas/OrderConfirmed"}
