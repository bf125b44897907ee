"""The data of an EU deforestation regulation due diligence statement for a shipped pool. Pure.

Regulation (EU) 2023/1115 as amended by (EU) 2025/2650, Annex II: activity, HS heading and description, net
mass in kg (and the supplementary unit the heading needs), scientific and common names for wood, country of
production, and the producers' geolocation as one GeoJSON FeatureCollection (RFC 7946) with one Feature per plot,
whose properties follow the EU Information System's names (``ProducerName``, ``ProducerCountry``,
``ProductionPlace``, ``Area`` in ha). A statement that breaks a limit is refused (409), never cut short.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import msgspec

from events.catalog import PlotRegistered, PointGeometry
from shared.kernel.errors import Conflict
from shared.kernel.eudr import AnnexI

ACTIVITY = "export"
KG = Decimal("0.001")


@dataclass(frozen=True)
class ShippedGoods:
    """A lot that left in one of the pool's consignments."""

    lot_code: str
    msme_id: UUID
    product_id: UUID
    quantity: int
    plot_ids: tuple[UUID, ...]


@dataclass(frozen=True)
class ProductFacts:
    product_id: UUID
    sku: str
    name: str
    unit: str
    net_mass_kg: Decimal | None


class SupplementaryQuantity(msgspec.Struct, frozen=True, kw_only=True):
    unit: str
    quantity: int


class Species(msgspec.Struct, frozen=True, kw_only=True):
    scientific_name: str
    common_name: str


class PlotWarning(msgspec.Struct, frozen=True, kw_only=True):
    plot_id: UUID
    producer: str
    message: str


class Statement(msgspec.Struct, frozen=True, kw_only=True):
    """What a due diligence statement for the pool's shipped goods says; ``geolocation`` is the file to upload."""

    covered: Literal[True] = True
    regulation: str
    activity: str
    operator_org: str
    commodity: str
    hs_code: str
    hs_heading: str
    description: str
    net_mass_kg: Decimal
    supplementary: SupplementaryQuantity | None
    species: list[Species]
    countries_of_production: list[str]
    producers: int
    plots: int
    geolocation: dict[str, Any]
    geolocation_bytes: int
    warnings: list[PlotWarning]


class NotCovered(msgspec.Struct, frozen=True, kw_only=True):
    """The pool's goods are outside Annex I: no statement is needed."""

    covered: Literal[False] = False
    regulation: str
    hs_code: str
    reason: str


def not_covered(annex: AnnexI, hs_code: str) -> NotCovered:
    reason = f"HS {hs_code[:4]} is not listed in Annex I: no due diligence statement is needed for these goods"
    return NotCovered(regulation=annex.regulation, hs_code=hs_code, reason=reason)


def _feature(plot: PlotRegistered, producer: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "ProducerName": producer,
        "ProducerCountry": plot.country,
        "ProductionPlace": plot.name,
        "Area": float(plot.area_hectares),
        "PlotId": str(plot.plot_id),
    }
    geometry = msgspec.to_builtins(plot.geometry)
    if isinstance(plot.geometry, PointGeometry):
        geometry["coordinates"] = list(plot.geometry.coordinates)
    else:
        geometry["coordinates"] = [[list(position) for position in ring] for ring in plot.geometry.coordinates]
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _net_mass(goods: Sequence[ShippedGoods], products: Mapping[UUID, ProductFacts]) -> Decimal:
    missing = sorted({p.sku for g in goods if (p := products[g.product_id]).net_mass_kg is None})
    if missing:
        raise Conflict(
            f"products {', '.join(missing)} have no net mass per unit; set net_mass_kg on them in the catalog",
            problem="net-mass-missing",
            products=missing,
        )
    return sum((products[g.product_id].net_mass_kg or Decimal(0)) * g.quantity for g in goods) or Decimal(0)


