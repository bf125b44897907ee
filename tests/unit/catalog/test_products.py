"""The product decider: listing and its validation, updates with full state, monthly capacity for future months."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.catalog import (
    CapacityDeclared,
    OriginPlot,
    PointGeometry,
    PolygonGeometry,
    ProductListed,
    ProductUpdated,
    StandardRef,
)
from events.common import PriceTier
from services.catalog.domain.product import PRODUCT, DeclareCapacity, ProductChanges, UpdateProduct
from shared.kernel.errors import InvalidInput, NotFound
from tests.support.given import invalid_fields, then, then_raises
from tests.unit.catalog.given import MSME_ID, NOW, PRODUCT_ID, listed, listing, usd

pytestmark = pytest.mark.unit

STANDARD = UUID("01890000-0000-7000-8000-00000000057d")
SQUARE = [[(108.55, -6.70), (108.56, -6.70), (108.56, -6.71), (108.55, -6.71), (108.55, -6.70)]]


def test_a_listing_carries_the_whole_product_with_its_hs_code_as_digits() -> None:
    [event] = listed(standards=[StandardRef(standard_id=STANDARD, version=2)])
    assert isinstance(event, ProductListed)
    assert event.hs_code == "46021210" and event.currency == "USD" and event.msme_id == MSME_ID
    assert event.org == "cirebon-weavers" and event.standards == [StandardRef(standard_id=STANDARD, version=2)]
    assert event.eudr_commodity is None


@pytest.mark.parametrize(
    "hs_code, commodity",
    [("0901.21", "coffee"), ("180100", "cocoa"), ("4001.21.20", "rubber"), ("151110", "palm_oil"),
     ("120190", "soy"), ("940360", "wood"), ("4418.20", "wood"), ("010229", "cattle"), ("940383", None)],
)  # fmt: skip
def test_products_under_the_eu_deforestation_regulation_are_recognised_by_hs_code(
    hs_code: str, commodity: str | None
) -> None:
    [event] = listed(hs_code=hs_code)
    assert isinstance(event, ProductListed) and event.eudr_commodity == commodity


@pytest.mark.parametrize("hs_code", ["46021", "46021210123", "4602AB", "770000", "980000", "000000", ""])
def test_an_hs_code_has_six_to_ten_digits_in_a_real_chapter(hs_code: str) -> None:
    assert invalid_fields(PRODUCT, [], listing(hs_code=hs_code)) == {"hs_code"}


def test_a_listing_reports_every_invalid_field() -> None:
    command = listing(
        sku="has space",
        name=" ",
        category="Home Decor",
        unit="PIECES",
        moq=0,
        lead_time_days=400,
        price_tiers=[PriceTier(min_quantity=0, unit_price=usd("0"))],
    )
    assert invalid_fields(PRODUCT, [], command) == {
        "sku",
        "name",
        "category",
        "unit",
        "moq",
        "lead_time_days",
        "price_tiers[0].unit_price.amount",
        "price_tiers[0].min_quantity",
    }


def test_price_tiers_share_one_real_currency_rise_in_quantity_and_respect_its_decimals() -> None:
    tiers = [
        PriceTier(min_quantity=200, unit_price=usd("6.50")),
        PriceTier(min_quantity=200, unit_price=usd("6.00", "EUR")),
        PriceTier(min_quantity=100, unit_price=usd("5.50")),
        PriceTier(min_quantity=5000, unit_price=usd("5.125")),
    ]
    assert invalid_fields(PRODUCT, [], listing(price_tiers=tiers)) == {
        "price_tiers[0].min_quantity",  # above the MOQ of 100
        "price_tiers[1].unit_price.currency",
        "price_tiers[1].min_quantity",
        "price_tiers[2].min_quantity",
        "price_tiers[3].unit_price.amount",
    }
    yen = [PriceTier(min_quantity=100, unit_price=usd("980.5", "JPY"))]
    assert invalid_fields(PRODUCT, [], listing(price_tiers=yen)) == {"price_tiers[0].unit_price.amount"}
    fake = [PriceTier(min_quantity=100, unit_price=usd("1", "XYZ"))]
    assert invalid_fields(PRODUCT, [], listing(price_tiers=fake)) == {"price_tiers[0].unit_price.currency"}
    assert invalid_fields(PRODUCT, [], listing(price_tiers=[])) == {"price_tiers"}
    rupiah = [PriceTier(min_quantity=100, unit_price=usd("95000.00", "IDR"))]
    assert isinstance(listed(price_tiers=rupiah)[0], ProductListed)


def test_a_product_is_produced_to_one_version_of_each_standard() -> None:
    refs = [StandardRef(standard_id=STANDARD, version=1), StandardRef(standard_id=STANDARD, version=2)]
    assert invalid_fields(PRODUCT, [], listing(standards=refs)) == {"standards[1]"}
    same = [StandardRef(standard_id=STANDARD, version=1), StandardRef(standard_id=STANDARD, version=1)]
    [event] = listed(standards=same)
    assert isinstance(event, ProductListed) and len(event.standards) == 1


def test_origin_plots_are_valid_geojson_points_or_polygons_with_an_area() -> None:
    good = [
        OriginPlot(geometry=PointGeometry(coordinates=(110.67, -6.59)), area_hectares=Decimal("1.5")),
        OriginPlot(geometry=PolygonGeometry(coordinates=SQUARE), area_hectares=Decimal("12.3"), name="Kebun A"),
    ]
    [event] = listed(hs_code="4407.29", origin_plots=good)
    assert isinstance(event, ProductListed) and event.origin_plots == good and event.eudr_commodity == "wood"
    bad = [
        OriginPlot(geometry=PointGeometry(coordinates=(181.0, -91.0)), area_hectares=Decimal("1")),
        OriginPlot(geometry=PointGeometry(coordinates=(110.0, -6.0)), area_hectares=Decimal("25")),
        OriginPlot(geometry=PolygonGeometry(coordinates=[SQUARE[0][:-1]]), area_hectares=Decimal("2")),
        OriginPlot(geometry=PolygonGeometry(coordinates=[SQUARE[0][:2] + SQUARE[0][:1]]), area_hectares=Decimal("2")),
        OriginPlot(geometry=PolygonGeometry(coordinates=[]), area_hectares=Decimal("0")),
    ]
    assert invalid_fields(PRODUCT, [], listing(origin_plots=bad)) == {
        "origin_plots[0].geometry.coordinates[0]",
        "origin_plots[0].geometry.coordinates[1]",
        "origin_plots[1].geometry",
        "origin_plots[2].geometry.coordinates[0]",
        "origin_plots[3].geometry.coordinates[0]",
        "origin_plots[4].geometry.coordinates",
        "origin_plots[4].area_hectares",
    }


def test_an_update_carries_the_whole_product_and_names_what_changed() -> None:
    given_events = listed()
    changes = ProductChanges(moq=200, price_tiers=[PriceTier(min_quantity=200, unit_price=usd("6.10"))])
    [event] = then(PRODUCT, given_events, UpdateProduct(changes=changes, at=NOW))
    assert isinstance(event, ProductUpdated)
    assert event.changed == ["moq", "price_tiers"]
    assert (event.sku, event.name, event.hs_code, event.moq) == (
        "RB-40",
        "Rattan storage basket 40 cm",
        "46021210",
        200,
    )
    assert then(PRODUCT, given_events, UpdateProduct(changes=ProductChanges(moq=100), at=NOW)) == []


def test_an_update_is_validated_against_the_resulting_product() -> None:
    # A MOQ below the first tier would leave small orders without a price.
    update = UpdateProduct(changes=ProductChanges(moq=50), at=NOW)
    assert invalid_fields(PRODUCT, listed(), update) == {"price_tiers[0].min_quantity"}
    then_raises(PRODUCT, [], update, NotFound)


def test_listing_the_same_product_again_changes_nothing() -> None:
    assert then(PRODUCT, listed(), listing()) == []


def test_capacity_is_declared_per_future_month_as_full_values() -> None:
    declare = DeclareCapacity(months={"2027-02": 300, "2026-11": 250}, at=NOW)
    events = then(PRODUCT, listed(), declare)
    assert events == [
        CapacityDeclared(product_id=PRODUCT_ID, msme_id=MSME_ID, month="2026-11", units=250, at=NOW),
        CapacityDeclared(product_id=PRODUCT_ID, msme_id=MSME_ID, month="2027-02", units=300, at=NOW),
    ]
    again = then(PRODUCT, [*listed(), *events], DeclareCapacity(months={"2026-11": 250, "2027-02": 280}, at=NOW))
    assert [(e.month, e.units) for e in again if isinstance(e, CapacityDeclared)] == [("2027-02", 280)]


def test_capacity_for_the_current_or_past_months_is_refused_naming_each_month() -> None:
    declare = DeclareCapacity(months={"2026-10": 300, "2025-01": 10, "2026-13": 5, "2029-01": 5, "2027-01": -1}, at=NOW)
    error = then_raises(PRODUCT, listed(), declare, InvalidInput)
    assert isinstance(error, InvalidInput)
    assert {e.field for e in error.errors} == {
        "months.2026-10",
        "months.2025-01",
        "months.2026-13",
        "months.2029-01",
        "months.2027-01",
    }
    assert "after 2026-10" in error.detail


@settings(max_examples=200, deadline=None)
@given(now=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 12, 31)), ahead=st.integers(-30, 30))
def test_a_month_can_be_declared_exactly_when_it_is_one_to_twenty_four_months_ahead(now: datetime, ahead: int) -> None:
    index = now.year * 12 + now.month - 1 + ahead
    month = f"{index // 12:04d}-{index % 12 + 1:02d}"
    declare = DeclareCapacity(months={month: 10}, at=now.replace(tzinfo=UTC))
    if 1 <= ahead <= 24:
        assert len(then(PRODUCT, listed(), declare)) == 1
    else:
        assert invalid_fields(PRODUCT, listed(), declare) == {f"months.{month}"}


def test_capacity_of_an_unlisted_product_cannot_be_declared() -> None:
    then_raises(PRODUCT, [], DeclareCapacity(months={"2027-01": 1}, at=NOW), NotFound)
