"""Rendering the phone page: templates with the visitor's language and CSRF token, redirects, and every error as
an HTML page in the visitor's language (never a JSON problem, never a stack trace)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.exceptions import HTTPException, NotFoundException
from litestar.response import Redirect, Template

from services.notifications.phone.messages import LANGUAGES, Messages, language
from services.notifications.phone.sessions import LANGUAGE_COOKIE, Visitor
from shared.kernel.errors import GotongError
from shared.outages import is_outage

TEMPLATES = Path(__file__).parent / "templates"
log = logging.getLogger("gotong.phone")


def render(
    request: Request[Any, Any, Any], visitor: Visitor, template: str, status: int = 200, **context: Any
) -> Template:
    """``template`` for ``visitor``: ``t`` speaks its language, ``csrf`` goes into every form."""
    request.state.phone_language = visitor.language
    other = next(lang for lang in LANGUAGES if lang != visitor.language)
    return Template(
        template_name=template,
        context={
            "t": Messages(visitor.language),
            "lang": visitor.language,
            "other_lang": other,
            "csrf": visitor.csrf_token,
            "signed_in": visitor.session is not None,
            "here": request.url.path,
            **context,
        },
        status_code=status,
        cookies=visitor.cookies,
    )


def to_sign_in(request: Request[Any, Any, Any]) -> Redirect:
    """Not signed in (or the session ended): sign in, then come back here."""
    return Redirect(f"/m/sign-in?next={quote(request.url.path, safe='/')}", status_code=303)


def see(path: str, visitor: Visitor | None = None) -> Redirect:
    """POST, redirect, GET: the answer to a form is a page to load."""
    return Redirect(path, status_code=303, cookies=visitor.cookies if visitor else None)


def _status(error: Exception) -> int:
    if isinstance(error, HTTPException):
        return error.status_code
    if isinstance(error, GotongError):
        return error.status
    return 503 if is_outage(error) else 500


def page_error(request: Request[Any, Any, Any], error: Exception) -> Template:
    """Any error of the phone page as a short page in the visitor's language."""
    status = _status(error)
    if status >= 500:
        log.error("phone page error %s on %s %s", status, request.method, request.url.path, exc_info=error)
    spoken = getattr(request.state, "phone_language", None) or language(request.cookies.get(LANGUAGE_COOKIE))
    key = f"error.{status}" if status in (403, 404, 429) else "error.500"
    t = Messages(language(spoken))
    headers = dict(error.headers or {}) if isinstance(error, HTTPException) else {}
    if status == 503:
        headers["Retry-After"] = "2"
    return Template(
        template_name="error.html",
        context={"t": t, "lang": t.lang, "message": t(key), "signed_in": False},
        status_code=status if status in (403, 404, 429, 503) else (400 if status < 500 else 500),
        headers=headers,
    )


def not_found() -> NotFoundException:
    return NotFoundException("no such page")
