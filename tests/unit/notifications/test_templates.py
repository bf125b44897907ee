"""The templates shipped for operators to submit match what Gotong sends: names, languages, parameters, buttons."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from services.notifications.domain import messages
from services.notifications.settings import TEMPLATES
from tests.unit.notifications.test_messages import FACTS, LINK

pytestmark = pytest.mark.unit
SHIPPED = Path(__file__).parents[3] / "services" / "notifications" / "channels" / "whatsapp_templates.json"


def shipped() -> dict[tuple[str, str], dict[str, object]]:
    templates = json.loads(SHIPPED.read_text())["templates"]
    return {(t["name"], t["language"]): t for t in templates}


def _parameters(template: dict[str, object]) -> int:
    body = next(c for c in template["components"] if c["type"] == "BODY")  # type: ignore[attr-defined]
    return len(set(re.findall(r"\{\{(\d+)\}\}", body["text"])))


def _buttons(template: dict[str, object]) -> list[str]:
    found = [c for c in template["components"] if c["type"] == "BUTTONS"]  # type: ignore[attr-defined]
    return [b["text"] for b in found[0]["buttons"]] if found else []


@pytest.mark.parametrize("language", ["id", "en"])
def test_every_template_gotong_sends_is_shipped_with_matching_parameters_and_buttons(language: str) -> None:
    templates = shipped()
    built = {
        "request": messages.request_message(FACTS, language, link=LINK, template=TEMPLATES["request"]),
        "reminder": messages.reminder_message(FACTS, language, link=LINK, template=TEMPLATES["reminder"]),
        "update": messages.update_message("Diterima 300 dari 500.", language, template=TEMPLATES["update"]),
    }
    for kind, message in built.items():
        call = message.template
        assert call is not None
        template = templates[(TEMPLATES[kind], language)]
        assert template["category"] == "UTILITY"
        assert _parameters(template) == len(call.parameters), kind
        assert _buttons(template) == [b.title for b in message.buttons], kind
        assert len(call.button_payloads) == len(_buttons(template))
