"""The fields of an export declaration (PEB) as Gotong answers them: CEISA 4.0's header, parties, ports,
transport, values, packages and goods lines, and the gaps the exporter completes before filing. The README's
table says where each comes from."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from uuid import UUID

import msgspec

from events.pooling import Packages


class Gap(msgspec.Struct, frozen=True, kw_only=True):
    """A field the exporter completes before filing, and why Gotong could not."""

    field: str
    reason: str


class DeclaredExporter(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    nib: str | None
    npwp: str | None
    address: str | None
    country: str = "ID"  # aggregators export from Indonesia


class DeclaredParty(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    country: str


class Port(msgspec.Struct, frozen=True, kw_only=True):
    locode: str
    name: str | None


class RegionalOrigin(msgspec.Struct, frozen=True, kw_only=True):
    """The province the goods were made in, with its BPS code (CEISA's ``daerah asal barang``)."""

    province: str
    code: str | None


class DeclaredGoods(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    line_id: UUID
    hs_code: str
    description: str
    quantity: int
    unit: str
    net_mass_kg: Decimal | None
    invoice_value: Decimal
    fob_value: Decimal | None
    country_of_origin: str
    regional_origin: RegionalOrigin
    lots: list[str]


class ExportDeclaration(msgspec.Struct, frozen=True, kw_only=True):
    order_id: UUID
    invoice_number: str
    exporter: DeclaredExporter
    consignee: DeclaredParty
    buyer: DeclaredParty
    destination_country: str
    port_of_loading: Port | None
    port_of_destination: Port | None
    transport_mode: str | None
    transport_mode_code: str | None
    incoterm: str
    currency: str
    invoice_value: Decimal
    fob_value: Decimal | None
    freight: Decimal | None
    insurance: Decimal | None
    packages: list[Packages] | None
    goods: list[DeclaredGoods]
    total_quantity: int
    total_net_mass_kg: Decimal | None
    complete: bool
    gaps: list[Gap]


class ExportDeclarations(msgspec.Struct, frozen=True, kw_only=True):
    """PEB data per order the pool shipped for."""

    kind: Literal["peb"] = "peb"
    pool_id: UUID
    declarations: list[ExportDeclaration]
