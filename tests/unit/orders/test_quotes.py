"""Quoting, re-quoting, competing aggregators, confirming before the quote lapses, and quote expiry."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from events.common import Money
from events.orders import OrderConfirmed, OrderQuoted, QuotedLine, QuoteExpired
from services.orders.domain.order import ORDER, ConfirmOrder, ExpireQuote, QuoteOrder
from shared.kernel.errors import Conflict, InvalidInput
from tests.support.given import invalid_fields, then, then_raises
from tests.unit.orders.fixtures import AGGREGATOR, BASKETS, NOW, TRAYS, history, quote, request, state, usd

pytestmark = pytest.mark.unit

WEEK = timedelta(days=7)


def confirm(at: timedelta, number: int | None = None) -> ConfirmOrder:
    return ConfirmOrder(confirmed_by="buyer:ana", at=NOW + at, quote_number=number)


def test_an_aggregator_quotes_every_line_with_lead_time_and_validity() -> None:
    (quoted,) = then(ORDER, history(request()), quote())
    assert isinstance(quoted, OrderQuoted)
    assert quoted.quote_number == 1 and quoted.aggregator_org == AGGREGATOR
    assert quoted.valid_until == NOW + WEEK and quoted.lead_time_days == 45
    assert {q.line_id: q.unit_price for q in quoted.lines} == {BASKETS: usd("3.10"), TRAYS: usd("2.05")}


def test_a_requote_by_the_same_aggregator_supersedes_the_previous_quote() -> None:
    given = history(request(), quote())
    (requoted,) = then(ORDER, given, quote(at=NOW + timedelta(hours=2), valid_for=timedelta(days=3)))
    assert isinstance(requoted, OrderQuoted) and requoted.quote_number == 2
    order = state([*given, requoted])
    assert order.state == "quoted" and order.quote is not None and order.quote.number == 2


def test_another_aggregator_cannot_quote_while_the_first_quote_is_valid() -> None:
    another = quote(aggregator="surabaya-crafts", at=NOW + timedelta(days=1))
    refused = then_raises(ORDER, history(request(), quote()), another, Conflict)
    assert refused.problem == "quoted-by-another-aggregator"
    assert refused.extensions["state"] == "quoted"


def test_once_a_quote_lapses_any_aggregator_may_quote() -> None:
    lapsed = history(request(), quote())
    (quoted,) = then(ORDER, lapsed, quote(aggregator="surabaya-crafts", at=NOW + WEEK))
    assert isinstance(quoted, OrderQuoted) and quoted.aggregator_org == "surabaya-crafts" and quoted.quote_number == 2


def test_the_buyer_confirms_before_the_quote_expires_and_the_event_carries_everything_pooling_needs() -> None:
    (confirmed,) = then(ORDER, history(request(), quote()), confirm(WEEK - timedelta(seconds=1), number=1))
    assert isinstance(confirmed, OrderConfirmed)
    assert confirmed.aggregator_org == AGGREGATOR and confirmed.buyer_org == "rotterdam-home"
    assert confirmed.incoterm == "FOB" and confirmed.destination_port == "NLRTM"
    assert confirmed.lead_time_days == 45 and confirmed.confirmed_at == NOW + WEEK - timedelta(seconds=1)
    baskets = next(line for line in confirmed.lines if line.line_id == BASKETS)
    assert (baskets.hs_code, baskets.standard_version, baskets.unit, baskets.quantity) == ("460212", 2, "PCE", 20_000)
    assert baskets.quoted_unit_price == usd("3.10") and baskets.target_unit_price == usd("3.20")
    assert baskets.attributes == {"colour": "natural"}


def test_confirming_at_or_after_valid_until_is_409_quote_expired() -> None:
    refused = then_raises(ORDER, history(request(), quote()), confirm(WEEK), Conflict)
    assert refused.problem == "quote-expired"
    assert refused.extensions["state"] == "quoted"


def test_confirming_after_the_expiry_fired_is_still_quote_expired() -> None:
    given = history(request(), quote(), ExpireQuote(quote_number=1, at=NOW + WEEK))
    assert state(given).state == "requested"
    refused = then_raises(ORDER, given, confirm(WEEK + timedelta(hours=1)), Conflict)
    assert refused.problem == "quote-expired"


def test_confirming_a_superseded_quote_is_refused() -> None:
    given = history(request(), quote(), quote(at=NOW + timedelta(hours=1)))
    refused = then_raises(ORDER, given, confirm(timedelta(hours=2), number=1), Conflict)
    assert refused.problem == "quote-superseded" and refused.extensions["quote_number"] == 2


def test_the_expiry_fires_at_valid_until_and_reopens_the_order() -> None:
    given = history(request(), quote())
    assert then(ORDER, given, ExpireQuote(quote_number=1, at=NOW + WEEK - timedelta(seconds=1))) == []
    (expired,) = then(ORDER, given, ExpireQuote(quote_number=1, at=NOW + WEEK))
    assert isinstance(expired, QuoteExpired) and expired.aggregator_org == AGGREGATOR
    order = state([*given, expired])
    assert order.state == "requested" and order.quote is None and order.aggregator_org is None
    assert order.milestones["requested"] == NOW


@pytest.mark.parametrize(
    "settled",
    [
        pytest.param([quote(at=NOW + timedelta(hours=1))], id="superseded by a re-quote"),
        pytest.param([ConfirmOrder(confirmed_by="buyer:ana", at=NOW + timedelta(days=1))], id="confirmed"),
        pytest.param([ExpireQuote(quote_number=1, at=NOW + WEEK)], id="already expired"),
    ],
)
def test_the_expiry_ignores_what_is_already_settled(settled: list[QuoteOrder | ConfirmOrder | ExpireQuote]) -> None:
    given = history(request(), quote(), *settled)
    assert then(ORDER, given, ExpireQuote(quote_number=1, at=NOW + timedelta(days=30))) == []


def test_a_quote_must_price_every_line_once_in_real_currencies_and_stay_valid_in_future() -> None:
    bad = QuoteOrder(
        aggregator_org=AGGREGATOR,
        prices=(
            QuotedLine(line_id=BASKETS, unit_price=Money(amount=Decimal("-1"), currency="USD")),
            QuotedLine(line_id=BASKETS, unit_price=Money(amount=Decimal("3.10"), currency="XYZ")),
            QuotedLine(line_id=NOW_ID, unit_price=usd("1")),
        ),
        lead_time_days=0,
        valid_until=NOW,
        quoted_by="aggregator:x",
        at=NOW,
    )
    fields = invalid_fields(ORDER, history(request()), bad)
    assert fields == {
        "lines[0].unit_price.amount",
        "lines[1].line_id",
        "lines[1].unit_price.currency",
        "lines[2].line_id",
        "lines",
        "lead_time_days",
        "valid_until",
    }


def test_a_price_with_more_decimals_than_its_currency_uses_is_refused() -> None:
    prices = (
        QuotedLine(line_id=BASKETS, unit_price=Money(amount=Decimal("3.105"), currency="USD")),
        QuotedLine(line_id=TRAYS, unit_price=Money(amount=Decimal("250.5"), currency="JPY")),
    )
    command = QuoteOrder(
        aggregator_org=AGGREGATOR,
        prices=prices,
        lead_time_days=30,
        valid_until=NOW + WEEK,
        quoted_by="x",
        at=NOW,
    )
    refused = then_raises(ORDER, history(request()), command, InvalidInput)
    assert isinstance(refused, InvalidInput)
    assert [e.field for e in refused.errors] == ["lines[0].unit_price.amount", "lines[1].unit_price.amount"]


NOW_ID = BASKETS.__class__("01900000-0000-7000-8000-0000000000ff")
