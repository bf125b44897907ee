"""Channels that carry messages to MSMEs: WhatsApp (the Cloud API) and the log (development)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from services.notifications.domain.outbound import OutboundMessage


@dataclass(frozen=True)
class Outgoing:
    """One delivery to send: to ``phone``; ``in_window`` when the contact wrote to us in the last 24 hours."""

    delivery_id: UUID
    phone: str
    language: str
    message: OutboundMessage
    in_window: bool


class SendFailed(Exception):
    """The channel did not take the message; ``permanent`` when trying again cannot help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Channel(Protocol):
    name: str

    async def send(self, outgoing: Outgoing) -> str:
        """Send it; returns the provider's message id, or raises ``SendFailed``."""
        ...

    async def close(self) -> None: ...
