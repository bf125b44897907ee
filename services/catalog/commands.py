"""Who may change what, and the streams each catalog command touches (run inside ``run_command``).

A listing or a product update naming standards is checked first by ``check_listing`` or ``check_update``,
outside any transaction: who may change the products (404, 403), then the standards, which may wait a few seconds
for one quality published a moment ago.

Owners are the users of the MSME's owning organisation (roles ``msme`` and ``aggregator``); admins may do
everything; aggregators may also suspend and reinstate any MSME. Profiles are public, so a stranger's edit
is refused with 403 rather than hidden behind 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from uuid import UUID

from events.catalog import StandardRef
from services.catalog.domain.certification import notice_days_of
from services.catalog.domain.msme import (
    MSME,
    AddCertification,
    ClaimSku,
    Msme,
    NoticeExpiry,
    RegisterMsme,
    ReleaseSku,
    UpdateMsme,
    msme_stream,
)
from services.catalog.domain.nib import NIB_REGISTRY, ClaimNib, nib_stream
from services.catalog.domain.plot import PLOT, Plot, PlotSpec, RegisterPlot, WithdrawPlot, plot_stream
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
from services.catalog.read.tables import PUBLISHED_STANDARDS
from shared.api import check_version
from shared.auth import Principal, Role
from shared.decider import UnitOfWork, fold_stream
from shared.eventstore import EventStore
from shared.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.published_standards import StandardUse
from shared.schedule import schedule

OWNER_ROLES = (Role.MSME, Role.AGGREGATOR)
SCHEMA = "catalog"
CERTIFICATE_EXPIRY = "certificate-expiry"
"""The due action of a certificate's expiry notice; its subject is ``<certification id>:<days before>``."""
PROFILE_FIELDS = ("name", "province", "city", "contact", "size_class")


def is_owner(principal: Principal, org: str) -> bool:
    return principal.is_admin or (principal.role in OWNER_ROLES and principal.org == org)


def require_owner(principal: Principal, org: str, what: str) -> None:
    if not is_owner(principal, org):
        raise Forbidden(f"only users of the owning organisation (or an admin) may change this {what}")


def owning_org(principal: Principal, requested: str | None) -> str:
    """MSME users register for their own organisation; aggregators and admins name the owner."""
    if principal.role is Role.MSME:
        if requested is not None and requested != principal.org:
            raise Forbidden("an MSME user registers MSMEs of its own organisation only")
        return principal.org
    if requested is None:
        raise InvalidInput.of("org", "is required when registering an MSME on its behalf")
    return requested


@dataclass(frozen=True)
class MsmeOutcome:
    msme: Msme
    version: int


@dataclass(frozen=True)
class ProductOutcome:
    product: Product
    msme: Msme
    version: int


def _found_msme(state: Msme, msme_id: UUID) -> Msme:
    if not state.registered:
        raise NotFound(f"no MSME {msme_id}")
    return state


def _found_product(state: Product, product_id: UUID) -> Product:
    if state.spec is None:
        raise NotFound(f"no product {product_id}")
    return state


async def check_listing(store: EventStore, principal: Principal, msme_id: UUID, spec: ProductSpec) -> None:
    """Before a listing's transaction: the MSME exists and the caller may list its products, then every standard
    the product names is one quality published."""
    msme, _ = await fold_stream(store, MSME, msme_stream(msme_id))
    require_owner(principal, _found_msme(msme, msme_id).org, "MSME's products")
    await _refuse_unknown_standards(store, spec.standards)


async def check_update(store: EventStore, principal: Principal, product_id: UUID, command: UpdateProduct) -> None:
    """Before a product update's transaction: the product exists and the caller may change it, then every standard
    the update names is one quality published."""
    if command.changes.standards is None:
        return
    product, _ = await fold_stream(store, PRODUCT, product_stream(product_id))
    require_owner(principal, _found_product(product, product_id).org, "product")
    await _refuse_unknown_standards(store, command.changes.standards)


