"""Webhooks' settings from the environment: allowed networks, plain http, when to disable."""

from __future__ import annotations

import pytest

from shared.config import EVERY_ADDRESS, Settings, SettingsError

pytestmark = pytest.mark.unit


def test_by_default_only_public_https_endpoints_and_a_day_of_failures() -> None:
    settings = Settings.from_env({})
    assert settings.webhooks_allow_private == () and settings.webhooks_allow_http is False
    assert (settings.webhooks_disable_after_hours, settings.webhooks_disable_after_failures) == (24, 0)


@pytest.mark.parametrize(
    ("raw", "networks"),
    [
        ("on", EVERY_ADDRESS),
        ("1", EVERY_ADDRESS),
        ("off", ()),
        ("127.0.0.0/8, ::1", ("127.0.0.0/8", "::1/128")),
        ("10.1.2.3/8", ("10.0.0.0/8",)),
    ],
)
def test_an_operator_allows_networks(raw: str, networks: tuple[str, ...]) -> None:
    assert Settings.from_env({"GOTONG_WEBHOOKS_ALLOW_PRIVATE": raw}).webhooks_allow_private == networks


@pytest.mark.parametrize(
    "env",
    [
        {"GOTONG_WEBHOOKS_ALLOW_PRIVATE": "localhost"},
        {"GOTONG_WEBHOOKS_ALLOW_HTTP": "maybe"},
        {"GOTONG_WEBHOOKS_DISABLE_AFTER_HOURS": "0"},
        {"GOTONG_WEBHOOKS_DISABLE_AFTER_FAILURES": "-1"},
    ],
)
def test_a_value_gotong_cannot_use_is_refused_naming_its_variable(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match=next(iter(env))):
        Settings.from_env(env)
