"""A three-node JetStream cluster: losing the stream leader loses no event and duplicates none."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from shared import bus
from shared.dev import NatsCluster, start_nats_cluster
from shared.runtime import Runtime
from tests.conftest import Servers
from tests.integration.test_bus import seen
from tests.support.app import settings_for
from tests.support.audit_service import audit_service
from tests.support.ledger import Deposited, Opened
from tests.support.ledger_service import ledger_service
from tests.support.waiting import eventually

pytestmark = pytest.mark.reliability


@pytest.fixture
def cluster() -> Iterator[NatsCluster]:
    base = Path(tempfile.mkdtemp(prefix="gotong-cluster-"))
    cluster = start_nats_cluster(base, size=3)
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


async def test_killing_the_stream_leader_loses_and_duplicates_nothing(
    cluster: NatsCluster, database_url: str, servers: Servers, nats_prefix: str, pool: asyncpg.Pool
) -> None:
    settings = replace(settings_for(database_url, ",".join(cluster.urls), nats_prefix), stream_replicas=3)
    runtime = Runtime(settings, [ledger_service, audit_service])
    await runtime.start()
    try:
        store = runtime.contexts["ledger"].store
        await store.append("cluster", "account", 0, [Opened(owner="x")])

        async def count(n: int) -> bool:
            return len(await seen(pool)) >= n

        await eventually(lambda: count(1), timeout=30)
        client = await bus.connect(settings.nats_url or "")
        try:
            info = await client.jetstream(timeout=2).stream_info(bus.stream_name(nats_prefix, "ledger"))
            leader = info.cluster.leader if info.cluster else None
        finally:
            await client.close()
        assert leader is not None
        victim = next(node for node in cluster.nodes if node.server_name == leader)
        await asyncio.to_thread(victim.stop)
        for version in range(1, 41):
            await store.append("cluster", "account", version, [Deposited(amount=100 + version)])
        await eventually(lambda: count(41), timeout=90)
        assert [v for _, v in await seen(pool)] == list(range(1, 42))
    finally:
        await runtime.stop()
