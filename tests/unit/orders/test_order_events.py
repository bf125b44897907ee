"""Orders' events are a contract: they round-trip through the codec, and OrderConfirmed carries full state."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from events.base import event_tag
from events.orders import CODEC, OrderConfirmed
from services.orders.domain.order import (
    CancelOrder,
    ConfirmOrder,
    ExpireQuote,
    MarkDelivered,
    MarkInspected,
    MarkShipped,
    StartProduction,
)
from tests.unit.orders.fixtures import NOW, history, quote, request

pytestmark = pytest.mark.unit

LATER = NOW + timedelta(days=1)


def test_every_event_of_an_order_round_trips_through_the_codec() -> None:
    events = [
        *history(request(), quote(), ExpireQuote(quote_number=1, at=NOW + timedelta(days=7))),
        *history(
            request(),
            quote(),
            ConfirmOrder(confirmed_by="buyer:ana", at=LATER),
            StartProduction(at=LATER),
            MarkInspected(at=LATER),
            MarkShipped(at=LATER),
            MarkDelivered(delivered_by="buyer:ana", at=LATER),
        ),
        *history(request(), CancelOrder(reason="dropped", cancelled_by="buyer:ana", at=LATER))[1:],
    ]
    for event in events:
        name, version = CODEC.name_of(event)
        assert event_tag(type(event)) == f"orders.{name}.v{version}"
        assert CODEC.decode(name, version, CODEC.encode(event)) == event


def test_order_confirmed_carries_everything_pooling_needs() -> None:
    confirmed = history(request(), quote(), ConfirmOrder(confirmed_by="buyer:ana", at=LATER))[-1]
    assert isinstance(confirmed, OrderConfirmed)
    document = msgspec.json.decode(CODEC.encode(confirmed))
    assert {
        "order_id",
        "buyer_org",
        "aggregator_org",
        "lines",
        "incoterm",
        "destination_country",
        "destination_port",
        "required_by",
        "confirmed_at",
    } <= set(document)
    assert set(document["lines"][0]) >= {
        "line_id",
        "hs_code",
        "category",
        "description",
        "attributes",
        "standard_id",
        "standard_version",
        "quantity",
        "unit",
        "target_unit_price",
        "quoted_unit_price",
    }
    assert document["lines"][0]["quoted_unit_price"] == {"amount": "3.10", "currency": "USD"}
