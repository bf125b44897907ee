"""Behind the proxy, /schema goes to one service (catalog): it documents every installed service's routes in one
OpenAPI 3.1 document, the events in AsyncAPI, and its page (Swagger UI 5, assets served locally) renders them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser

from shared.http import create_app
from shared.service import load_services
from tests.conftest import Servers
from tests.integration.pooling.harness import http_server
from tests.support.app import settings_for

pytestmark = pytest.mark.integration
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
async def catalog_alone(database_url: str, servers: Servers, nats_prefix: str) -> AsyncIterator[httpx.AsyncClient]:
    """``gotong serve catalog`` as the proxy reaches it: catalog's routes, the whole API's documents."""
    services = load_services()
    (catalog,) = [s for s in services if s.name == "catalog"]
    app = create_app(settings_for(database_url, servers.nats_url, nats_prefix), [catalog], documented=services)
    async with http_server(app) as client:
        yield client


def operations(document: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    """service (tag) → its (method, path) operations."""
    found: dict[str, set[tuple[str, str]]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS and path.startswith("/v1/"):
                for tag in operation.get("tags", []):
                    found.setdefault(tag, set()).add((method, path))
    return found


async def test_one_service_documents_every_service_and_every_event(catalog_alone: httpx.AsyncClient) -> None:
    response = await catalog_alone.get("/schema/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    documented = operations(document)
    for service in load_services():
        mine = {(method, path) for method, path in documented.get(service.name, set())}
        assert mine, f"{service.name}'s routes are missing from /schema behind the proxy"
    assert (await catalog_alone.get("/v1/orders", headers={"Authorization": "Bearer x"})).status_code in (401, 404)

    events = (await catalog_alone.get("/schema/asyncapi.json")).json()
    assert events["asyncapi"].startswith("3.")
    channels = " ".join(events["channels"])
    for service in load_services():
        assert service.name in channels, f"{service.name}'s events are missing from the AsyncAPI document"


async def test_the_docs_page_loads_nothing_from_elsewhere(catalog_alone: httpx.AsyncClient) -> None:
    page = await catalog_alone.get("/schema")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert f"/schema/assets/{asset}" in page.text
        served = await catalog_alone.get(f"/schema/assets/{asset}")
        assert served.status_code == 200 and len(served.content) > 10_000


@pytest.mark.browser
async def test_the_docs_page_renders_every_service_s_operations(
    catalog_alone: httpx.AsyncClient, browser: Browser
) -> None:
    document = (await catalog_alone.get("/schema/openapi.json")).json()
    expected = operations(document)
    outside: list[str] = []
    page = await browser.new_page()
    try:
        page.on("request", lambda request: outside.append(request.url) if "127.0.0.1" not in request.url else None)
        await page.goto(f"{catalog_alone.base_url}/schema", wait_until="load")
        await page.wait_for_selector(".opblock", timeout=30_000)
        assert await page.locator("text=Unable to render this definition").count() == 0
        assert await page.locator(".errors-wrapper").count() == 0
        shown: set[tuple[str, str]] = set()
        for block in await page.locator(".opblock").all():
            method = (await block.locator(".opblock-summary-method").inner_text()).strip().lower()
            path = (await block.locator(".opblock-summary-path").get_attribute("data-path")) or ""
            shown.add((method, path))
        for service, operations_of_service in expected.items():
            missing = operations_of_service - shown
            assert not missing, f"the page does not show {service}'s {sorted(missing)[:5]}"
        assert not outside, f"the page fetched from elsewhere: {outside}"
    finally:
        await page.close()
