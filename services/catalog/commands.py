"""Who may change what, and the streams each catalog command touches (run inside ``run_command``).

Owners are the users of the MSME's owning organisation (roles ``msme`` and ``aggregator``); admins may do
everything; aggregators may also suspend and reinstate any MSME. Profiles are public, so a stranger's edit
is refused with 403 rather than hidden behind 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.catalog.domain.msme import (
    MSME,
    AddCertification,
    ClaimSku,
    Msme,
    RegisterMsme,
    ReleaseSku,
    UpdateMsme,
    msme_stream,
)
from services.catalog.domain.nib import NIB_REGISTRY, ClaimNib, nib_stream
from services.catalog.domain.product import (
    PRODUCT,
    DeclareCapacity,
    ListProduct,
    Product,
    ProductSpec,
    UpdateProduct,
    product_stream,
)
from services.catalog.domain.rules import sku_key
from shared.api import check_version
from shared.auth import Principal, Role
from shared.decider import UnitOfWork
from shared.errors import Conflict, Forbidden, NotFound

OWNER_ROLES = (Role.MSME, Role.AGGREGATOR)
PROFILE_FIELDS = ("name", "province", "city", "contact", "size_class")


def is_owner(principal: Principal, org: str) -> bool:
    return principal.is_admin or (principal.role in OWNER_ROLES and principal.org == org)


def require_owner(principal: Principal, org: str, what: str) -> None:
    if not is_owner(principal, org):
        raise Forbidden(f"only users of the owning organisation (or an admin) may change this {what}")


@dataclass(frozen=True)
class MsmeOutcome:
    msme: Msme
    version: int


@dataclass(frozen=True)
class ProductOutcome:
    product: Product
    msme: Msme
    version: int


async def _registered(unit: UnitOfWork, msme_id: UUID) -> Msme:
    state = await unit.load(MSME, msme_stream(msme_id))
    if not state.registered:
        raise NotFound(f"no MSME {msme_id}")
    return state


async def _listed(unit: UnitOfWork, product_id: UUID) -> Product:
    state = await unit.load(PRODUCT, product_stream(product_id))
    if state.spec is None:
        raise NotFound(f"no product {product_id}")
    return state


async def register_msme(unit: UnitOfWork, command: RegisterMsme) -> MsmeOutcome:
    """Register the MSME and claim its NIB in one transaction, so no two MSMEs share a business number."""
    state, events = await unit.execute(MSME, msme_stream(command.msme_id), command)
    claim = ClaimNib(nib=command.nib, msme_id=command.msme_id, at=command.at)
    await unit.execute(NIB_REGISTRY, nib_stream(command.nib), claim)
    return MsmeOutcome(state, len(events))


async def update_msme(
    unit: UnitOfWork, principal: Principal, msme_id: UUID, command: UpdateMsme, expected: int | None
) -> MsmeOutcome:
    stream = msme_stream(msme_id)
    state = await _registered(unit, msme_id)
    changes = command.changes
    if changes.status is not None:
        principal.require(Role.AGGREGATOR)
    if any(getattr(changes, name) is not None for name in PROFILE_FIELDS):
        require_owner(principal, state.org, "MSME's profile")
    check_version(expected, await unit.version(stream))
    state, events = await unit.execute(MSME, stream, command)
    return MsmeOutcome(state, await unit.version(stream) + len(events))


async def add_certification(
    unit: UnitOfWork, principal: Principal, msme_id: UUID, command: AddCertification
) -> MsmeOutcome:
    stream = msme_stream(msme_id)
    state = await _registered(unit, msme_id)
    require_owner(principal, state.org, "MSME's certifications")
    state, events = await unit.execute(MSME, stream, command)
    return MsmeOutcome(state, await unit.version(stream) + len(events))


async def list_product(
    unit: UnitOfWork, principal: Principal, msme_id: UUID, product_id: UUID, spec: ProductSpec, at: datetime
) -> ProductOutcome:
    """List the product and claim its SKU on the MSME's stream, in one transaction (SKUs are unique per MSME)."""
    msme = await _registered(unit, msme_id)
    require_owner(principal, msme.org, "MSME's products")
    command = ListProduct(product_id=product_id, msme_id=msme_id, org=msme.org, spec=spec, at=at)
    product, events = await unit.execute(PRODUCT, product_stream(product_id), command)
    assert product.spec is not None
    claim = ClaimSku(product_id=product_id, sku=product.spec.sku, at=at)
    msme, _ = await unit.execute(MSME, msme_stream(msme_id), claim)
    return ProductOutcome(product, msme, len(events))


async def update_product(
    unit: UnitOfWork, principal: Principal, product_id: UUID, command: UpdateProduct, expected: int | None
) -> ProductOutcome:
    stream = product_stream(product_id)
    before = await _listed(unit, product_id)
    require_owner(principal, before.org, "product")
    check_version(expected, await unit.version(stream))
    assert before.spec is not None and before.msme_id is not None
    after, events = await unit.execute(PRODUCT, stream, command)
    at = command.at
    assert after.spec is not None
    msme = await unit.load(MSME, msme_stream(before.msme_id))
    if sku_key(after.spec.sku) != sku_key(before.spec.sku):
        owner = msme_stream(before.msme_id)
        await unit.execute(MSME, owner, ClaimSku(product_id=product_id, sku=after.spec.sku, at=at))
        msme, _ = await unit.execute(MSME, owner, ReleaseSku(product_id=product_id, sku=before.spec.sku, at=at))
    return ProductOutcome(after, msme, await unit.version(stream) + len(events))


async def declare_capacity(
    unit: UnitOfWork, principal: Principal, product_id: UUID, command: DeclareCapacity, expected: int | None
) -> ProductOutcome:
    stream = product_stream(product_id)
    product = await _listed(unit, product_id)
    require_owner(principal, product.org, "product's capacity")
    check_version(expected, await unit.version(stream))
    assert product.msme_id is not None
    msme = await unit.load(MSME, msme_stream(product.msme_id))
    if msme.status == "suspended":
        raise Conflict("a suspended MSME cannot declare capacity", problem="msme-suspended")
    product, events = await unit.execute(PRODUCT, stream, command)
    return ProductOutcome(product, msme, await unit.version(stream) + len(events))
