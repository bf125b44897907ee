"""A value outside an enumerated field, in a body or a query string, is a 422 that lists the allowed values."""

from __future__ import annotations

import pytest

from tests.integration.flow.marketplace import BUYER, Marketplace

pytestmark = pytest.mark.integration


async def test_an_unknown_order_state_in_the_query_lists_the_states(market: Marketplace) -> None:
    response = await market.client.get("/v1/orders", params={"state": "XYZ"}, headers=BUYER)
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == "state"
    assert error["message"].startswith("'XYZ' is not allowed; must be one of: requested, quoted, confirmed"), error


async def test_an_unknown_incoterm_in_a_body_lists_the_incoterms(market: Marketplace) -> None:
    body = {
        "lines": [],
        "incoterm": "XYZ",
        "destination_country": "NL",
        "destination_port": "NLRTM",
        "required_by": "2027-05-28",
    }
    response = await market.client.post("/v1/orders", json=body, headers=BUYER)
    assert response.status_code == 422, response.text
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors["incoterm"] == (
        "'XYZ' is not allowed; must be one of: EXW, FCA, CPT, CIP, DAP, DPU, DDP, FAS, FOB, CFR, CIF"
    ), errors
    assert "XYZ" in response.json()["detail"] and "FOB" in response.json()["detail"]
