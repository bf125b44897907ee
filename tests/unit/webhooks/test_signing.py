"""Gotong's signatures verify with the independent ``standardwebhooks`` implementation, with either secret
during a rotation, and with neither after the body or the id changes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.webhooks.domain.signing import key_of, secret_text, signature, signed_headers

pytestmark = pytest.mark.unit

OLD, NEW = bytes(range(32)), bytes(range(100, 132))
BODY = b'{"type":"order.confirmed","timestamp":"2027-03-01T09:00:00Z","data":{}}'


def now() -> int:
    return int(datetime.now(UTC).timestamp())


def test_a_secret_is_whsec_and_base64_of_its_key() -> None:
    secret = secret_text(NEW)
    assert secret == "whsec_" + base64.b64encode(NEW).decode() and key_of(secret) == NEW
    with pytest.raises(ValueError):
        key_of("whsec_not base64!")


def test_a_signature_verifies_with_standardwebhooks() -> None:
    headers = signed_headers([NEW], "msg_1", now(), BODY)
    assert Webhook(secret_text(NEW)).verify(BODY, headers)["type"] == "order.confirmed"
    assert headers["webhook-signature"] == signature(NEW, "msg_1", int(headers["webhook-timestamp"]), BODY)


def test_during_a_rotation_either_secret_verifies() -> None:
    headers = signed_headers([NEW, OLD], "msg_2", now(), BODY)
    assert headers["webhook-signature"].count("v1,") == 2
    for key in (NEW, OLD):
        Webhook(secret_text(key)).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret_text(bytes(32))).verify(BODY, headers)


def test_a_changed_body_or_id_does_not_verify() -> None:
    headers = signed_headers([NEW], "msg_3", now(), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret_text(NEW)).verify(BODY.replace(b"confirmed", b"cancelled"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret_text(NEW)).verify(BODY, {**headers, "webhook-id": "msg_4"})
