"""A real headless Chromium (Debian's, never a downloaded one) driven by Playwright, and Gotong served over real
HTTP (uvicorn on a free port in the test's event loop) for it to browse.

Minimal on purpose: a shared browser fixture for all browser tests is on its way, and this one will join it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from litestar import Litestar

from shared.dev import free_port

CHROMIUM = Path("/usr/bin/chromium")
ARGUMENTS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}


def _unavailable(reason: str) -> None:
    """Without a browser a browser test fails under CI (where it must run) and is skipped elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests need {reason}", pytrace=False)
    pytest.skip(f"browser tests need {reason}")


def _installed() -> None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        _unavailable("the playwright package (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        _unavailable(f"Chromium at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    _installed()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGUMENTS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def phone(browser: Any) -> AsyncIterator[Any]:
    """A fresh page (own cookies) the size of a small phone's screen."""
    context = await browser.new_context(viewport=PHONE, locale="id-ID")
    try:
        yield await context.new_page()
    finally:
        await context.close()


@asynccontextmanager
async def served(app: Litestar) -> AsyncIterator[str]:
    """``app`` on a free port of 127.0.0.1 (its lifespan starting Gotong's runtime); yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, lifespan="on", forwarded_allow_ips="127.0.0.1"
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(600):
            if server.started or task.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)
