"""The marketplace `gotong demo` seeds: export hubs, what their MSMEs make, standards, buyers and names.

Pure data and generators over a seeded ``random.Random``, so one run's marketplace can be told again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shared.kernel.geography import find_city


@dataclass(frozen=True)
class Craft:
    """One kind of export product MSMEs make, the standard it is inspected against, and where it is made."""

    key: str
    title: str
    category: str
    hs_code: str
    unit: str
    products: tuple[str, ...]
    price_range: tuple[str, str]
    monthly_units: tuple[int, int]
    moq_range: tuple[int, int]
    lead_days: tuple[int, int]
    hubs: tuple[tuple[str, int], ...]  # (city, weight)
    certification: str | None
    standard: dict[str, Any]
    sku_prefix: str


def _standard(name: str, description: str, attributes: list[dict[str, Any]], checks: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "defect_classes": [
            {"defect_class": "critical", "aql": "0.65", "description": "unsafe or unsaleable"},
            {"defect_class": "major", "aql": "2.5", "description": "fails the buyer's specification"},
            {"defect_class": "minor", "aql": "4.0", "description": "cosmetic"},
        ],
        "attributes": attributes,
        "checks": [{"name": check, "kind": "visual", "defect_class": "major"} for check in checks],
        "inspection_level": "II",
        "publish": True,
    }


def _attribute(name: str, unit: str, nominal: str, tolerance: str, defect_class: str = "major") -> dict[str, Any]:
    return {
        "name": name,
        "unit": unit,
        "nominal": nominal,
        "lower_tolerance": tolerance,
        "upper_tolerance": tolerance,
        "defect_class": defect_class,
    }


RATTAN = Craft(
    key="rattan",
    title="rattan homeware",
    category="homeware",
    hs_code="460212",
    unit="PCE",
    products=("Round rattan basket 30 cm", "Rattan storage basket with lid", "Woven rattan laundry basket"),
    price_range=("3.40", "4.90"),
    monthly_units=(250, 900),
    moq_range=(50, 200),
    lead_days=(14, 28),
    hubs=(("Cirebon", 8), ("Samarinda", 2), ("Makassar", 2)),
    certification=None,
    standard=_standard(
        "Rattan homeware, export grade A",
        "Hand-woven rattan baskets: tight even weave, no mould, kiln-dried",
        [_attribute("diameter", "cm", "30", "1.0"), _attribute("moisture content", "%", "12", "3.0", "minor")],
        ["weave tightness", "mould and stains", "sharp cane ends"],
    ),
    sku_prefix="RTN",
)

CRAFTS: tuple[Craft, ...] = (
    RATTAN,
    Craft(
        key="bamboo",
        title="bamboo homeware",
        category="homeware",
        hs_code="460211",
        unit="PCE",
        products=("Bamboo serving tray", "Bamboo lamp shade", "Woven bamboo fruit bowl"),
        price_range=("2.10", "6.50"),
        monthly_units=(200, 800),
        moq_range=(50, 300),
        lead_days=(10, 30),
        hubs=(("Yogyakarta", 3), ("Tasikmalaya", 3), ("Bandung", 2), ("Gianyar", 2), ("Denpasar", 1)),
        certification=None,
        standard=_standard(
            "Bamboo homeware, export grade",
            "Treated bamboo, no splits, food-safe finish",
            [_attribute("length", "cm", "35", "1.0")],
            ["splits and cracks", "finish"],
        ),
        sku_prefix="BMB",
    ),
    Craft(
        key="batik",
        title="batik cloth",
        category="textile",
        hs_code="520852",
        unit="MTR",
        products=("Batik tulis cotton cloth", "Batik cap cotton cloth", "Batik sarong cloth"),
        price_range=("6.00", "24.00"),
        monthly_units=(300, 1500),
        moq_range=(50, 200),
        lead_days=(21, 45),
        hubs=(("Pekalongan", 4), ("Solo", 3), ("Yogyakarta", 2), ("Cirebon", 2), ("Semarang", 1)),
        certification="sni",
        standard=_standard(
            "Batik cloth, export grade",
            "Colour-fast hand-drawn or stamped batik on cotton",
            [_attribute("width", "cm", "115", "2.0")],
            ["colour fastness", "wax marks", "pattern registration"],
        ),
        sku_prefix="BTK",
    ),
    Craft(
        key="coffee",
        title="green coffee",
        category="coffee",
        hs_code="090111",
        unit="KGM",
        products=("Arabica green beans grade 1", "Robusta green beans grade 1", "Arabica peaberry green beans"),
        price_range=("5.20", "9.80"),
        monthly_units=(500, 3000),
        moq_range=(60, 300),
        lead_days=(14, 30),
        hubs=(("Medan", 3), ("Malang", 3), ("Makassar", 2), ("Bandung", 2), ("Denpasar", 1)),
        certification="organic",
        standard=_standard(
            "Green coffee, SNI 01-2907 grade 1",
            "Defect count, moisture and screen size of green beans",
            [_attribute("moisture", "%", "11.5", "1.0")],
            ["black and broken beans", "foreign matter"],
        ),
        sku_prefix="KOP",
    ),
    Craft(
        key="furniture",
        title="teak furniture",
        category="furniture",
        hs_code="940360",
        unit="PCE",
        products=("Teak dining chair", "Teak garden bench", "Mahogany side table"),
        price_range=("38.00", "160.00"),
        monthly_units=(20, 120),
        moq_range=(5, 20),
        lead_days=(30, 60),
        hubs=(("Jepara", 6), ("Semarang", 1), ("Solo", 1), ("Klaten", 1)),
        certification="svlk",
        standard=_standard(
            "Teak furniture, export grade",
            "Kiln-dried legal timber, stable joints, even finish",
            [_attribute("seat height", "cm", "45", "0.5")],
            ["joint stability", "finish", "wood moisture"],
        ),
        sku_prefix="JPR",
    ),
    Craft(
        key="snacks",
        title="processed food",
        category="food",
        hs_code="190590",
        unit="KGM",
        products=("Keripik tempe", "Amplang fish crackers", "Cassava chips with balado"),
        price_range=("3.00", "8.50"),
        monthly_units=(300, 2000),
        moq_range=(50, 200),
        lead_days=(7, 21),
        hubs=(("Malang", 3), ("Samarinda", 2), ("Semarang", 2), ("Makassar", 1), ("Medan", 1), ("Bandung", 1)),
        certification="halal",
        standard=_standard(
            "Packaged snacks, export grade",
            "Sealed packs, net weight, halal and BPOM labelling",
            [_attribute("net weight", "g", "250", "5")],
            ["seal integrity", "labelling"],
        ),
        sku_prefix="SNK",
    ),
)

RATTAN_GARDENS = (("Katingan", 113.40, -1.90), ("Kutai Barat", 115.70, -0.40), ("Luwu", 120.20, -2.90))
"""Where rattan cane is grown (name, longitude, latitude): the origin plots of the weavers' baskets."""

