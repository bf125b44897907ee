"""The SQL a stretch (``batches``) runs: one statement per kind of event, its values passed as arrays and joined by
``unnest``, written once per set of tables (the live ones, or a rebuild's copies).

Each row builder gives the values ``project`` writes for one event, in the order of its statement's arrays; JSON
values travel as text and lists inside a row (a product's standards, a certificate's scope) as JSON text, since
an array of arrays cannot be ragged.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import msgspec

from events.catalog import CertificationAdded, MsmeRegistered, MsmeUpdated, ProductListed, ProductUpdated
from services.catalog.domain.rules import certification_key
from services.catalog.read.postings import standard_keys
from services.catalog.read.tables import commitments

_encode = msgspec.json.Encoder().encode


def _json(value: Any) -> str:
    return _encode(value).decode()


def columns(rows: Any) -> list[list[Any]]:
    """Rows of values as one list per column, the arrays ``unnest`` takes."""
    return [list(column) for column in zip(*rows, strict=True)]


def registration(event: MsmeRegistered, version: int) -> tuple[Any, ...]:
    contact = _json(event.contact)
    return (event.msme_id, event.org, event.name, event.nib, event.province, event.city, contact, event.size_class,
            event.status, event.registered_by, event.at, version)  # fmt: skip


def profile(event: MsmeUpdated) -> tuple[Any, ...]:
    return (event.msme_id, event.name, event.province, event.city, _json(event.contact), event.size_class,
            event.status, event.at)  # fmt: skip


def listing(event: ProductListed, version: int) -> tuple[Any, ...]:
    return (event.product_id, event.msme_id, event.org, *_description(event), event.at, version)


def description(event: ProductUpdated) -> tuple[Any, ...]:
    return (event.product_id, *_description(event), event.at)


def _description(event: ProductListed | ProductUpdated) -> tuple[Any, ...]:
    return (event.sku, event.name, event.description, event.hs_code, event.category, event.unit, event.moq,
            _json(event.price_tiers), event.currency, event.lead_time_days, _json(standard_keys(event.standards)),
            _json(event.standards), _json(event.origin_plots), event.eudr_commodity, event.net_mass_kg)  # fmt: skip


def certification(event: CertificationAdded) -> tuple[Any, ...]:
    scope = event.scope
    return (event.certification_id, event.msme_id, event.kind, certification_key(event.kind, event.name), event.name,
            event.number, event.issuer, event.valid_from, event.valid_until, event.at,
            None if scope is None else _json(scope.product_ids),
            None if scope is None else _json(scope.hs_prefixes))  # fmt: skip


@dataclass(frozen=True)
class Statements:
    register: str
    profile: str
    list: str
    describe: str
    certify: str
    declare: str
    bump_msmes: str
    bump_products: str


# A product's description: the columns a listing and an update both write, and their arrays' types.
_DESCRIBED = (
    ("sku", "text"), ("name", "text"), ("description", "text"), ("hs_code", "text"), ("category", "text"),
    ("unit", "text"), ("moq", "int"), ("price_tiers", "text"), ("currency", "text"), ("lead_time_days", "int"),
    ("standards", "text"), ("standard_refs", "text"), ("origin_plots", "text"), ("eudr_commodity", "text"),
    ("net_mass_kg", "numeric"),
)  # fmt: skip


def _arrays(first: int) -> str:
    """The description's typed array placeholders, numbered from ``first``."""
    return ", ".join(f"${first + n}::{kind}[]" for n, (_, kind) in enumerate(_DESCRIBED))


def _ordered(json_list: str, element: str) -> str:
    """A JSON list (as text) as an SQL array, in its order."""
    return (f"ARRAY(SELECT s.v::{element} FROM jsonb_array_elements_text({json_list}::jsonb) WITH ORDINALITY "
            "AS s(v, n) ORDER BY s.n)")  # fmt: skip


