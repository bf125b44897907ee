"""Driving the MSMEs' phone page in tests: contacts to sign in as, codes read from the delivery outbox, forms."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from shared.auth import Role
from tests.support.app import token
from tests.support.waiting import eventually

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_CODE = re.compile(r"\b([0-9]{6})\b")


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


async def add_contact(
    client: Any, pool: asyncpg.Pool, msme_id: UUID, org: str, phone: str, *, language: str = "id", opted_in: bool = True
) -> str:
    """Add an (opted-in) contact through the contacts API as the MSME's owner, once its projection has it."""
    body: dict[str, Any] = {"name": "Ibu Sari", "role": "owner", "phone": phone, "language": language}
    if opted_in:
        body |= {"opted_in": True, "opt_in_evidence": "agreed in person at onboarding"}
    response = await client.post(f"/v1/msmes/{msme_id}/contacts", json=body, headers=token(Role.MSME, org=org))
    assert response.status_code == 201, response.text
    contact_id = str(response.json()["id"])

    async def projected() -> bool:
        return bool(await pool.fetchval("SELECT count(*) FROM notifications.contacts WHERE phone = $1", phone))

    await eventually(projected)
    return contact_id


async def latest_code(pool: asyncpg.Pool, phone: str) -> str:
    """The sign-in code last queued for ``phone``, as the contact would read it in the message."""
    text = await pool.fetchval(
        "SELECT message->>'text' FROM notifications.deliveries WHERE phone = $1 AND kind = 'sign_in_code' "
        "ORDER BY created_at DESC, id DESC LIMIT 1",
        phone,
    )
    assert text, f"no sign-in code was queued for {phone}"
    found = _CODE.search(text)
    assert found, text
    return found.group(1)


async def ask_code(client: httpx.AsyncClient, phone: str, **headers: str) -> httpx.Response:
    page = await client.get("/m/sign-in")
    return await client.post("/m/sign-in", data={"csrf": csrf_of(page.text), "phone": phone}, headers=headers)


async def sign_in(client: httpx.AsyncClient, pool: asyncpg.Pool, phone: str) -> httpx.Response:
    """Ask for a code, read it from the outbox and enter it; the answer redirects into the page."""
    asked = await ask_code(client, phone)
    assert asked.status_code == 200, (asked.status_code, asked.text[-600:])
    code = await latest_code(pool, phone)
    return await client.post("/m/sign-in/code", data={"csrf": csrf_of(asked.text), "phone": phone, "code": code})
