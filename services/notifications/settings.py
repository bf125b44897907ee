"""Notifications' settings, read once from ``GOTONG_*`` variables when the service starts.

With no WhatsApp number configured, messages go to the log channel (written to the log and marked sent), which
is what development and ``gotong demo`` without ``--whatsapp-url`` use.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from shared.config import SettingsError
from shared.eventstore import EventStorage

GRAPH_API = "https://graph.facebook.com/v21.0"
_DURATION = re.compile(r"^(\d+)\s*(s|min|m|h|d)?$")
_UNITS = {"s": 1, "min": 60, "m": 60, "h": 3600, "d": 86400}
_REQUIRED = ("PHONE_NUMBER_ID", "TOKEN", "APP_SECRET", "VERIFY_TOKEN")


@dataclass(frozen=True)
class WhatsAppSettings:
    """A WhatsApp Business number on the Cloud API, and the names of the approved templates it uses."""

    api_url: str
    phone_number_id: str
    token: str
    app_secret: str
    verify_token: str
    templates: dict[str, str] = field(default_factory=dict)
    """Template name per message kind (``request``, ``reminder``, ``update``), defaults in ``TEMPLATES``."""
    template_languages: dict[str, str] = field(default_factory=lambda: {"id": "id", "en": "en"})
    """The template language code per contact language."""


TEMPLATES = {"request": "gotong_allocation_request", "reminder": "gotong_request_reminder", "update": "gotong_update"}


@dataclass(frozen=True)
class NotificationSettings:
    whatsapp: WhatsAppSettings | None
    public_url: str
    reminder_before: timedelta = timedelta(hours=12)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, port: int = 8000) -> NotificationSettings:
        env = os.environ if env is None else env
        return cls(
            whatsapp=_whatsapp(env),
            public_url=_url(env, "GOTONG_PUBLIC_URL", f"http://127.0.0.1:{port}"),
            reminder_before=_duration(env, "GOTONG_REMINDER_BEFORE", timedelta(hours=12)),
        )

    def request_link(self, request_id: object) -> str:
        return f"{self.public_url}/m/requests/{request_id}"


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    raw = (env.get(name) or "").strip() or default
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{name} must be an http(s) URL such as https://gotong.example.id, got {raw!r}")
    return raw.rstrip("/")


def _duration(env: Mapping[str, str], name: str, default: timedelta) -> timedelta:
    """``12h``, ``90min``, ``45s``, ``2d`` or a number of seconds."""
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    matched = _DURATION.match(raw)
    if not matched or int(matched[1]) < 1:
        raise SettingsError(f"{name} must be a duration such as 12h, 90min, 45s or 2d (at least 1 s), got {raw!r}")
    return timedelta(seconds=int(matched[1]) * _UNITS[matched[2] or "s"])


def _whatsapp(env: Mapping[str, str]) -> WhatsAppSettings | None:
    values = {key: (env.get(f"GOTONG_WHATSAPP_{key}") or "").strip() for key in _REQUIRED}
    if not any(values.values()):
        return None
    missing = [f"GOTONG_WHATSAPP_{key}" for key, value in values.items() if not value]
    if missing:
        raise SettingsError(f"a WhatsApp number needs {', '.join(missing)} too (or none of GOTONG_WHATSAPP_* at all)")
    if not values["PHONE_NUMBER_ID"].isdigit():
        raise SettingsError(
            f"GOTONG_WHATSAPP_PHONE_NUMBER_ID must be the number's id (digits) from Meta's WhatsApp Manager, "
            f"not the phone number; got {values['PHONE_NUMBER_ID']!r}"
        )
    templates = dict(TEMPLATES)
    for kind in TEMPLATES:
        name = (env.get(f"GOTONG_WHATSAPP_TEMPLATE_{kind.upper()}") or "").strip()
        if name:
            if not re.fullmatch(r"[a-z0-9_]{1,512}", name):
                raise SettingsError(f"GOTONG_WHATSAPP_TEMPLATE_{kind.upper()} must be lowercase letters, digits, _")
            templates[kind] = name
    languages = {"id": "id", "en": "en"}
    for language in languages:
        code = (env.get(f"GOTONG_WHATSAPP_TEMPLATE_LANGUAGE_{language.upper()}") or "").strip()
        if code:
            if not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", code):
                raise SettingsError(
                    f"GOTONG_WHATSAPP_TEMPLATE_LANGUAGE_{language.upper()} must be a template language code "
                    f"such as id or en_US, got {code!r}"
                )
            languages[language] = code
    return WhatsAppSettings(
        api_url=_url(env, "GOTONG_WHATSAPP_API_URL", GRAPH_API),
        phone_number_id=values["PHONE_NUMBER_ID"],
        token=values["TOKEN"],
        app_secret=values["APP_SECRET"],
        verify_token=values["VERIFY_TOKEN"],
        templates=templates,
        template_languages=languages,
    )


_loaded: WeakKeyDictionary[EventStorage, NotificationSettings] = WeakKeyDictionary()


def settings_of(store: EventStorage) -> NotificationSettings:
    """The settings of the running service whose event store this is, read from the environment the first time
    they are needed (routes, handlers and workers all reach the store)."""
    found = _loaded.get(store)
    if found is None:
        port = (os.environ.get("GOTONG_PORT") or "8000").strip()
        found = _loaded[store] = NotificationSettings.from_env(port=int(port) if port.isdigit() else 8000)
    return found