@cache
def statements(msmes: str, products: str, certifications: str, capacity: str) -> Statements:
    """The stretch's SQL for one set of tables."""
    register = f"""
        INSERT INTO {msmes} (id, org, name, nib, province, city, contact, size_class, status, registered_by,
                             registered_at, updated_at, version)
        SELECT id, org, name, nib, province, city, contact::jsonb, size_class, status, registered_by, at, at, version
        FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                    $9::text[], $10::text[], $11::timestamptz[], $12::int[])
             AS r(id, org, name, nib, province, city, contact, size_class, status, registered_by, at, version)
        ON CONFLICT DO NOTHING
        RETURNING id"""
    # The last profile of each MSME, on its row and on all of its products (those listed before it too).
    profiles = f"""
        WITH u AS (
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                                 $8::timestamptz[]) AS u(id, name, province, city, contact, size_class, status, at)
        ), profiled AS (
            UPDATE {msmes} t SET name = u.name, province = u.province, city = u.city, contact = u.contact::jsonb,
                                 size_class = u.size_class, status = u.status, updated_at = u.at
            FROM u WHERE t.id = u.id
        )
        UPDATE {products} t SET msme_name = u.name, province = u.province, city = u.city, msme_status = u.status
        FROM u WHERE t.msme_id = u.id"""
    described = ", ".join(name for name, _ in _DESCRIBED)
    # An MSME not registered (yet) leaves its products the empty name and place ``project`` gives them.
    listing = f"""
        INSERT INTO {products} (id, msme_id, org, msme_name, msme_status, province, city, {described}, listed_at,
                                updated_at, version)
        SELECT p.id, p.msme_id, p.org, coalesce(m.name, ''), coalesce(m.status, 'active'),
               coalesce(m.province, ''), coalesce(m.city, ''), p.sku, p.name, p.description, p.hs_code, p.category,
               p.unit, p.moq, p.price_tiers::jsonb, p.currency, p.lead_time_days, {_ordered("p.standards", "text")},
               p.standard_refs::jsonb, p.origin_plots::jsonb, p.eudr_commodity, p.net_mass_kg, p.at, p.at, p.version
        FROM unnest($1::uuid[], $2::uuid[], $3::text[], {_arrays(4)}, $19::timestamptz[], $20::int[])
             AS p(id, msme_id, org, {described}, at, version)
        LEFT JOIN {msmes} m ON m.id = p.msme_id
        ON CONFLICT DO NOTHING
        RETURNING id"""
    describe = f"""
        UPDATE {products} t
        SET sku = u.sku, name = u.name, description = u.description, hs_code = u.hs_code, category = u.category,
            unit = u.unit, moq = u.moq, price_tiers = u.price_tiers::jsonb, currency = u.currency,
            lead_time_days = u.lead_time_days, standards = {_ordered("u.standards", "text")},
            standard_refs = u.standard_refs::jsonb, origin_plots = u.origin_plots::jsonb,
            eudr_commodity = u.eudr_commodity, net_mass_kg = u.net_mass_kg, updated_at = u.at
        FROM unnest($1::uuid[], {_arrays(2)}, $17::timestamptz[]) AS u(id, {described}, at)
        WHERE t.id = u.id"""
    certify = f"""
        INSERT INTO {certifications} (id, msme_id, kind, key, name, number, issuer, valid_from, valid_until,
                                      added_at, scope_product_ids, scope_hs_prefixes)
        SELECT c.id, c.msme_id, c.kind, c.key, c.name, c.number, c.issuer, c.valid_from, c.valid_until, c.at,
               CASE WHEN c.product_ids IS NOT NULL THEN {_ordered("c.product_ids", "uuid")} END,
               CASE WHEN c.hs_prefixes IS NOT NULL THEN {_ordered("c.hs_prefixes", "text")} END
        FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::date[],
                    $9::date[], $10::timestamptz[], $11::text[], $12::text[])
             AS c(id, msme_id, kind, key, name, number, issuer, valid_from, valid_until, at, product_ids, hs_prefixes)
        ON CONFLICT DO NOTHING"""
    declare = f"""
        INSERT INTO {capacity} (product_id, month, declared, committed)
        SELECT d.product_id, d.month, d.units, coalesce(c.committed, 0)
        FROM unnest($1::uuid[], $2::text[], $3::int[]) AS d(product_id, month, units)
        LEFT JOIN {commitments.fullname} c ON c.product_id = d.product_id AND c.month = d.month
        ON CONFLICT (product_id, month) DO UPDATE SET declared = EXCLUDED.declared"""
    bump = "UPDATE {} t SET version = v.version FROM unnest($1::uuid[], $2::int[]) AS v(id, version) WHERE t.id = v.id"
    return Statements(
        register, profiles, listing, describe, certify, declare, bump.format(msmes), bump.format(products)
    )
