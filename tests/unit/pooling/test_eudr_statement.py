"""The EUDR statement refuses what would break the regulation's limits or lacks what it must say."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import msgspec
import pytest

from events.catalog import DeforestationFreeEvidence, PlotRegistered, PointGeometry, PolygonGeometry, TreeSpecies
from services.pooling.domain.eudr_statement import NotCovered, ProductFacts, ShippedGoods, Statement, statement
from services.pooling.domain.trade_documents import origin_criterion, origin_form
from shared.kernel.errors import Conflict
from shared.kernel.eudr import annex_i

pytestmark = pytest.mark.unit

NOW = datetime(2027, 4, 1, tzinfo=UTC)
CHAIR = UUID("01890000-0000-7000-8000-0000000000c1")


def msme(n: int) -> UUID:
    return UUID(f"01890000-0000-7000-8000-{n:012d}")


def plot_of(n: int, *, wood: bool = False, evidence: bool = True) -> PlotRegistered:
    ring = [(110.0 + n * 0.01, -6.5), (110.005 + n * 0.01, -6.5), (110.005 + n * 0.01, -6.495),
            (110.0 + n * 0.01, -6.495), (110.0 + n * 0.01, -6.5)]  # fmt: skip
    return PlotRegistered(
        plot_id=UUID(f"01890000-0000-7000-9000-{n:012d}"), msme_id=msme(n), org=f"org-{n}", name=f"Plot {n}",
        geometry=PolygonGeometry(coordinates=[ring]), area_hectares=Decimal("30.6"), area_source="geodesic",
        country="ID", region="Jawa Tengah", commodity="wood" if wood else "coffee",
        evidence=DeforestationFreeEvidence(document_reference="doc", as_of=date(2024, 1, 1)) if evidence else None,
        species=[TreeSpecies(scientific_name="Tectona grandis", common_name="teak")] if wood else [],
        registered_by=f"org-{n}", at=NOW,
    )  # fmt: skip


def chairs(n: int, unit: str = "PCE", mass: str | None = "7.5") -> tuple[list[ShippedGoods], dict[UUID, ProductFacts]]:
    goods = [ShippedGoods(f"LOT-{i}", msme(i), CHAIR, 10, (plot_of(i).plot_id,)) for i in range(n)]
    products = {CHAIR: ProductFacts(CHAIR, "TGC-45", "Teak chair", unit, Decimal(mass) if mass else None)}
    return goods, products


def make(n: int, **changes: object) -> Statement | NotCovered:
    goods, products = chairs(n)
    values: dict[str, object] = {
        "hs_code": "940360", "operator_org": "semarang-trading", "goods": goods, "products": products,
        "plots": {plot_of(i, wood=True).plot_id: plot_of(i, wood=True) for i in range(n)},
        "producers": {msme(i): f"Workshop {i}" for i in range(n)},
    }  # fmt: skip
    values.update(changes)
    return statement(annex_i(), **values)  # type: ignore[arg-type]


def test_wooden_furniture_counts_pieces_as_its_supplementary_unit_and_names_the_species() -> None:
    made = make(3)
    assert isinstance(made, Statement)
    assert made.net_mass_kg == Decimal("225.000") and made.supplementary is not None
    assert (made.supplementary.unit, made.supplementary.quantity) == ("p/st", 30)
    assert [s.scientific_name for s in made.species] == ["Tectona grandis"] and made.warnings == []


def test_a_product_without_a_unit_mass_is_named() -> None:
    goods, products = chairs(2, mass=None)
    with pytest.raises(Conflict) as refused:
        make(2, goods=goods, products=products)
    assert refused.value.problem == "net-mass-missing" and refused.value.extensions["products"] == ["TGC-45"]


def test_pieces_are_needed_where_the_heading_counts_pieces() -> None:
    goods, products = chairs(1, unit="KGM")
    with pytest.raises(Conflict) as refused:
        make(1, goods=goods, products=products)
    assert refused.value.problem == "supplementary-unit"


def test_more_producers_than_the_information_system_takes_are_refused() -> None:
    small = dataclasses.replace(annex_i(), limits=dataclasses.replace(annex_i().limits, producers_per_commodity=2))
    goods, products = chairs(3)
    plots = {plot_of(i, wood=True).plot_id: plot_of(i, wood=True) for i in range(3)}
    with pytest.raises(Conflict) as refused:
        statement(small, hs_code="940360", operator_org="x", goods=goods, products=products, plots=plots, producers={})
    assert refused.value.problem == "producer-limit" and refused.value.extensions["limit"] == 2


def test_a_geolocation_file_over_the_size_limit_is_refused() -> None:
    tiny = dataclasses.replace(annex_i(), limits=dataclasses.replace(annex_i().limits, geojson_bytes=1_000))
    goods, products = chairs(3)
    plots = {plot_of(i, wood=True).plot_id: plot_of(i, wood=True) for i in range(3)}
    with pytest.raises(Conflict) as refused:
        statement(tiny, hs_code="940360", operator_org="x", goods=goods, products=products, plots=plots, producers={})
    assert refused.value.problem == "geolocation-too-large"
    assert annex_i().limits.geojson_bytes == 25_000_000


def test_lots_without_plots_and_wood_without_species_are_refused() -> None:
    goods, _ = chairs(2)
    unlocated = [dataclasses.replace(goods[0], plot_ids=()), goods[1]]
    with pytest.raises(Conflict) as refused:
        make(2, goods=unlocated)
    assert refused.value.problem == "geolocation-missing" and refused.value.extensions["lots"] == ["LOT-0"]
    with pytest.raises(Conflict) as bare:
        make(2, plots={plot_of(i).plot_id: plot_of(i) for i in range(2)})
    assert bare.value.problem == "species-missing"


def test_plots_without_evidence_are_warnings_and_points_keep_their_coordinates() -> None:
    point = msgspec.structs.replace(
        plot_of(0, wood=True, evidence=False), geometry=PointGeometry(coordinates=(110.5, -6.6)),
        area_hectares=Decimal("1.2"), area_source="declared",
    )  # fmt: skip
    made = make(1, plots={point.plot_id: point})
    assert isinstance(made, Statement) and [w.plot_id for w in made.warnings] == [point.plot_id]
    assert made.geolocation["features"][0]["geometry"] == {"type": "Point", "coordinates": [110.5, -6.6]}


@pytest.mark.parametrize(
    "hs_code, covered",
    [("460219", False), ("090111", True), ("180632", True), ("400121", True), ("151110", True), ("940360", True)],
)
def test_annex_i_decides_what_is_covered(hs_code: str, covered: bool) -> None:
    made = make(1, hs_code=hs_code)
    assert made.covered is covered


@pytest.mark.parametrize(
    "country, form",
    [("MY", "Form D"), ("VN", "Form D"), ("CN", "Form E"), ("IN", "Form AI"), ("AU", "IA-CEPA"), ("NL", "general")],
)
def test_the_certificate_of_origin_form_follows_the_destination(country: str, form: str) -> None:
    assert origin_form(country) == form
    assert (origin_criterion("090111"), origin_criterion("940360")) == ("WO", "CTH")
