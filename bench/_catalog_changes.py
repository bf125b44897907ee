"""What the bulk's MSMEs change after the import, for bench/rebuild.py's history with many updates: each product
described again (new prices, every second time a new HS code and category too), a certificate scoped by HS
prefix, and a profile update, appended to the streams ``bulk_msme`` began."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
from _load_market import BULK_METADATA, GOODS

from events.catalog import CertificationAdded, CertificationScope, MsmeRegistered, MsmeUpdated, ProductUpdated
from events.common import Money, PriceTier
from shared.eventstore import StreamAppend
from shared.kernel.ids import new_id


def changes(bulk: list[StreamAppend], updates: int, at: datetime) -> list[StreamAppend]:
    """``updates`` new descriptions of each of the MSME's products (``bulk`` is its ``bulk_msme``), then a
    certificate and a new profile."""
    _, msme_append, *product_appends = bulk
    registered = msme_append.events[0]
    assert isinstance(registered, MsmeRegistered)
    appends = []
    for serial, append in enumerate(product_appends):
        fields: dict[str, Any] = msgspec.structs.asdict(append.events[0])
        described: list[ProductUpdated] = []
        for number in range(1, updates + 1):
            price = Money(amount=Decimal(100 + serial + number) / 10, currency="USD")
            fields |= {"price_tiers": [PriceTier(min_quantity=1, unit_price=price)], "at": at}
            changed = ["price_tiers"]
            if number % 2 == 0:
                category, hs_code, _ = GOODS[(serial + number) % len(GOODS)]
                changed += ["hs_code", "category"]
                fields |= {"hs_code": hs_code, "category": category}
            described.append(ProductUpdated(**fields, changed=changed))
        appends.append(StreamAppend(append.stream_id, "product", len(append.events), described, BULK_METADATA))
    start = date(2026, 1, 1)
    certified = CertificationAdded(
        certification_id=new_id(), msme_id=registered.msme_id, kind="halal", name="halal", number=f"ID{new_id().hex}",
        issuer="BPJPH", valid_from=start, valid_until=start + timedelta(days=730),
        scope=CertificationScope(hs_prefixes=["09", "20"]), at=at,
    )  # fmt: skip
    profile = MsmeUpdated(
        msme_id=registered.msme_id, org=registered.org, name=f"{registered.name} Jaya", nib=registered.nib,
        province=registered.province, city=registered.city, contact=registered.contact, size_class="medium",
        status="active", changed=["name", "size_class"], at=at,
    )  # fmt: skip
    version = len(msme_append.events)
    return [*appends, StreamAppend(msme_append.stream_id, "msme", version, [certified, profile], BULK_METADATA)]
