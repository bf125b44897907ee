"""Bad WhatsApp settings stop `gotong serve notifications` and `gotong dev` before they start anything: exit 2
and one line naming the variable, as for every other setting (not a failure at the first message)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Servers
from tests.e2e.processes import CLI, gotong_env
from tests.support.app import SECRET
from tests.support.whatsapp import FakeWhatsApp

pytestmark = pytest.mark.integration
STARTS_IN = 60.0
"""Seconds the command may take to refuse; one that started serving instead would run until killed."""


def gotong(arguments: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CLI, *arguments], env=gotong_env(env), cwd=cwd, capture_output=True, text=True,
        timeout=STARTS_IN,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"GOTONG_WHATSAPP_PHONE_NUMBER_ID": "+62 812 3456 7890"}, "GOTONG_WHATSAPP_PHONE_NUMBER_ID must be"),
        ({"GOTONG_WHATSAPP_APP_SECRET": ""}, "needs GOTONG_WHATSAPP_APP_SECRET too"),
        ({"GOTONG_WHATSAPP_TEMPLATE_SIGN_IN": "Kode Masuk"}, "GOTONG_WHATSAPP_TEMPLATE_SIGN_IN must be"),
        ({"GOTONG_WHATSAPP_API_URL": "graph.facebook.com"}, "GOTONG_WHATSAPP_API_URL must be an http(s) URL"),
        ({"GOTONG_REMINDER_BEFORE": "soon"}, "GOTONG_REMINDER_BEFORE must be a duration"),
    ],
)
def test_gotong_serve_notifications_refuses_bad_whatsapp_settings(
    servers: Servers, database_url: str, whatsapp: FakeWhatsApp, tmp_path: Path, bad: dict[str, str], named: str
) -> None:
    """The servers are there: with good settings the same command would serve."""
    env = whatsapp.env() | {
        "GOTONG_DATABASE_URL": database_url, "GOTONG_NATS_URL": servers.nats_url, "GOTONG_JWT_SECRET": SECRET,
        "GOTONG_NATS_PREFIX": "refused", "GOTONG_PORT": "0",
    }  # fmt: skip
    refused = gotong(["serve", "notifications"], env | bad, tmp_path)
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert refused.stderr.startswith("gotong: ") and named in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr and "serving" not in refused.stderr
    assert whatsapp.sent == []


def test_gotong_dev_refuses_them_before_it_starts_postgresql_or_nats(whatsapp: FakeWhatsApp, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = whatsapp.env() | {"GOTONG_WHATSAPP_PHONE_NUMBER_ID": "whatsapp-number", "GOTONG_DATA_DIR": str(data)}
    refused = gotong(["dev", "--port", "0"], env, tmp_path)
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert "GOTONG_WHATSAPP_PHONE_NUMBER_ID must be the number's id" in refused.stderr
    assert not data.exists() or not any(data.iterdir()), "nothing was started, so nothing was written"
