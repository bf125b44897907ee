"""The templates shipped for operators to submit match what Gotong sends: names, languages, parameters, buttons."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from demo.whatsapp import approved, template_problem
from services.notifications.channels import Outgoing
from services.notifications.channels.whatsapp import message_payload
from services.notifications.domain import messages
from services.notifications.settings import TEMPLATES
from tests.unit.notifications.test_messages import FACTS, LINK, RID

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
    assert set(built) | {"sign_in"} == set(TEMPLATES)
    for kind, message in built.items():
        call = message.template
        assert call is not None
        template = templates[(TEMPLATES[kind], language)]
        assert template["category"] == "UTILITY"
        assert _parameters(template) == len(call.parameters), kind
        assert _buttons(template) == [b.title for b in message.buttons], kind
        assert len(call.button_payloads) == len(_buttons(template))


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_sign_in_template_is_an_authentication_template_with_a_copy_code_button(language: str) -> None:
    template = shipped()[(TEMPLATES["sign_in"], language)]
    call = messages.sign_in_message(
        language, code="142857", link=LINK, token="t" * 43, template=TEMPLATES["sign_in"]
    ).template
    assert call is not None and call.parameters == ["142857"] and call.copy_code == "142857"
    assert template["category"] == "AUTHENTICATION" and template["message_send_ttl_seconds"] == 600
    components = {c["type"]: c for c in template["components"]}  # type: ignore[attr-defined]
    assert "text" not in components["BODY"], "Meta writes an authentication template's text"
    assert components["BODY"]["add_security_recommendation"] is True
    assert components["FOOTER"] == {"type": "FOOTER", "code_expiration_minutes": 10}
    (button,) = components["BUTTONS"]["buttons"]
    assert (button["type"], button["otp_type"]) == ("OTP", "COPY_CODE") and len(button["text"]) <= 25


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_fake_graph_api_takes_what_gotong_sends_outside_the_window_and_refuses_a_wrong_fill(
    language: str,
) -> None:
    templates = approved(SHIPPED)
    built = [
        messages.request_message(FACTS, language, link=LINK, template=TEMPLATES["request"]),
        messages.reminder_message(FACTS, language, link=LINK, template=TEMPLATES["reminder"]),
        messages.update_message("Diterima 300 dari 500.", language, template=TEMPLATES["update"]),
        messages.sign_in_message(language, code="142857", link=LINK, token="t" * 43, template=TEMPLATES["sign_in"]),
    ]
    for message in built:
        payload = message_payload(Outgoing(RID, "+6281234567001", language, message, in_window=False), {})
        assert payload["type"] == "template" and template_problem(payload["template"], templates) is None
        emptied = payload["template"] | {"components": payload["template"]["components"][1:]}
        assert template_problem(emptied, templates) is not None
    unknown = {"name": "gotong_allocation_request", "language": {"code": "fr"}, "components": []}
    refused = template_problem(unknown, templates)
    assert refused is not None and refused[0] == 404 and refused[1]["error"]["code"] == 132001
