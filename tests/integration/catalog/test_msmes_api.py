"""MSMEs over HTTP: registration, profiles, updates and suspension, certifications, who may do what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.integration.catalog.conftest import (
    ADMIN,
    AGGREGATOR,
    BUYER,
    CARVERS,
    WEAVERS,
    Catalog,
    msme_body,
)

pytestmark = pytest.mark.integration


def fields(response: Any) -> set[str]:
    """The fields a problem+json response names."""
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return {e["field"] for e in response.json().get("errors", [])}


async def test_an_msme_user_registers_its_own_msme_and_everyone_can_read_the_profile(catalog: Catalog) -> None:
    created = await catalog.register(WEAVERS, province="jawa tengah", city="Solo")
    assert created["org"] == "cirebon-weavers"
    assert (created["province"], created["city"]) == ("Jawa Tengah", "Surakarta")
    assert created["status"] == "active" and created["version"] == 1 and created["position"] > 0
    assert created["contact"]["email"] == "siti@rotancirebon.id"
    url = f"/v1/msmes/{created['id']}?wait_for_position={created['position']}"
    read = await catalog.client.get(url, headers=BUYER)
    assert read.status_code == 200, read.text
    profile = read.json()
    assert profile["name"] == "Rotan Cirebon Jaya" and profile["nib"] == "9120001234567"
    assert profile["contact"] is None  # buyers do not see personal contacts
    assert profile["product_count"] == 0 and profile["certifications"] == [] and profile["version"] == 1
    for reader in (WEAVERS, AGGREGATOR, ADMIN):
        assert (await catalog.client.get(url, headers=reader)).json()["contact"]["name"] == "Siti Aminah"


async def test_aggregators_and_admins_register_on_behalf_of_an_owner_organisation(catalog: Catalog) -> None:
    missing = await catalog.client.post("/v1/msmes", json=msme_body(), headers=AGGREGATOR)
    assert missing.status_code == 422 and fields(missing) == {"org"}
    onboarded = await catalog.register(AGGREGATOR, org="koperasi-mebel-jepara", city="Jepara", province="Jawa Tengah")
    assert onboarded["org"] == "koperasi-mebel-jepara"
    by_admin = await catalog.register(ADMIN, org="cirebon-weavers", nib="9120001234568")
    assert by_admin["org"] == "cirebon-weavers"


async def test_only_msme_users_aggregators_and_admins_register_and_only_for_their_own_org(catalog: Catalog) -> None:
    assert (await catalog.client.post("/v1/msmes", json=msme_body(), headers=BUYER)).status_code == 403
    other_org = await catalog.client.post("/v1/msmes", json=msme_body(org="jepara-carvers"), headers=WEAVERS)
    assert other_org.status_code == 403
    assert other_org.headers["content-type"].startswith("application/problem+json")


async def test_bad_registrations_name_every_field(catalog: Catalog) -> None:
    body = msme_body(
        nib="12345",
        province="Atlantis",
        city="Gotham",
        contact={"name": "Siti", "email": "nope"},
        size_class="huge",
        colour="red",
    )
    response = await catalog.client.post("/v1/msmes", json=body, headers=WEAVERS)
    assert response.status_code == 422
    assert fields(response) == {"size_class", "colour"}  # the body's shape is checked first
    body.pop("colour")
    body["size_class"] = "micro"
    response = await catalog.client.post("/v1/msmes", json=body, headers=WEAVERS)
    assert response.status_code == 422 and fields(response) == {"nib", "province", "city", "contact.email"}
    wrong_province = await catalog.client.post(
        "/v1/msmes", json=msme_body(province="Bali", city="Cirebon"), headers=WEAVERS
    )
    assert wrong_province.status_code == 422 and fields(wrong_province) == {"city"}
    no_name = await catalog.client.post("/v1/msmes", json={**msme_body(), "name": ""}, headers=WEAVERS)
    assert no_name.status_code == 422 and fields(no_name) == {"name"}
    malformed = await catalog.client.post(
        "/v1/msmes", content=b'{"name": ', headers={**WEAVERS, "Content-Type": "application/json"}
    )
    assert malformed.status_code == 400


async def test_a_business_number_registers_one_msme(catalog: Catalog) -> None:
    await catalog.register(WEAVERS)
    again = await catalog.client.post("/v1/msmes", json=msme_body(name="Another"), headers=CARVERS)
    assert again.status_code == 409 and again.json()["type"].endswith("/duplicate-nib")


async def test_an_unknown_msme_is_not_found(catalog: Catalog) -> None:
    unknown = await catalog.client.get("/v1/msmes/01890000-0000-7000-8000-000000000000", headers=BUYER)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert (await catalog.client.get("/v1/msmes/not-a-uuid", headers=BUYER)).status_code in (404, 422)
    patch = await catalog.client.patch("/v1/msmes/01890000-0000-7000-8000-000000000000", json={}, headers=ADMIN)
    assert patch.status_code == 404


async def test_the_owner_updates_its_profile_conditionally(catalog: Catalog) -> None:
    created = await catalog.register(WEAVERS)
    url = f"/v1/msmes/{created['id']}"
    stale = await catalog.client.patch(url, json={"name": "Rotan Jaya"}, headers={**WEAVERS, "If-Match": "5"})
    assert stale.status_code == 412
    changed = await catalog.client.patch(
        url, json={"name": "Rotan Jaya", "city": "Bandung"}, headers={**WEAVERS, "If-Match": "1"}
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["city"], body["version"]) == ("Rotan Jaya", "Bandung", 2)
    read = await catalog.client.get(f"{url}?wait_for_position={body['position']}", headers=BUYER)
    assert read.json()["name"] == "Rotan Jaya" and read.json()["version"] == 2


async def test_bad_updates_name_every_field(catalog: Catalog) -> None:
    created = await catalog.register(WEAVERS)
    url = f"/v1/msmes/{created['id']}"
    shape = await catalog.client.patch(url, json={"nib": "9120001234599", "size_class": 3}, headers=WEAVERS)
    assert shape.status_code == 422 and fields(shape) == {"nib", "size_class"}
    rules = await catalog.client.patch(
        url, json={"city": "Gotham", "contact": {"name": "Siti", "phone": "x"}}, headers=WEAVERS
    )
    assert rules.status_code == 422 and fields(rules) == {"city", "contact.phone"}


async def test_nobody_else_edits_an_msme_and_only_aggregators_or_admins_suspend_it(catalog: Catalog) -> None:
    created = await catalog.register(WEAVERS)
    url = f"/v1/msmes/{created['id']}"
    for stranger in (CARVERS, BUYER, AGGREGATOR):
        response = await catalog.client.patch(url, json={"name": "Mine now"}, headers=stranger)
        assert response.status_code == 403, stranger
    own_status = await catalog.client.patch(url, json={"status": "suspended"}, headers=WEAVERS)
    assert own_status.status_code == 403
    suspended = await catalog.client.patch(
        url, json={"status": "suspended", "status_reason": "NIB under review"}, headers=AGGREGATOR
    )
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    reinstated = await catalog.client.patch(url, json={"status": "active", "name": "Rotan Baru"}, headers=ADMIN)
    assert reinstated.status_code == 200
    assert (reinstated.json()["status"], reinstated.json()["name"]) == ("active", "Rotan Baru")


async def test_certifications_show_whether_they_are_valid_today(catalog: Catalog) -> None:
    created = await catalog.register(WEAVERS)
    url = f"/v1/msmes/{created['id']}/certifications"
    halal = {
        "kind": "halal",
        "number": "ID00410000123450423",
        "issuer": "BPJPH",
        "valid_from": "2025-01-01",
        "valid_until": "2026-12-31",
    }
    added = await catalog.client.post(url, json=halal, headers=WEAVERS)
    assert added.status_code == 201, added.text
    [certificate] = added.json()["certifications"]
    assert certificate["name"] == "Halal" and certificate["valid"] is True
    expired = {
        **halal,
        "kind": "svlk",
        "number": "VLK-00123",
        "issuer": "Mutu Agung Lestari",
        "valid_until": "2026-06-30",
    }
    last = (await catalog.client.post(url, json=expired, headers=WEAVERS)).json()
    profile = await catalog.client.get(f"/v1/msmes/{created['id']}?wait_for_position={last['position']}", headers=BUYER)
    assert {c["kind"]: c["valid"] for c in profile.json()["certifications"]} == {"halal": True, "svlk": False}
    catalog.clock.advance(timedelta(days=120))  # 2027-02: the halal certificate has lapsed, nobody edited it
    later = await catalog.client.get(f"/v1/msmes/{created['id']}", headers=BUYER)
    assert {c["kind"]: c["valid"] for c in later.json()["certifications"]} == {"halal": False, "svlk": False}


async def test_bad_certifications_are_refused_naming_the_field(catalog: Catalog) -> None:
    created = await catalog.register(WEAVERS)
    url = f"/v1/msmes/{created['id']}/certifications"
    base = {"kind": "other", "number": "RA-1", "issuer": "RA", "valid_from": "2026-01-01", "valid_until": "2027-01-01"}
    no_name = await catalog.client.post(url, json=base, headers=WEAVERS)
    assert no_name.status_code == 422 and fields(no_name) == {"name"}
    backwards = await catalog.client.post(
        url, json={**base, "name": "Rainforest Alliance", "valid_until": "2025-01-01"}, headers=WEAVERS
    )
    assert backwards.status_code == 422 and fields(backwards) == {"valid_until"}
    shape = await catalog.client.post(url, json={**base, "kind": "gold", "valid_from": "soon"}, headers=WEAVERS)
    assert shape.status_code == 422 and fields(shape) == {"kind", "valid_from"}
    good = {**base, "name": "Rainforest Alliance"}
    assert (await catalog.client.post(url, json=good, headers=WEAVERS)).status_code == 201
    assert (await catalog.client.post(url, json=good, headers=WEAVERS)).status_code == 409
    assert (await catalog.client.post(url, json=good, headers=CARVERS)).status_code == 403
    missing = await catalog.client.post(
        "/v1/msmes/01890000-0000-7000-8000-000000000000/certifications", json=good, headers=ADMIN
    )
    assert missing.status_code == 404


async def test_a_repeated_registration_with_an_idempotency_key_registers_once(catalog: Catalog) -> None:
    headers = {**WEAVERS, "Idempotency-Key": "register-rotan-1"}
    first = await catalog.client.post("/v1/msmes", json=msme_body(), headers=headers)
    again = await catalog.client.post("/v1/msmes", json=msme_body(), headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()


async def test_every_catalog_route_is_documented_with_its_problems(catalog: Catalog) -> None:
    schema = await catalog.client.get("/schema/openapi.json")
    assert schema.status_code == 200, schema.text
    paths = schema.json()["paths"]
    expected = {
        ("/v1/msmes", "post"): {"403", "409", "422"},
        ("/v1/msmes/{msme_id}", "get"): {"404"},
        ("/v1/msmes/{msme_id}", "patch"): {"403", "404", "412", "422"},
        ("/v1/msmes/{msme_id}/certifications", "post"): {"403", "404", "409", "422"},
        ("/v1/msmes/{msme_id}/products", "post"): {"403", "404", "409", "422"},
        ("/v1/products/{product_id}", "get"): {"404"},
        ("/v1/products/{product_id}", "patch"): {"403", "404", "409", "412", "422"},
        ("/v1/products/{product_id}/capacity", "put"): {"403", "404", "409", "412", "422"},
        ("/v1/products", "get"): {"403", "422"},
    }
    for (path, method), statuses in expected.items():
        assert statuses <= set(paths[path][method]["responses"]), (path, method)
    answers = {
        ("/v1/msmes", "post", "201"): "MsmeView",
        ("/v1/msmes/{msme_id}/certifications", "post", "201"): "MsmeView",
        ("/v1/msmes/{msme_id}/products", "post", "201"): "ProductView",
        ("/v1/msmes/{msme_id}", "patch", "200"): "MsmeView",
        ("/v1/products/{product_id}", "patch", "200"): "ProductView",
    }
    for (path, method, status), view in answers.items():
        answer = paths[path][method]["responses"][status]["content"]["application/json"]["schema"]
        assert answer.get("$ref", "").rsplit("/", 1)[-1].endswith(view), (path, method, answer)
    bodies = {
        ("/v1/msmes", "post"): "RegisterMsmeBody",
        ("/v1/msmes/{msme_id}", "patch"): "MsmePatch",
        ("/v1/msmes/{msme_id}/certifications", "post"): "CertificationBody",
        ("/v1/msmes/{msme_id}/products", "post"): "ProductBody",
        ("/v1/products/{product_id}", "patch"): "ProductPatch",
        ("/v1/products/{product_id}/capacity", "put"): "CapacityBody",
    }
    for (path, method), body in bodies.items():
        sent = paths[path][method]["requestBody"]["content"]["application/json"]["schema"]
        assert sent.get("$ref", "").rsplit("/", 1)[-1].endswith(body), (path, method, sent)
