"""The MSME aggregate (profile, status, certifications and their expiry notices, the SKUs it uses)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from uuid import UUID

import msgspec

from events.catalog import (
    CertificationAdded,
    CertificationExpiring,
    CertificationKind,
    CertificationScope,
    Contact,
    MsmeRegistered,
    MsmeStatus,
    MsmeUpdated,
    SizeClass,
    SkuClaimed,
    SkuReleased,
)
from services.catalog.domain import rules
from services.catalog.domain.certification import Certification, normalised, notice_due, scope_errors
from shared.kernel.decider import Decider
from shared.kernel.errors import Conflict, FieldError, InvalidInput, NotFound

CERTIFICATION_NAMES: dict[str, str] = {
    "halal": "Halal",
    "sni": "SNI (Standar Nasional Indonesia)",
    "bpom": "BPOM",
    "svlk": "SVLK (legal timber)",
    "iso_9001": "ISO 9001",
    "organic": "Organic",
    "fair_trade": "Fair trade",
}

MsmeEvent = MsmeRegistered | MsmeUpdated | CertificationAdded | CertificationExpiring | SkuClaimed | SkuReleased


@dataclass(frozen=True)
class Msme:
    msme_id: UUID | None = None
    org: str = ""
    registered_by: str = ""
    name: str = ""
    nib: str = ""
    province: str = ""
    city: str = ""
    contact: Contact = field(default_factory=lambda: Contact(name=""))
    size_class: SizeClass = "micro"
    status: MsmeStatus = "active"
    certifications: tuple[Certification, ...] = ()
    skus: dict[str, UUID] = field(default_factory=dict)  # SKU key → product

    @property
    def registered(self) -> bool:
        return self.msme_id is not None


class RegisterMsme(msgspec.Struct, frozen=True, kw_only=True):
    msme_id: UUID
    org: str
    name: str
    nib: str
    province: str
    city: str
    contact: Contact
    size_class: SizeClass
    registered_by: str
    at: datetime


class MsmeChanges(msgspec.Struct, frozen=True, kw_only=True):
    """What an update changes; ``None`` leaves a field as it is."""

    name: str | None = None
    province: str | None = None
    city: str | None = None
    contact: Contact | None = None
    size_class: SizeClass | None = None
    status: MsmeStatus | None = None


class UpdateMsme(msgspec.Struct, frozen=True, kw_only=True):
    changes: MsmeChanges
    status_reason: str | None = None
    at: datetime


class AddCertification(msgspec.Struct, frozen=True, kw_only=True):
    certification_id: UUID
    kind: CertificationKind
    name: str | None
    number: str
    issuer: str
    valid_from: date
    valid_until: date
    scope: CertificationScope | None = None
    at: datetime


class NoticeExpiry(msgspec.Struct, frozen=True, kw_only=True):
    """A certificate's expiry notice is due (``notice_days`` before its last valid day); ``today`` is the day."""

    certification_id: UUID
    notice_days: int
    today: date
    at: datetime


class ClaimSku(msgspec.Struct, frozen=True, kw_only=True):
    """A product of this MSME takes an SKU (listing, or renaming its SKU)."""

    product_id: UUID
    sku: str
    at: datetime


class ReleaseSku(msgspec.Struct, frozen=True, kw_only=True):
    product_id: UUID
    sku: str
    at: datetime


MsmeCommand = RegisterMsme | UpdateMsme | AddCertification | NoticeExpiry | ClaimSku | ReleaseSku
_PROFILE = ("name", "province", "city", "contact", "size_class", "status")


def _profile_errors(name: str, contact: Contact) -> list[FieldError]:
    errors = [] if name.strip() else [FieldError("name", "must not be blank")]
    return errors + rules.contact_errors(contact)


def _register(command: RegisterMsme, state: Msme) -> list[MsmeEvent]:
    if state.registered:
        raise Conflict(f"MSME {command.msme_id} is already registered", problem="already-registered")
    province, city, errors = rules.locate(command.province, command.city)
    errors = rules.nib_errors(command.nib) + _profile_errors(command.name, command.contact) + errors
    if not command.org.strip():
        errors.append(FieldError("org", "must name the owning organisation"))
    if errors:
        raise InvalidInput(errors)
    return [
        MsmeRegistered(
            msme_id=command.msme_id,
            org=command.org,
            name=command.name.strip(),
            nib=command.nib,
            province=province,
            city=city,
            contact=command.contact,
            size_class=command.size_class,
            registered_by=command.registered_by,
            at=command.at,
        )
    ]


def _update(command: UpdateMsme, state: Msme) -> list[MsmeEvent]:
    changes = command.changes
    name = state.name if changes.name is None else changes.name.strip()
    contact = changes.contact or state.contact
    province, city, errors = rules.locate(changes.province or state.province, changes.city or state.city)
    errors = _profile_errors(name, contact) + errors
    if errors:
        raise InvalidInput(errors)
    after = replace(
        state,
        name=name,
        province=province,
        city=city,
        contact=contact,
        size_class=changes.size_class or state.size_class,
        status=changes.status or state.status,
    )
    changed = [f for f in _PROFILE if getattr(after, f) != getattr(state, f)]
    if not changed:
        return []
    assert state.msme_id is not None
    return [
        MsmeUpdated(
            msme_id=state.msme_id,
            org=state.org,
            name=after.name,
            nib=state.nib,
            province=after.province,
            city=after.city,
            contact=after.contact,
            size_class=after.size_class,
            status=after.status,
            changed=changed,
            status_reason=command.status_reason if "status" in changed else None,
            at=command.at,
        )
    ]


