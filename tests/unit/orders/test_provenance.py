"""An order's provenance from what orders kept of catalog, pooling and quality: each line's lots, who made
them with the certificates valid when they delivered, the product as described then, how the lots were
judged, and where they shipped; and the same as CSV for an auditor."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import msgspec
import pytest

from events.catalog import OriginPlot, PointGeometry, PolygonGeometry
from events.quality import ClassPlan, ClassVerdict
from services.orders.domain.order import ConfirmOrder, Order
from services.orders.read.provenance import (
    CertificationRow,
    ConsignmentRow,
    InspectionRow,
    LotRow,
    LotShare,
    MsmeRow,
    ProductRow,
    Supply,
    assemble,
)
from services.orders.read.provenance_csv import COLUMNS, provenance_csv
from tests.unit.orders.fixtures import BASKETS, NOW, TRAYS, history, quote, request, state

pytestmark = pytest.mark.unit

WEAVER = UUID("01900000-0000-7000-8000-0000000000e1")
BASKET = UUID("01900000-0000-7000-8000-0000000000e2")
LOT_A = UUID("01900000-0000-7000-8000-0000000000a1")
LOT_B = UUID("01900000-0000-7000-8000-0000000000a2")
SHIPMENT = UUID("01900000-0000-7000-8000-0000000000d1")
INSPECTION = UUID("01900000-0000-7000-8000-0000000000f1")
RECEIVED = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
PLOT = OriginPlot(geometry=PointGeometry(coordinates=(108.55, -6.73)), area_hectares=Decimal("1.5"), name="Kebun 3")


def order() -> Order:
    return state(history(request(), quote(), ConfirmOrder(confirmed_by="buyer:ana", at=NOW)))


def json_text(value: object) -> str:
    return msgspec.json.encode(value).decode()


def certificate(number: str, valid_from: date, valid_until: date) -> CertificationRow:
    return CertificationRow(
        msme_id=WEAVER, kind="svlk", name="SVLK", number=number, issuer="MAL",
        valid_from=valid_from, valid_until=valid_until,
    )  # fmt: skip


def product(version: int, valid_from: datetime, name: str, plots: list[OriginPlot]) -> ProductRow:
    return ProductRow(
        product_id=BASKET, version=version, sku="RB-30", name=name, hs_code="460212", eudr_commodity=None,
        origin_plots=json_text(plots), valid_from=valid_from,
    )  # fmt: skip


def lot(lot_id: UUID, code: str, quantity: int, status: str, shipped: bool) -> LotRow:
    return LotRow(
        lot_id=lot_id, msme_id=WEAVER, product_id=BASKET, lot_code=code, quantity=quantity, unit="PCE",
        delivered_on=date(2027, 3, 1), received_at=RECEIVED, status=status,
        consignment_id=SHIPMENT if shipped else None, decided_by=INSPECTION if status == "passed" else None,
    )  # fmt: skip


PLAN = ClassPlan(
    defect_class="major", aql=Decimal("1.0"), code_letter="L", sample_size=200, accept=5, reject=6,
    inspect_whole_lot=False,
)  # fmt: skip
VERDICT = ClassVerdict(
    defect_class="major", sample_size=200, accept=5, reject=6, reported_defects=2, measurement_defects=0, defects=2,
    accepted=True, reason="2 ≤ Ac 5",
)  # fmt: skip


def inspection(inspection_id: UUID, *, accepted: bool, by: str, day: int) -> InspectionRow:
    return InspectionRow(
        inspection_id=inspection_id, lot_id=LOT_A, standard_id=UUID(int=1), standard_version=2, accepted=accepted,
        lot_size=19_000, resubmitted=False, severity="normal", plans=json_text([PLAN]), verdicts=json_text([VERDICT]),
        reasons=json_text([]), inspector_org=by, at=datetime(2027, 3, day, tzinfo=UTC),
    )  # fmt: skip


def supply(**changes: object) -> Supply:
    fields: dict[str, object] = {
        # lot A serves the baskets; lot B's 6,000 units are 1,000 baskets and 5,000 trays
        "shares": [
            LotShare(lot_id=LOT_A, line_id=BASKETS, quantity=19_000),
            LotShare(lot_id=LOT_B, line_id=BASKETS, quantity=1_000),
            LotShare(lot_id=LOT_B, line_id=TRAYS, quantity=5_000),
        ],
        "lots": {
            LOT_A: lot(LOT_A, "CRB-1", 19_000, "passed", True),
            LOT_B: lot(LOT_B, "CRB-2", 6_000, "received", False),
        },
        "inspections": [inspection(INSPECTION, accepted=True, by="sucofindo-qc", day=2)],
        "msmes": {
            WEAVER: MsmeRow(
                msme_id=WEAVER, name='=HYPERLINK("x")', nib="9120001234567", province="Jawa Barat", city="Cirebon"
            )
        },
        "certifications": [
            certificate("EXPIRED", date(2025, 1, 1), date(2027, 2, 28)),
            certificate("CURRENT", date(2027, 3, 1), date(2029, 2, 28)),
            certificate("FUTURE", date(2027, 3, 2), date(2030, 1, 1)),
        ],
        "products": [
            product(1, datetime(2026, 12, 1, tzinfo=UTC), "Rattan basket", []),
            product(2, datetime(2027, 2, 1, tzinfo=UTC), "Rattan basket, oiled", [PLOT]),
            product(3, datetime(2027, 4, 1, tzinfo=UTC), "Rattan basket, renamed later", []),
        ],
        "consignments": {
            SHIPMENT: ConsignmentRow(
                consignment_id=SHIPMENT,
                shipped_at=datetime(2027, 3, 10, tzinfo=UTC),
                partial=True,
                consent_reference="email 2027-03-09",
            )
        },
    }
    fields.update(changes)
    return Supply(**fields)  # type: ignore[arg-type]


def test_each_line_lists_the_lots_delivered_for_it_and_what_of_them_shipped() -> None:
    provenance = assemble(order(), supply())
    baskets, trays = provenance.lines
    assert [(lot.lot_code, lot.quantity, lot.lot_quantity) for lot in baskets.lots] == [
        ("CRB-1", 19_000, 19_000),
        ("CRB-2", 1_000, 6_000),
    ]
    assert baskets.shipped == 19_000 and trays.shipped == 0
    (shipment,) = baskets.consignments
    assert (shipment.consignment_id, shipment.quantity, shipment.partial) == (SHIPMENT, 19_000, True)
    assert trays.consignments == [] and [lot.lot_code for lot in trays.lots] == ["CRB-2"]


def test_a_lot_shows_certificates_valid_on_its_delivery_day_and_the_product_as_described_on_arrival() -> None:
    first = assemble(order(), supply()).lines[0].lots[0]
    assert first.msme is not None and [c.number for c in first.msme.certifications] == ["CURRENT"]
    assert first.product is not None and first.product.name == "Rattan basket, oiled"
    assert first.product.origin_plots == [PLOT]
    (inspection,) = first.inspections
    assert inspection.verdict == "accepted" and inspection.plans == [PLAN] and inspection.verdicts == [VERDICT]


def test_a_verdict_the_pool_did_not_act_on_is_listed_but_does_not_count() -> None:
    """A later rejection by an organisation the pool does not trust: listed, not counted, not in the CSV."""
    outsider = UUID("01900000-0000-7000-8000-0000000000f2")
    verdicts = [
        inspection(INSPECTION, accepted=True, by="sucofindo-qc", day=2),
        inspection(outsider, accepted=False, by="unknown-lab", day=3),
    ]
    provenance = assemble(order(), supply(inspections=verdicts))
    lot_a = provenance.lines[0].lots[0]
    assert [(i.inspector_org, i.verdict, i.counted) for i in lot_a.inspections] == [
        ("sucofindo-qc", "accepted", True),
        ("unknown-lab", "rejected", False),
    ]
    first = next(csv.DictReader(io.StringIO(provenance_csv(provenance))))
    assert (first["inspection_id"], first["inspector_org"], first["inspection_counted"]) == (
        str(INSPECTION),
        "sucofindo-qc",
        "True",
    )


def test_a_lot_from_before_the_first_description_shows_the_first_one() -> None:
    products = [product(1, datetime(2027, 6, 1, tzinfo=UTC), "Listed late", [])]
    lot_a = assemble(order(), supply(products=products)).lines[0].lots[0]
    assert lot_a.product is not None and lot_a.product.name == "Listed late"


def test_a_line_with_no_lots_yet_and_a_maker_catalog_never_told_about() -> None:
    provenance = assemble(order(), supply(shares=[LotShare(lot_id=LOT_A, line_id=BASKETS, quantity=19_000)], msmes={}))
    assert provenance.lines[1].lots == [] and provenance.lines[0].lots[0].msme is None


def test_the_csv_has_a_row_per_line_and_lot_with_plots_as_geojson_and_no_formulas() -> None:
    polygon = OriginPlot(
        geometry=PolygonGeometry(coordinates=[[(1.0, 1.0), (1.0, 2.0), (2.0, 2.0), (1.0, 1.0)]]),
        area_hectares=Decimal("10.25"),
    )
    products = [product(1, datetime(2026, 1, 1, tzinfo=UTC), "Basket", [PLOT, polygon])]
    text = provenance_csv(assemble(order(), supply(products=products)))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0].split(",") == list(COLUMNS)
    assert [(row["line_id"], row["lot_code"], row["lot_quantity_for_line"]) for row in rows] == [
        (str(BASKETS), "CRB-1", "19000"),
        (str(BASKETS), "CRB-2", "1000"),
        (str(TRAYS), "CRB-2", "5000"),
    ]
    first = rows[0]
    assert first["consignment_id"] == str(SHIPMENT) and rows[1]["consignment_id"] == ""
    assert first["msme_name"] == '\'=HYPERLINK("x")'
    assert first["certifications_valid_at_delivery"] == "svlk CURRENT (MAL, 2027-03-01 to 2029-02-28)"
    assert (
        first["inspection_verdict"] == "accepted"
        and first["sampling_plans"] == "major AQL 1.0: code L, n=200, Ac 5 Re 6"
    )
    assert first["origin_plots_hectares"] == "11.75"
    features = json.loads(first["origin_plots_geojson"])["features"]
    assert [f["geometry"]["type"] for f in features] == ["Point", "Polygon"]
    assert features[0]["properties"] == {"name": "Kebun 3", "area_hectares": "1.5"}
    assert rows[1]["inspection_id"] == ""


def test_a_line_without_lots_still_has_its_row() -> None:
    text = provenance_csv(assemble(order(), supply(shares=[])))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(row["line_id"], row["lot_id"]) for row in rows] == [(str(BASKETS), ""), (str(TRAYS), "")]
