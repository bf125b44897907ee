"""Who is looking at the phone page: a session (a phone number signed in by code) or a visitor not signed in yet.

The session token is random (256 bits) and kept only as its SHA-256; its cookie is HttpOnly, SameSite=Lax,
limited to /m/ and Secure when the request came over TLS (uvicorn takes the scheme from X-Forwarded-Proto only
when the proxy is one of GOTONG_TRUSTED_PROXIES). Every form carries a CSRF token: the session's own, or, before
signing in, a random one that a cookie of the same value backs (double submit, for the sign-in forms).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from litestar.exceptions import PermissionDeniedException

from services.notifications.phone.messages import Language, language
from shared.service import ServiceContext

LIFETIME = timedelta(hours=12)
SESSION_COOKIE = "gotong_m"
FORM_COOKIE = "gotong_m_form"
LANGUAGE_COOKIE = "gotong_m_lang"
PATH = "/m"


@dataclass(frozen=True)
class Session:
    token_hash: bytes
    phone: str
    csrf_token: str
    language: Language


@dataclass
class Visitor:
    """The session, if any, the language to speak and the CSRF token forms carry; ``cookies`` to set on the
    response (a new form token for a visitor who had none)."""

    session: Session | None
    language: Language
    csrf_token: str
    cookies: list[Cookie]

    @property
    def phone(self) -> str | None:
        return self.session.phone if self.session else None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def cookie(request: Request[Any, Any, Any], name: str, value: str, max_age: int | None = None) -> Cookie:
    return Cookie(
        key=name, value=value, path=PATH, max_age=max_age, httponly=True, samesite="lax",
        secure=request.url.scheme == "https",
    )  # fmt: skip


def forget(request: Request[Any, Any, Any], name: str) -> Cookie:
    return cookie(request, name, "", max_age=0)


async def visitor(ctx: ServiceContext, request: Request[Any, Any, Any]) -> Visitor:
    token = request.cookies.get(SESSION_COOKIE)
    session = await _session(ctx, token) if token else None
    if session is not None:
        return Visitor(session, session.language, session.csrf_token, [])
    chosen = language(request.cookies.get(LANGUAGE_COOKIE))
    form_token = request.cookies.get(FORM_COOKIE) or ""
    if len(form_token) < 32 or len(form_token) > 64:
        form_token = secrets.token_urlsafe(32)
        return Visitor(None, chosen, form_token, [cookie(request, FORM_COOKIE, form_token)])
    return Visitor(None, chosen, form_token, [])


async def _session(ctx: ServiceContext, token: str) -> Session | None:
    row = await ctx.pool.fetchrow(
        "SELECT token_hash, phone, csrf_token, language FROM notifications.sessions "
        "WHERE token_hash = $1 AND expires_at > $2",
        _digest(token),
        ctx.clock.now(),
    )
    if row is None:
        return None
    return Session(row["token_hash"], row["phone"], row["csrf_token"], language(row["language"]))


def check_form(visitor: Visitor, form: dict[str, str]) -> None:
    """A form must carry the visitor's CSRF token; anything else is refused (403)."""
    sent = form.get("csrf", "")
    if not hmac.compare_digest(sent.encode(), visitor.csrf_token.encode()):
        raise PermissionDeniedException("the form's CSRF token is missing or wrong")


async def open_session(ctx: ServiceContext, phone: str, chosen: Language | None) -> tuple[str, Session]:
    """A new session for ``phone`` in ``chosen`` language, or else its contacts' preferred one; returns the token
    for the cookie. Expired sessions are deleted on the way."""
    now = ctx.clock.now()
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    async with ctx.pool.acquire() as connection, connection.transaction():
        preferred = await connection.fetchval(
            "SELECT language FROM notifications.contacts WHERE phone = $1 AND opted_in AND NOT removed "
            "ORDER BY contact_id LIMIT 1",
            phone,
        )
        session = Session(_digest(token), phone, csrf, chosen or language(preferred))
        await connection.execute("DELETE FROM notifications.sessions WHERE expires_at <= $1", now)
        await connection.execute(
            "INSERT INTO notifications.sessions (token_hash, phone, csrf_token, language, created_at, expires_at) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            session.token_hash, phone, csrf, session.language, now, now + LIFETIME,
        )  # fmt: skip
    return token, session


async def close_session(ctx: ServiceContext, session: Session) -> None:
    await ctx.pool.execute("DELETE FROM notifications.sessions WHERE token_hash = $1", session.token_hash)


async def speak(ctx: ServiceContext, session: Session, chosen: Language) -> None:
    await ctx.pool.execute(
        "UPDATE notifications.sessions SET language = $2 WHERE token_hash = $1", session.token_hash, chosen
    )
