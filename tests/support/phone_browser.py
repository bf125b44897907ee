"""A phone-sized page of the session's headless Chromium (``tests/support/browser.py``), and Gotong served over
real HTTP (uvicorn on a free port in the test's event loop) for it to browse."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import uvicorn
from litestar import Litestar
from playwright.async_api import Browser, Page

from shared.cli import KEEP_ALIVE
from shared.dev import free_port

PHONE = {"width": 360, "height": 740}


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Page]:
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
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="on",
            forwarded_allow_ips="127.0.0.1",
            timeout_keep_alive=KEEP_ALIVE,
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
