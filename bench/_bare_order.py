"""The floor for reading one order over HTTP: a bare Litestar route on uvicorn that reads the order's row from
orders' read model by primary key and answers the bytes the real route answered for it (captured beforehand) —
no authentication, no decoding, no progress query, no encoding.

    python bench/_bare_order.py PORT DATABASE_URL BODY_FILE
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from uuid import UUID

import asyncpg
import uvicorn
from litestar import Litestar, get
from litestar.exceptions import NotFoundException
from litestar.response import Response

PORT, DATABASE_URL, BODY_FILE = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
BODY = BODY_FILE.read_bytes()
state: dict[str, asyncpg.Pool] = {}


@asynccontextmanager
async def lifespan(_: Litestar) -> AsyncIterator[None]:
    state["pool"] = await asyncpg.create_pool(DATABASE_URL, min_size=2, max_size=5)
    yield
    await state["pool"].close()


@get("/orders/{order_id:uuid}")
async def order(order_id: UUID) -> Response[bytes]:
    if await state["pool"].fetchval("SELECT version FROM orders.orders WHERE id = $1", order_id) is None:
        raise NotFoundException()
    return Response(BODY, media_type="application/json")


@get("/ready")
async def ready() -> str:
    return "ok"


if __name__ == "__main__":
    uvicorn.run(Litestar([order, ready], lifespan=[lifespan]), host="127.0.0.1", port=PORT, log_config=None)