def _supplementary(
    annex: AnnexI, unit: str | None, goods: Sequence[ShippedGoods], products: Mapping[UUID, ProductFacts]
) -> SupplementaryQuantity | None:
    if unit is None:
        return None
    accepted = annex.supplementary_units.get(unit, ())
    wrong = sorted({p.sku for g in goods if (p := products[g.product_id]).unit not in accepted})
    if wrong:
        raise Conflict(
            f"the HS heading needs a quantity in {unit}; products {', '.join(wrong)} are counted in other units",
            problem="supplementary-unit",
            products=wrong,
            supplementary_unit=unit,
        )
    return SupplementaryQuantity(unit=unit, quantity=sum(g.quantity for g in goods))


def statement(
    annex: AnnexI,
    *,
    hs_code: str,
    operator_org: str,
    goods: Sequence[ShippedGoods],
    products: Mapping[UUID, ProductFacts],
    plots: Mapping[UUID, PlotRegistered],
    producers: Mapping[UUID, str],
) -> Statement | NotCovered:
    """The statement for ``goods`` (every shipped lot of the pool), or a 409 naming what keeps it from being made."""
    heading = annex.heading_of(hs_code)
    if heading is None:
        return not_covered(annex, hs_code)
    if not goods:
        raise Conflict("the pool has shipped nothing yet", problem="not-shipped")
    unlocated = sorted(g.lot_code for g in goods if not g.plot_ids)
    if unlocated:
        raise Conflict(
            f"lots {', '.join(unlocated)} name no plot: register the MSMEs' plots and record the lots with them",
            problem="geolocation-missing",
            lots=unlocated,
        )
    net_mass = _net_mass(goods, products).quantize(KG)
    supplementary = _supplementary(annex, heading.supplementary_unit, goods, products)
    plot_ids = sorted({p for g in goods for p in g.plot_ids})
    located = [plots[p] for p in plot_ids if p in plots]
    producer_ids = sorted({plot.msme_id for plot in located})
    limit = annex.limits.producers_per_commodity
    if len(producer_ids) > limit:
        raise Conflict(
            f"{len(producer_ids)} producers exceed the {limit} per commodity one statement may hold "
            f"({annex.limits.producers_per_commodity_source}); ship the pool in smaller consignments",
            problem="producer-limit",
            producers=len(producer_ids),
            limit=limit,
        )
    names = {m: producers.get(m, str(m)) for m in producer_ids}
    features = [_feature(plot, names[plot.msme_id]) for plot in located]
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    size = len(msgspec.json.encode(collection))
    if size > annex.limits.geojson_bytes:
        raise Conflict(
            f"the geolocation file would be {size} bytes, over the {annex.limits.geojson_bytes} the EU Information "
            "System accepts; ship the pool in smaller consignments or simplify the plots' polygons",
            problem="geolocation-too-large",
            bytes=size,
            limit=annex.limits.geojson_bytes,
        )
    species = sorted({(s.scientific_name, s.common_name) for plot in located for s in plot.species})
    if heading.commodity == "wood" and not species:
        raise Conflict(
            "a statement for wood names the trees' scientific and common names; register the plots with species",
            problem="species-missing",
        )
    warnings = [
        PlotWarning(
            plot_id=plot.plot_id,
            producer=names[plot.msme_id],
            message=f"plot {plot.name} has no evidence of being deforestation-free since {annex.cut_off.isoformat()}",
        )
        for plot in located
        if plot.evidence is None
    ]
    return Statement(
        regulation=annex.regulation,
        activity=ACTIVITY,
        operator_org=operator_org,
        commodity=annex.commodities[heading.commodity],
        hs_code=hs_code,
        hs_heading=heading.prefix,
        description=heading.description,
        net_mass_kg=net_mass,
        supplementary=supplementary,
        species=[Species(scientific_name=s, common_name=c) for s, c in species],
        countries_of_production=sorted({plot.country for plot in located}),
        producers=len(producer_ids),
        plots=len(located),
        geolocation=collection,
        geolocation_bytes=size,
        warnings=warnings,
    )
