"""An order's provenance as CSV a buyer can hand to an auditor (e.g. for EU deforestation regulation due
diligence): one row per order line and lot delivered for it, a line with no lots yet on a row of its own. Pure.

Origin plots are given as a GeoJSON FeatureCollection (WGS 84, each feature with its name and area in
hectares), the form the EU information system takes geolocation in. Cells that a spreadsheet would read as a
formula are prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

import msgspec

from events.catalog import OriginPlot
from services.orders.domain.timeline import sampling_plans
from services.orders.read.provenance import total_area
from services.orders.read.provenance_views import InspectionRecord, LineOrigin, LotOrigin, OrderProvenance

COLUMNS = (
    "order_id",
    "buyer_org",
    "aggregator_org",
    "line_id",
    "line_description",
    "hs_code",
    "line_quantity",
    "unit",
    "standard_id",
    "standard_version",
    "consignment_id",
    "shipped_at",
    "lot_id",
    "lot_code",
    "lot_status",
    "lot_quantity_for_line",
    "delivered_on",
    "msme_id",
    "msme_name",
    "msme_nib",
    "msme_province",
    "msme_city",
    "certifications_valid_at_delivery",
    "product_id",
    "product_sku",
    "product_name",
    "eudr_commodity",
    "inspection_id",
    "inspection_verdict",
    "inspected_at",
    "inspection_severity",
    "inspector_org",
    "inspection_counted",
    "sampling_plans",
    "origin_plots_hectares",
    "origin_plots_geojson",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def plots_geojson(plots: Sequence[OriginPlot]) -> str:
    """The plots as a compact GeoJSON FeatureCollection (empty when the product has none)."""
    if not plots:
        return ""
    features = [
        {
            "type": "Feature",
            "geometry": msgspec.to_builtins(plot.geometry),
            "properties": {"name": plot.name, "area_hectares": str(plot.area_hectares)},
        }
        for plot in plots
    ]
    return msgspec.json.encode({"type": "FeatureCollection", "features": features}).decode()


def _deciding(lot: LotOrigin) -> InspectionRecord | None:
    """The verdict the pool acted on, else the latest."""
    counted = [i for i in lot.inspections if i.counted]
    chosen = counted or lot.inspections
    return chosen[-1] if chosen else None


def _row(order: OrderProvenance, line: LineOrigin, lot: LotOrigin | None) -> list[object]:
    consignment = next((c for c in line.consignments if lot and c.consignment_id == lot.consignment_id), None)
    inspection = _deciding(lot) if lot else None
    msme = lot.msme if lot else None
    product = lot.product if lot else None
    plots = product.origin_plots if product else []
    certificates = "; ".join(
        f"{c.kind} {c.number} ({c.issuer}, {c.valid_from.isoformat()} to {c.valid_until.isoformat()})"
        for c in (msme.certifications if msme else [])
    )
    return [
        order.order_id,
        order.buyer_org,
        order.aggregator_org,
        line.line_id,
        line.description,
        line.hs_code,
        line.quantity,
        line.unit,
        line.standard_id,
        line.standard_version,
        consignment.consignment_id if consignment else None,
        consignment.shipped_at.isoformat() if consignment else None,
        lot.lot_id if lot else None,
        lot.lot_code if lot else None,
        lot.status if lot else None,
        lot.quantity if lot else None,
        lot.delivered_on.isoformat() if lot else None,
        msme.msme_id if msme else None,
        msme.name if msme else None,
        msme.nib if msme else None,
        msme.province if msme else None,
        msme.city if msme else None,
        certificates,
        product.product_id if product else None,
        product.sku if product else None,
        product.name if product else None,
        product.eudr_commodity if product else None,
        inspection.inspection_id if inspection else None,
        inspection.verdict if inspection else None,
        inspection.inspected_at.isoformat() if inspection else None,
        inspection.severity if inspection else None,
        inspection.inspector_org if inspection else None,
        inspection.counted if inspection else None,
        sampling_plans(inspection.plans) if inspection else None,
        total_area(plots) if plots else None,
        plots_geojson(plots),
    ]


def provenance_rows(order: OrderProvenance) -> Iterator[list[str]]:
    yield list(COLUMNS)
    for line in order.lines:
        lots: list[LotOrigin | None] = [*line.lots] if line.lots else [None]
        for lot in lots:
            yield [_cell(value) for value in _row(order, line, lot)]


def provenance_csv(order: OrderProvenance) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(provenance_rows(order))
    return buffer.getvalue()