async def _refuse_unknown_standards(store: EventStore, standards: Sequence[StandardRef]) -> None:
    """422 naming each ``standards[i]`` quality has not published (as far as the catalog knows yet)."""
    uses = [
        StandardUse(s.standard_id, s.version, f"standards[{i}].standard_id", f"standards[{i}].version")
        for i, s in enumerate(standards)
    ]
    errors = await PUBLISHED_STANDARDS.refusals(store.pool, uses)
    if errors:
        raise InvalidInput(errors)


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
    state = _found_msme(await unit.load(MSME, msme_stream(msme_id)), msme_id)
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
    state = _found_msme(await unit.load(MSME, msme_stream(msme_id)), msme_id)
    require_owner(principal, state.org, "MSME's certifications")
    state, events = await unit.execute(MSME, stream, command)
    for notice_days, day in notice_days_of(command.valid_until).items():
        if day >= command.at.date():  # a notice whose day has passed is not sent late for a new certificate
            due = datetime.combine(day, time(), tzinfo=UTC)
            payload = {"msme_id": str(msme_id), "certification_id": str(command.certification_id),
                       "notice_days": notice_days}  # fmt: skip
            subject = f"{command.certification_id}:{notice_days}"
            await schedule(unit.connection, CERTIFICATE_EXPIRY, subject, due, payload, schema=SCHEMA)
    return MsmeOutcome(state, await unit.version(stream) + len(events))


async def notice_expiry(unit: UnitOfWork, msme_id: UUID, command: NoticeExpiry) -> int:
    """Give a certificate's expiry notice if it is still due; returns how many events that took (0 or 1)."""
    _, events = await unit.execute(MSME, msme_stream(msme_id), command)
    return len(events)


async def list_product(
    unit: UnitOfWork, principal: Principal, msme_id: UUID, product_id: UUID, spec: ProductSpec, at: datetime
) -> ProductOutcome:
    """List the product and claim its SKU on the MSME's stream, in one transaction (SKUs are unique per MSME)."""
    msme = _found_msme(await unit.load(MSME, msme_stream(msme_id)), msme_id)
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
    before = _found_product(await unit.load(PRODUCT, product_stream(product_id)), product_id)
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
    product = _found_product(await unit.load(PRODUCT, product_stream(product_id)), product_id)
    require_owner(principal, product.org, "product's capacity")
    check_version(expected, await unit.version(stream))
    assert product.msme_id is not None
    msme = await unit.load(MSME, msme_stream(product.msme_id))
    if msme.status == "suspended":
        raise Conflict("a suspended MSME cannot declare capacity", problem="msme-suspended")
    product, events = await unit.execute(PRODUCT, stream, command)
    return ProductOutcome(product, msme, await unit.version(stream) + len(events))


def may_manage_plots(principal: Principal, msme: Msme) -> bool:
    """The MSME's owning organisation, the aggregator that registered it, or an admin."""
    registrar = principal.role is Role.AGGREGATOR and principal.org == msme.registered_by
    return is_owner(principal, msme.org) or registrar


@dataclass(frozen=True)
class PlotOutcome:
    plot: Plot
    version: int


async def register_plot(
    unit: UnitOfWork, principal: Principal, msme_id: UUID, plot_id: UUID, spec: PlotSpec, at: datetime
) -> PlotOutcome:
    msme = _found_msme(await unit.load(MSME, msme_stream(msme_id)), msme_id)
    if not may_manage_plots(principal, msme):
        raise Forbidden("only the MSME's organisation, the aggregator that registered it, or an admin manage its plots")
    active = await unit.connection.fetchval(
        f"SELECT count(*) FROM {SCHEMA}.plots WHERE msme_id = $1 AND status = 'active'", msme_id
    )
    command = RegisterPlot(
        plot_id=plot_id, msme_id=msme_id, org=msme.org, spec=spec, by=principal.org, today=at.date(), at=at,
        active_plots=int(active),
    )  # fmt: skip
    plot, events = await unit.execute(PLOT, plot_stream(plot_id), command)
    return PlotOutcome(plot, await unit.version(plot_stream(plot_id)) + len(events))


async def withdraw_plot(
    unit: UnitOfWork, principal: Principal, plot_id: UUID, reason: str, at: datetime
) -> PlotOutcome:
    stream = plot_stream(plot_id)
    plot = await unit.load(PLOT, stream)
    if plot.registered is None:
        raise NotFound(f"no plot {plot_id}")
    msme = await unit.load(MSME, msme_stream(plot.registered.msme_id))
    if not may_manage_plots(principal, msme):
        raise Forbidden("only the MSME's organisation, the aggregator that registered it, or an admin manage its plots")
    plot, events = await unit.execute(PLOT, stream, WithdrawPlot(reason=reason, by=principal.org, at=at))
    return PlotOutcome(plot, await unit.version(stream) + len(events))