RATTAN_SHARE = 0.22
"""How many of the demo's MSMEs weave rattan: the bulk order draws on them."""


@dataclass(frozen=True)
class Buyer:
    org: str
    name: str
    country: str
    port: str
    contact: str
    email: str


BUYERS: tuple[Buyer, ...] = (
    Buyer("rotterdam-living", "Rotterdam Living B.V.", "NL", "NLRTM", "Jan de Vries", "jan@rotterdam-living.example"),
    Buyer("osaka-zakka", "Osaka Zakka Co.", "JP", "JPOSA", "Haruka Sato", "haruka@osaka-zakka.example"),
    Buyer("dubai-homes", "Dubai Homes Trading LLC", "AE", "AEJEA", "Omar Haddad", "omar@dubai-homes.example"),
    Buyer("la-craft-imports", "LA Craft Imports Inc.", "US", "USLAX", "Maria Lopez", "maria@la-craft.example"),
)

_FORMS = ("CV", "UD", "KUB", "Koperasi", "PT")
_FIRST = ("Rotan", "Anyaman", "Karya", "Sekar", "Sumber", "Tunas", "Mitra", "Citra", "Griya", "Lestari", "Sinar")
_SECOND = ("Jaya", "Makmur", "Abadi", "Sentosa", "Mandiri", "Sejahtera", "Indah", "Utama", "Berkah", "Asri")
_PEOPLE = ("Siti", "Budi", "Dewi", "Agus", "Wati", "Rudi", "Sri", "Joko", "Ayu", "Eko", "Rina", "Bambang", "Lestari")
_FAMILY = ("Rahayu", "Santoso", "Wibowo", "Pratama", "Hidayat", "Susanti", "Nugroho", "Kusuma", "Saputra")


