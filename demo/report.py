"""What the demo tells at the end (the order's history and the provenance of what shipped), and the other
buyers' orders that keep the aggregator's book realistic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from demo.client import Json, Marketplace
from demo.data import CRAFTS
from demo.seed import Cast

Say = Callable[[str], None]

# (buyer, craft, quantity, incoterm, target price, quoted price)
OTHER_ORDERS = (
    ("osaka-zakka", "bamboo", 6_000, "CIF", "3.80", "3.95"),
    ("dubai-homes", "furniture", 400, "CFR", "92.00", "96.50"),
    ("la-craft-imports", "batik", 3_000, "FOB", "11.50", "12.20"),
)


async def other_orders(market: Marketplace, cast: Cast, today: date, say: Say) -> None:
    """Osaka, Dubai and Los Angeles ask for quotes too; the aggregator quotes them."""
    ports = {"osaka-zakka": ("JP", "JPOSA"), "dubai-homes": ("AE", "AEJEA"), "la-craft-imports": ("US", "USLAX")}
    crafts = {craft.key: craft for craft in CRAFTS}
    for org, key, quantity, incoterm, target, quoted in OTHER_ORDERS:
        craft = crafts[key]
        country, port = ports[org]
        body: dict[str, Any] = {
            "lines": [
                {
                    "hs_code": craft.hs_code,
                    "category": craft.category,
                    "description": craft.products[0],
                    "standard_id": str(cast.standards[key]),
                    "standard_version": 1,
                    "quantity": quantity,
                    "unit": craft.unit,
                    "target_unit_price": {"amount": target, "currency": "USD"},
                }
            ],
            "incoterm": incoterm,
            "destination_country": country,
            "destination_port": port,
            "required_by": (today + timedelta(days=150)).isoformat(),
        }
        order = await market.post("/v1/orders", cast.buyers[org], body)
        quote = {
            "lines": [{"line_id": order["lines"][0]["line_id"], "unit_price": {"amount": quoted, "currency": "USD"}}],
            "lead_time_days": 100,
            "valid_until": (datetime.now(UTC) + timedelta(days=10)).isoformat(),
        }
        await market.post(f"/v1/orders/{order['id']}/quote", cast.aggregator, quote)
        say(f"{org} asks for {quantity:,} {craft.unit} of {craft.title} ({incoterm} {port}); quoted USD {quoted}")


async def print_provenance(market: Marketplace, cast: Cast, order_id: str, say: Say) -> None:
    """The order's history, then per line the consignment and every lot: who made it where, with which
    certificates, from which plots, and what inspection found."""
    buyer = cast.buyers["rotterdam-living"]
    history = await market.get(f"/v1/orders/{order_id}/history", buyer)
    others: dict[str, int] = {}
    for item in history["items"]:
        if item["event"].startswith("Order"):
            say(f"{item['at'][:16].replace('T', ' ')}  {item['summary']}")
        else:
            others[item["event"]] = others.get(item["event"], 0) + 1
    told = ", ".join(f"{count} {event}" for event, count in sorted(others.items()))
    say(f"(and {sum(others.values())} events of pooling and quality in the same history: {told})")
    provenance = await market.get(f"/v1/orders/{order_id}/provenance", buyer)
    for line in provenance["lines"]:
        say(f"line: {line['description']}: {line['shipped']:,} of {line['quantity']:,} {line['unit']} shipped")
        for consignment in line["consignments"]:
            say(f"  consignment {consignment['consignment_id']}, {consignment['quantity']:,} {line['unit']}")
        for lot in line["lots"]:
            say(f"  lot {lot['lot_code']}: {lot['quantity']:,} {lot['unit']}, {lot['status']}")
            for detail in _lot_details(lot):
                say(f"      {detail}")


def _lot_details(lot: Json) -> list[str]:
    details: list[str] = []
    msme = lot["msme"]
    if msme:
        details.append(f"made by {msme['name']}, {msme['city']} ({msme['province']}), NIB {msme['nib']}")
        certificates = ", ".join(f"{c['kind'].upper()} {c['number']}" for c in msme["certifications"])
        if certificates:
            details.append(f"certified {certificates}")
    product = lot["product"]
    if product:
        plots = "; ".join(_plot(plot) for plot in product["origin_plots"])
        details.append(f"{product['sku']} {product['name']}" + (f", cane from {plots}" if plots else ""))
    for inspection in lot["inspections"]:
        classes = ", ".join(
            f"{v['defect_class']} {v['defects']}/{v['sample_size']} (Ac {v['accept']})" for v in inspection["verdicts"]
        )
        details.append(f"{inspection['verdict'].upper()} by {inspection['inspector_org']}: {classes}")
    return details


def _plot(plot: Json) -> str:
    longitude, latitude = plot["geometry"]["coordinates"]
    return f"{plot.get('name') or 'a plot'} ({latitude:.3f}, {longitude:.3f}), {plot['area_hectares']} ha"
