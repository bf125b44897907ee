"""Signing in by a one-time code, signing out and choosing the language."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from services.notifications.phone import codes, forms
from services.notifications.phone.forms import Invalid
from services.notifications.phone.messages import LANGUAGES, language
from services.notifications.phone.pages import render, see
from services.notifications.phone.sessions import (
    FORM_COOKIE,
    LANGUAGE_COOKIE,
    LIFETIME,
    SESSION_COOKIE,
    check_form,
    close_session,
    cookie,
    forget,
    open_session,
    speak,
    visitor,
)
from shared.api import Context

_YEAR = 365 * 24 * 3600


async def posted(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The form's fields (the first value of each); a body that is not a form has none, so its CSRF check fails."""
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {}
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


@get("/sign-in", include_in_schema=False)
async def sign_in_page(ctx: Context, request: Request[Any, Any, Any]) -> Template | Redirect:
    """Ask for the phone number (or go on to the inbox when signed in already)."""
    who = await visitor(ctx, request)
    next_page = forms.next_page(request.query_params.get("next"))
    if who.session is not None:
        return see(next_page)
    return render(request, who, "sign_in.html", next=next_page)


@post("/sign-in", include_in_schema=False, status_code=200)
async def send_code(ctx: Context, request: Request[Any, Any, Any]) -> Template:
    """Send a code if the number is a contact's; the answer is the same either way."""
    who = await visitor(ctx, request)
    form = await posted(request)
    check_form(who, form)
    next_page = forms.next_page(form.get("next"))
    raw = form.get("phone", "")[:64]
    try:
        phone = forms.phone_number(raw)
    except Invalid as invalid:
        return render(request, who, "sign_in.html", 422, next=next_page, phone=raw, error=invalid)
    address = request.client.host if request.client else "unknown"
    try:
        await codes.issue(ctx, phone, address)
    except codes.TooManyCodes as refused:
        minutes = max(1, -(-int(refused.wait.total_seconds()) // 60))
        error = Invalid("sign_in.too_many", minutes=minutes)
        page = render(request, who, "sign_in.html", 429, next=next_page, phone=raw, error=error)
        page.headers["Retry-After"] = str(minutes * 60)
        return page
    return render(request, who, "code.html", phone=phone, next=next_page)


@post("/sign-in/code", include_in_schema=False, status_code=200)
async def check_code(ctx: Context, request: Request[Any, Any, Any]) -> Template | Redirect:
    """The code from the message: right → a session and on to the page asked for; wrong → try again."""
    who = await visitor(ctx, request)
    form = await posted(request)
    check_form(who, form)
    next_page = forms.next_page(form.get("next"))
    try:
        phone = forms.phone_number(form.get("phone", "")[:64])
        code = forms.sign_in_code(form.get("code", "")[:32])
    except Invalid as invalid:
        return render(request, who, "code.html", 422, phone=form.get("phone", "")[:64], next=next_page, error=invalid)
    if not await codes.redeem(ctx, phone, code):
        error = Invalid("sign_in.wrong_code")
        return render(request, who, "code.html", 422, phone=phone, next=next_page, error=error)
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    token, _ = await open_session(ctx, phone, language(chosen) if chosen in LANGUAGES else None)
    redirect = see(next_page)
    redirect.cookies.extend(
        [cookie(request, SESSION_COOKIE, token, int(LIFETIME.total_seconds())), forget(request, FORM_COOKIE)]
    )
    return redirect


@post("/sign-out", include_in_schema=False)
async def sign_out(ctx: Context, request: Request[Any, Any, Any]) -> Redirect:
    who = await visitor(ctx, request)
    check_form(who, await posted(request))
    if who.session is not None:
        await close_session(ctx, who.session)
    redirect = see("/m/sign-in")
    redirect.cookies.append(forget(request, SESSION_COOKIE))
    return redirect


@post("/language", include_in_schema=False)
async def choose_language(ctx: Context, request: Request[Any, Any, Any]) -> Redirect:
    """Switch between Bahasa Indonesia and English, for the session and (before signing in) for this browser."""
    who = await visitor(ctx, request)
    form = await posted(request)
    check_form(who, form)
    chosen = language(form.get("lang"))
    if who.session is not None:
        await speak(ctx, who.session, chosen)
    redirect = see(forms.next_page(form.get("next")), who)
    redirect.cookies.append(cookie(request, LANGUAGE_COOKIE, chosen, _YEAR))
    return redirect
