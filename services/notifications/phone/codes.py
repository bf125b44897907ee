"""One-time sign-in codes: six digits sent over the contact's channel, valid 10 minutes, used once, five tries.

A code is kept only as its scrypt hash (salted with the code's id): a stolen table would take hours of work per
code to read, and every code is worthless after 10 minutes. Whether or not the phone belongs to a contact, a
code row is written and counted against the limits and the answer is the same, so the page never tells who is
registered; only a contact's code is queued for sending.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from services.notifications.deliveries import OutboundMessage, enqueue
from services.notifications.phone.messages import Messages, language
from shared.eventstore import Connection
from shared.kernel.ids import new_id
from shared.service import ServiceContext

VALIDITY = timedelta(minutes=10)
TRIES = 5
"""Wrong codes a code survives; the sixth try fails even with the right one."""
WINDOW = timedelta(minutes=15)
PER_PHONE = 3
"""Codes a phone number may ask for within WINDOW."""
PER_ADDRESS = 10
"""Codes a client address may ask for within WINDOW: more than a phone, as mobile carriers put many phones
behind one address."""
KEPT = timedelta(days=1)
"""How long a code row stays for the limits and for looking into abuse, then is deleted."""


class TooManyCodes(Exception):
    """The phone or the client address asked for too many codes; ``wait`` is when the next one may be asked."""

    def __init__(self, wait: timedelta) -> None:
        super().__init__(f"too many sign-in codes; wait {wait}")
        self.wait = wait


@dataclass(frozen=True)
class Recipient:
    """The contact a code goes to, shaped as ``deliveries.enqueue`` wants it."""

    contact_id: UUID
    msme_id: UUID
    phone: str
    channel: str
    language: str


def _hash(code_id: UUID, code: str) -> bytes:
    return hashlib.scrypt(code.encode(), salt=code_id.bytes, n=2**14, r=8, p=1, dklen=32)


async def hashed(code_id: UUID, code: str) -> bytes:
    """The code's hash, computed off the event loop (it takes tens of milliseconds on purpose)."""
    return await asyncio.to_thread(_hash, code_id, code)


async def issue(ctx: ServiceContext, phone: str, address: str) -> None:
    """Make a code for ``phone`` and, if it is an opted-in contact's, queue it; TooManyCodes over the limits."""
    now = ctx.clock.now()
    code_id, code = new_id(), f"{secrets.randbelow(1_000_000):06d}"
    code_hash = await hashed(code_id, code)
    async with ctx.pool.acquire() as connection, connection.transaction():
        for key in sorted((f"sign-in:phone:{phone}", f"sign-in:address:{address}")):
            await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)
        await _within_limits(connection, phone, address, now)
        await connection.execute(
            "INSERT INTO notifications.sign_in_codes (id, phone, address, code_hash, expires_at, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            code_id, phone, address, code_hash, now + VALIDITY, now,
        )  # fmt: skip
        await connection.execute("DELETE FROM notifications.sign_in_codes WHERE created_at < $1", now - KEPT)
        contact = await connection.fetchrow(
            "SELECT contact_id, msme_id, phone, channel, language FROM notifications.contacts "
            "WHERE phone = $1 AND opted_in AND NOT removed ORDER BY contact_id LIMIT 1",
            phone,
        )
        if contact is None:
            return
        recipient = Recipient(**dict(contact))
        text = Messages(language(recipient.language))("sign_in.code_message", code=code)
        await enqueue(
            connection, trigger=f"sign-in:{code_id}", contact=recipient, kind="sign_in_code",
            message=OutboundMessage(text=text), at=now,
        )  # fmt: skip


async def _within_limits(connection: Connection, phone: str, address: str, now: datetime) -> None:
    since = now - WINDOW
    for column, value, limit in (("phone", phone, PER_PHONE), ("address", address, PER_ADDRESS)):
        recent = await connection.fetch(
            f"SELECT created_at FROM notifications.sign_in_codes WHERE {column} = $1 AND created_at > $2 "
            "ORDER BY created_at DESC LIMIT $3",
            value, since, limit,
        )  # fmt: skip
        if len(recent) >= limit:
            raise TooManyCodes(recent[-1]["created_at"] + WINDOW - now)


async def redeem(ctx: ServiceContext, phone: str, code: str) -> bool:
    """Whether ``code`` is the phone's latest code, still valid, unused and within its tries; if so it is used up.

    Every check of a code counts as a try, right or wrong, so a code can be tried at most TRIES times.
    """
    now = ctx.clock.now()
    async with ctx.pool.acquire() as connection, connection.transaction():
        row = await connection.fetchrow(
            "SELECT id, code_hash, attempts FROM notifications.sign_in_codes "
            "WHERE phone = $1 AND used_at IS NULL AND expires_at > $2 ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
            phone,
            now,
        )
        if row is None or row["attempts"] >= TRIES:
            return False
        matches = hmac.compare_digest(await hashed(row["id"], code), row["code_hash"])
        await connection.execute(
            "UPDATE notifications.sign_in_codes SET attempts = attempts + 1, used_at = $2 WHERE id = $1",
            row["id"],
            now if matches else None,
        )
        return matches
