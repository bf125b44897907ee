"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

A secret is ``whsec_`` + base64 of its key bytes. A message's signature is ``v1,`` + base64 of
HMAC-SHA256(key, ``"{webhook-id}.{webhook-timestamp}.{body}"``); while an old secret is still valid after a
rotation, the message carries a signature by each, space-separated, so a receiver holding either verifies it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"
KEY_BYTES = 32

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


def secret_text(key: bytes) -> str:
    """How a key is shown (once) to its subscriber: ``whsec_<base64>``."""
    return SECRET_PREFIX + base64.b64encode(key).decode()


def key_of(secret: str) -> bytes:
    """The key bytes of a ``whsec_`` secret."""
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("a webhook secret is whsec_ followed by base64") from error
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(keys: Sequence[bytes], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of a message signed with each of ``keys`` (newest first)."""
    if not keys:
        raise ValueError("a message is signed with at least one key")
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: " ".join(signature(key, message_id, timestamp, body) for key in keys),
    }
