"""The MSMEs' phone page (``/m/``): server-rendered HTML in Bahasa Indonesia and English that works without
JavaScript, where an MSME's contact signs in with a one-time code and answers allocation requests."""

from __future__ import annotations

from litestar import Router

from services.notifications.phone.inbox import (
    answer_request,
    capacity_page,
    inbox_page,
    lots_page,
    request_page,
    unknown_page,
)
from services.notifications.phone.pages import TEMPLATES, page_error
from services.notifications.phone.sign_in import check_code, choose_language, send_code, sign_in_page, sign_out
from services.notifications.phone.tables import MIGRATION

PAGES = Router(
    path="/m",
    route_handlers=[
        sign_in_page,
        send_code,
        check_code,
        sign_out,
        choose_language,
        inbox_page,
        request_page,
        answer_request,
        capacity_page,
        lots_page,
        unknown_page,
    ],
    exception_handlers={Exception: page_error},
    include_in_schema=False,
)
"""Every route of the page, each error shown as a page of its own."""

__all__ = ["MIGRATION", "PAGES", "TEMPLATES"]