@dataclass(frozen=True)
class Producer:
    """One MSME the demo registers, with the product it lists and the capacity it declares."""

    org: str
    name: str
    nib: str
    city: str
    province: str
    contact: str
    phone: str
    size_class: str
    craft: Craft
    product: str
    sku: str
    price: Decimal
    moq: int
    monthly_units: int
    lead_time_days: int
    plot: tuple[str, float, float] | None = None


def _weighted_hub(craft: Craft, rng: random.Random) -> tuple[str, str]:
    """A hub of the craft, as (city, province); busier hubs more often."""
    city = rng.choices([city for city, _ in craft.hubs], weights=[weight for _, weight in craft.hubs])[0]
    found = find_city(city)
    assert found is not None, f"{city} is not in Gotong's gazetteer"
    return city, found.province


def producer(run: str, index: int, craft: Craft, rng: random.Random) -> Producer:
    city, province = _weighted_hub(craft, rng)
    low, high = Decimal(craft.price_range[0]), Decimal(craft.price_range[1])
    price = (low + (high - low) * Decimal(rng.randint(0, 100)) / 100).quantize(Decimal("0.01"))
    person = f"{rng.choice(_PEOPLE)} {rng.choice(_FAMILY)}"
    return Producer(
        org=f"msme-{run}-{index:04d}",
        name=f"{rng.choice(_FORMS)} {rng.choice(_FIRST)} {rng.choice(_SECOND)} {city}",
        nib="".join(str(rng.randint(0, 9)) for _ in range(13)),
        city=city,
        province=province,
        contact=person,
        phone=f"+62 8{rng.randint(11, 59)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
        size_class=rng.choices(("micro", "small", "medium"), weights=(5, 4, 1))[0],
        craft=craft,
        product=rng.choice(craft.products) if craft is not RATTAN else craft.products[0],
        sku=f"{craft.sku_prefix}-{index:04d}",
        price=price,
        moq=rng.randint(*craft.moq_range),
        monthly_units=rng.randint(*craft.monthly_units) // 10 * 10,
        lead_time_days=rng.randint(*craft.lead_days),
        plot=_garden(rng) if craft is RATTAN else None,
    )


def _garden(rng: random.Random) -> tuple[str, float, float]:
    name, longitude, latitude = rng.choice(RATTAN_GARDENS)
    jitter = rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05)
    return f"{name} rattan garden {rng.randint(1, 60)}", round(longitude + jitter[0], 5), round(latitude + jitter[1], 5)


def producers(run: str, count: int, rng: random.Random) -> list[Producer]:
    """``count`` MSMEs: a share of them rattan weavers (at least eight), the rest spread over the other crafts."""
    weavers = max(8, round(count * RATTAN_SHARE))
    others = CRAFTS[1:]
    crafts = [RATTAN] * weavers + [others[i % len(others)] for i in range(max(count - weavers, 0))]
    return [producer(run, index, craft, rng) for index, craft in enumerate(crafts, start=1)]


def months_ahead(this_month: str, count: int) -> list[str]:
    """The ``count`` calendar months after ``this_month`` (YYYY-MM)."""
    year, month = int(this_month[:4]), int(this_month[5:7])
    months = []
    for _ in range(count):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        months.append(f"{year:04d}-{month:02d}")
    return months
