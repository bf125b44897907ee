"""Requesting an order: every field validated with a message naming it, and the idempotent create."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from events.common import Money
from events.orders import OrderRequested
from services.orders.domain.order import ORDER
from shared.kernel.errors import Conflict, InvalidInput
from tests.support.given import then, then_raises
from tests.unit.orders.fixtures import NOW, history, line, request, state

pytestmark = pytest.mark.unit


def errors_of(**changes: object) -> dict[str, str]:
    refused = then_raises(ORDER, [], request(**changes), InvalidInput)
    assert isinstance(refused, InvalidInput)
    return {e.field: e.message for e in refused.errors}


def test_a_valid_request_opens_the_order() -> None:
    (requested,) = then(ORDER, [], request())
    assert isinstance(requested, OrderRequested)
    order = state([requested])
    assert order.state == "requested" and order.buyer_org == "rotterdam-home" and len(order.lines) == 2
    assert order.milestones == {"requested": NOW}


def test_repeating_the_same_request_is_idempotent_but_a_different_one_conflicts() -> None:
    given = history(request())
    assert then(ORDER, given, request()) == []
    assert then(ORDER, given, request(at=NOW + timedelta(minutes=1))) == []
    refused = then_raises(ORDER, given, request(notes="now in blue"), Conflict)
    assert refused.problem == "order-exists"


def test_an_order_needs_at_least_one_line() -> None:
    assert "lines" in errors_of(lines=())


def test_every_bad_line_field_is_named() -> None:
    bad = line(
        hs_code="4602",
        category=" ",
        description="",
        standard_version=0,
        quantity=0,
        unit="BASKETS",
        target_unit_price=Money(amount=Decimal("0"), currency="usd"),
    )
    errors = errors_of(lines=(line(), bad))
    assert set(errors) == {
        "lines[1].hs_code",
        "lines[1].category",
        "lines[1].description",
        "lines[1].standard_version",
        "lines[1].quantity",
        "lines[1].unit",
        "lines[1].target_unit_price.amount",
        "lines[1].target_unit_price.currency",
    }
    assert "6 to 10 digits" in errors["lines[1].hs_code"]
    assert "Recommendation 20" in errors["lines[1].unit"]
    assert "ISO 4217" in errors["lines[1].target_unit_price.currency"]


@pytest.mark.parametrize("incoterm", ["FAS", "FOB", "CFR", "CIF"])
def test_sea_only_incoterms_need_a_destination_port(incoterm: str) -> None:
    assert "sea-only" in errors_of(incoterm=incoterm, destination_port=None)["destination_port"]


@pytest.mark.parametrize("incoterm", ["EXW", "FCA", "CPT", "CIP", "DAP", "DPU", "DDP"])
def test_other_incoterms_do_not_need_a_port(incoterm: str) -> None:
    assert len(then(ORDER, [], request(incoterm=incoterm, destination_port=None))) == 1


@pytest.mark.parametrize(
    ("port", "message"),
    [("NLRT", "UN/LOCODE"), ("nlrtm", "UN/LOCODE"), ("NLRT1", "UN/LOCODE"), ("DEHAM", "not in the destination")],
)
def test_the_port_is_a_unlocode_in_the_destination_country(port: str, message: str) -> None:
    assert message in errors_of(destination_port=port)["destination_port"]


def test_the_destination_country_is_iso_3166() -> None:
    errors = errors_of(destination_country="XX", destination_port=None, incoterm="DAP")
    assert "ISO 3166-1" in errors["destination_country"]


def test_a_loading_port_must_be_a_known_indonesian_port() -> None:
    assert len(then(ORDER, [], request(loading_port="IDSUB"))) == 1
    assert "Indonesian port" in errors_of(loading_port="IDXXX")["loading_port"]


def test_required_by_must_be_in_the_future_and_notes_short() -> None:
    errors = errors_of(required_by=date(2027, 1, 10), notes="x" * 2001)
    assert "after today" in errors["required_by"]
    assert "2000" in errors["notes"]
