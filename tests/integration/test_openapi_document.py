"""The OpenAPI document of all four services says what the API does: the problems each route answers, with
their media type, bodies that refuse unknown fields, and OPTIONS naming every method of a path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from shared.auth import Role
from shared.problems import PROBLEM_JSON
from shared.service import load_services
from tests.conftest import Servers
from tests.support.app import serve, settings_for, token

pytestmark = pytest.mark.integration


@pytest.fixture
async def document_and_client(
    database_url: str, servers: Servers, nats_prefix: str
) -> AsyncIterator[tuple[dict[str, Any], AsyncTestClient]]:  # type: ignore[type-arg]
    async with serve(load_services(), settings_for(database_url, servers.nats_url, nats_prefix)) as (client, _):
        response = await client.get("/schema/openapi.json")
        assert response.status_code == 200
        yield response.json(), client


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        if path.startswith("/v1/")
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


async def test_every_route_documents_the_problems_any_route_can_answer_as_problem_json(
    document_and_client: tuple[dict[str, Any], AsyncTestClient],  # type: ignore[type-arg]
) -> None:
    document, _ = document_and_client
    operations = _operations(document)
    assert len(operations) > 40
    for path, method, operation in operations:
        responses = operation["responses"]
        for status in ("400", "401", "403", "404", "422", "429", "500", "503"):
            assert status in responses, f"{method.upper()} {path} does not document {status}"
        if "requestBody" in operation:
            assert {"413", "415"} <= responses.keys(), f"{method.upper()} {path}"
        for status, response in responses.items():
            if int(status) >= 400:
                assert list(response["content"]) == [PROBLEM_JSON], f"{method.upper()} {path} {status}"


async def test_request_bodies_that_refuse_unknown_fields_say_so_and_open_ones_do_not(
    document_and_client: tuple[dict[str, Any], AsyncTestClient],  # type: ignore[type-arg]
) -> None:
    document, client = document_and_client
    schemas = document["components"]["schemas"]
    assert schemas["OrderIn"]["additionalProperties"] is False
    assert schemas["OrderLineIn"]["additionalProperties"] is False  # reached through OrderIn.lines
    assert "additionalProperties" not in schemas["PointGeometry"]  # GeoJSON objects may carry foreign members
    refused = await client.post("/v1/orders", json={"surplus": 1}, headers=token(Role.BUYER))
    assert refused.status_code == 422
    assert {"field": "surplus", "message": "is not a known field"} in refused.json()["errors"]


async def test_options_names_every_method_of_a_path_with_several_handlers(
    document_and_client: tuple[dict[str, Any], AsyncTestClient],  # type: ignore[type-arg]
) -> None:
    document, client = document_and_client
    documented = {m.upper() for m in document["paths"]["/v1/msmes/{msme_id}"] if m != "parameters"}
    assert documented == {"GET", "PATCH"}
    answer = await client.options("/v1/msmes/0191f3c4-8b7a-7c5e-9f00-000000000001", headers=token(Role.AGGREGATOR))
    assert answer.status_code == 204
    assert set(answer.headers["allow"].split(", ")) == {"GET", "PATCH", "OPTIONS"}
