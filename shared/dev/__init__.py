"""Embedded PostgreSQL and NATS JetStream for `gotong dev` and the tests: from Python wheels, no Docker."""

from shared.dev.nats import EmbeddedNats, NatsCluster, start_nats, start_nats_cluster
from shared.dev.postgres import EmbeddedPostgres, start_postgres
from shared.dev.processes import ServerInUse, free_port

__all__ = [
    "EmbeddedNats",
    "EmbeddedPostgres",
    "NatsCluster",
    "ServerInUse",
    "free_port",
    "start_nats",
    "start_nats_cluster",
    "start_postgres",
]
