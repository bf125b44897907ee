"""Driving the MSMEs' phone page in tests: contacts to sign in as, sign-in codes and links read from the messages
that reached the fake WhatsApp (the outbox masks them once sent), forms."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from shared.auth import Role
from tests.support.app import token
from tests.support.waiting import eventually
from tests.support.whatsapp import FakeWhatsApp, Sent

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_CODE = re.compile(r"\b([0-9]{6})\b")
_LINK = re.compile(r"https?://[^/\s]+(/m/sign-in/link/[A-Za-z0-9_-]+)")


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


async def latest_sign_in(pool: asyncpg.Pool, whatsapp: FakeWhatsApp, phone: str) -> Sent:
    """The sign-in message last queued for ``phone``, once it reached WhatsApp."""
    delivery_id = await pool.fetchval(
        "SELECT id::text FROM notifications.deliveries WHERE phone = $1 AND kind = 'sign_in_code' "
        "ORDER BY created_at DESC, id DESC LIMIT 1",
        phone,
    )
    assert delivery_id, f"no sign-in code was queued for {phone}"

    def arrived() -> list[Sent]:
        return [sent for sent in whatsapp.messages_to(phone) if sent.delivery_id == delivery_id]

    async def sent() -> bool:
        return bool(arrived())

    await eventually(sent)
    return arrived()[-1]


def code_in(sent: Sent) -> str:
    """The code as the contact reads it: the copy-code button's (a template), or in the text."""
    copied = [code for code, title in sent.buttons if title == "copy code"]
    found = copied[0] if copied else (_CODE.search(sent.text) or [None, None])[1]
    assert found, sent.body
    return str(found)


def link_in(sent: Sent) -> str | None:
    """The path of the sign-in link in the message, if it has one (only a text message can)."""
    found = _LINK.search(sent.text)
    return found.group(1) if found else None


async def latest_code(pool: asyncpg.Pool, whatsapp: FakeWhatsApp, phone: str) -> str:
    """The sign-in code last sent to ``phone``, as the contact would read it in the message."""
    return code_in(await latest_sign_in(pool, whatsapp, phone))


async def ask_code(client: httpx.AsyncClient, phone: str, **headers: str) -> httpx.Response:
    page = await client.get("/m/sign-in")
    return await client.post("/m/sign-in", data={"csrf": csrf_of(page.text), "phone": phone}, headers=headers)


async def sign_in(client: httpx.AsyncClient, pool: asyncpg.Pool, whatsapp: FakeWhatsApp, phone: str) -> httpx.Response:
    """Ask for a code, read it from the message WhatsApp got and enter it; the answer redirects into the page."""
    asked = await ask_code(client, phone)
    assert asked.status_code == 200, (asked.status_code, asked.text[-600:])
    code = await latest_code(pool, whatsapp, phone)
    return await client.post("/m/sign-in/code", data={"csrf": csrf_of(asked.text), "phone": phone, "code": code})