def _certify(command: AddCertification, state: Msme) -> list[MsmeEvent]:
    errors = rules.validity_errors(command.valid_from, command.valid_until)
    name = (command.name or "").strip() or CERTIFICATION_NAMES.get(command.kind, "")
    if not name:
        errors.append(FieldError("name", "is required for a certification of kind 'other'"))
    for label in ("number", "issuer"):
        if not str(getattr(command, label)).strip():
            errors.append(FieldError(label, "must not be blank"))
    errors += scope_errors(command.scope, set(state.skus.values()))
    if errors:
        raise InvalidInput(errors)
    number = command.number.strip()
    for held in state.certifications:
        if held.kind == command.kind and held.name == name and held.number == number:
            raise Conflict(f"certificate {number} is already recorded", problem="duplicate-certification")
    assert state.msme_id is not None
    return [
        CertificationAdded(
            certification_id=command.certification_id,
            msme_id=state.msme_id,
            kind=command.kind,
            name=name,
            number=number,
            issuer=command.issuer.strip(),
            valid_from=command.valid_from,
            valid_until=command.valid_until,
            scope=normalised(command.scope),
            at=command.at,
        )
    ]


def _notice(command: NoticeExpiry, state: Msme) -> list[MsmeEvent]:
    """The expiry notice, unless given already, out of date (the certificate expired, or a nearer notice is due
    too), or needless (a renewal is held)."""
    held = next((c for c in state.certifications if c.certification_id == command.certification_id), None)
    days_left = None if held is None else notice_due(held, state.certifications, command.notice_days, command.today)
    if held is None or days_left is None:
        return []
    assert state.msme_id is not None
    return [
        CertificationExpiring(
            certification_id=held.certification_id,
            msme_id=state.msme_id,
            kind=held.kind,
            name=held.name,
            number=held.number,
            valid_until=held.valid_until,
            days_left=days_left,
            notice_days=command.notice_days,
            org=state.org,
            registered_by=state.registered_by,
            at=command.at,
        )
    ]


def _claim(command: ClaimSku, state: Msme) -> list[MsmeEvent]:
    if state.status == "suspended":
        raise Conflict("a suspended MSME cannot list products", problem="msme-suspended")
    holder = state.skus.get(rules.sku_key(command.sku))
    if holder == command.product_id:
        return []
    if holder is not None:
        raise Conflict(f"SKU {command.sku} is already used by product {holder}", problem="duplicate-sku", field="sku")
    assert state.msme_id is not None
    return [SkuClaimed(msme_id=state.msme_id, product_id=command.product_id, sku=command.sku, at=command.at)]


def decide(command: MsmeCommand, state: Msme) -> Sequence[MsmeEvent]:
    if isinstance(command, RegisterMsme):
        return _register(command, state)
    if not state.registered:
        raise NotFound("no such MSME")
    match command:
        case UpdateMsme():
            return _update(command, state)
        case AddCertification():
            return _certify(command, state)
        case NoticeExpiry():
            return _notice(command, state)
        case ClaimSku():
            return _claim(command, state)
        case ReleaseSku(product_id=product_id, sku=sku, at=at):
            if state.skus.get(rules.sku_key(sku)) != product_id:
                return []
            assert state.msme_id is not None
            return [SkuReleased(msme_id=state.msme_id, product_id=product_id, sku=sku, at=at)]


def evolve(state: Msme, event: MsmeEvent) -> Msme:
    match event:
        case MsmeRegistered() | MsmeUpdated():
            registrar = event.registered_by if isinstance(event, MsmeRegistered) else state.registered_by
            return replace(
                state,
                registered_by=registrar,
                msme_id=event.msme_id,
                org=event.org,
                name=event.name,
                nib=event.nib,
                province=event.province,
                city=event.city,
                contact=event.contact,
                size_class=event.size_class,
                status=event.status,
            )
        case CertificationAdded():
            held = Certification(
                event.certification_id,
                event.kind,
                event.name,
                event.number,
                event.issuer,
                event.valid_from,
                event.valid_until,
                event.scope,
            )
            return replace(state, certifications=(*state.certifications, held))
        case CertificationExpiring(certification_id=certification_id, notice_days=days):
            noticed = tuple(
                replace(c, notices=c.notices | {days}) if c.certification_id == certification_id else c
                for c in state.certifications
            )
            return replace(state, certifications=noticed)
        case SkuClaimed(product_id=product_id, sku=sku):
            return replace(state, skus={**state.skus, rules.sku_key(sku): product_id})
        case SkuReleased(sku=sku):
            return replace(state, skus={k: v for k, v in state.skus.items() if k != rules.sku_key(sku)})


MSME = Decider[MsmeCommand, Msme, MsmeEvent]("msme", Msme(), decide, evolve)


def msme_stream(msme_id: UUID) -> str:
    return f"msme-{msme_id}"
