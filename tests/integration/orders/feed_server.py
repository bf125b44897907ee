"""The orders service as its own server process, for tests of its live feed: ``uvicorn --factory ...:create``."""

from __future__ import annotations

import os

from litestar import Litestar

from services.orders import feed
from services.orders.app import service
from shared.config import Settings
from shared.http import create_app
from shared.logs import configure_logging


def create() -> Litestar:
    settings = Settings.from_env()
    configure_logging(settings.log_level, as_json=False)
    if heartbeat := os.environ.get("GOTONG_TEST_FEED_HEARTBEAT_SECONDS"):
        feed.HEARTBEAT_SECONDS = float(heartbeat)
    return create_app(settings, [service])
