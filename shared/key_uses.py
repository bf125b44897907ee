"""When each API key was last used, in whichever service: a JetStream key-value bucket every service writes and
accounts reads.

Each service checks keys against its own identity mirror and notes a key's use there at most once a minute per
key and process (``IdentityMirror.used``); the same note goes to this bucket (``<PREFIX>_KEY_USES``, one entry
per key, the latest note wins), so accounts' list of keys shows the latest use across services without reading
any other service's tables. The time is as good as the notes: to the minute. A note is written in the
background, never delaying the request; one that meets an outage of NATS is dropped (the key's next use after
it notes again), and accounts then shows what it last heard.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime

from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyNotFoundError
from nats.js.kv import KeyValue

from shared import bus
from shared.config import Settings

log = logging.getLogger("gotong.identities")
MAX_PENDING = 1_000  # notes in flight at once; beyond that a note is dropped rather than queued


class KeyUses:
    """The bucket of keys' latest uses."""

    def __init__(self, bucket: KeyValue) -> None:
        self._bucket = bucket
        self._pending: set[asyncio.Task[None]] = set()

    @classmethod
    async def open(cls, js: JetStreamContext, settings: Settings) -> KeyUses:
        """The bucket of this deployment (its NATS prefix), made if it is not there yet."""
        name = bus.stream_name(settings.nats_prefix, "key-uses")

        async def opened() -> KeyValue:
            try:
                return await js.key_value(name)
            except BucketNotFoundError:
                return await js.create_key_value(bucket=name, history=1, replicas=settings.stream_replicas)

        return cls(await bus.when_ready(opened, f"bucket {name}"))

    def note(self, key_id: str, at: datetime) -> None:
        """Record that the key was used at ``at``, in the background."""
        if len(self._pending) >= MAX_PENDING:
            return
        task = asyncio.create_task(self._put(key_id, at), name=f"key-use:{key_id}")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _put(self, key_id: str, at: datetime) -> None:
        try:
            await self._bucket.put(key_id, at.isoformat().encode())
        except Exception as error:  # an outage: the key's next use notes it again
            log.debug("could not note the use of key %s: %s", key_id, error)

    async def latest(self, key_ids: Sequence[str]) -> dict[str, datetime | None]:
        """When each key was last used, as noted; None for a key never used."""
        found = await asyncio.gather(*(self._get(key_id) for key_id in key_ids))
        return dict(zip(key_ids, found, strict=True))

    async def _get(self, key_id: str) -> datetime | None:
        try:
            entry = await self._bucket.get(key_id)
        except KeyNotFoundError:
            return None
        return datetime.fromisoformat(entry.value.decode()) if entry.value else None

    async def settled(self) -> None:
        """Wait for the notes in flight (for an orderly stop, and for tests)."""
        if self._pending:
            await asyncio.wait(list(self._pending), timeout=5)
