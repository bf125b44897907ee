"""The log channel: development and demos without a WhatsApp number. Each message is written to the log (and
kept in the delivery log) and counts as sent."""

from __future__ import annotations

import logging

from services.notifications.channels import Outgoing

log = logging.getLogger("gotong.notifications.messages")


class LogChannel:
    name = "log"

    async def send(self, outgoing: Outgoing) -> str:
        message = outgoing.message
        buttons = " | ".join(f"[{b.title}]" for b in message.buttons)
        log.info(
            "message to %s (%s): %s%s",
            outgoing.phone,
            outgoing.language,
            message.full_text(),
            f"\n{buttons}" if buttons else "",
            extra={"fields": {"delivery_id": str(outgoing.delivery_id), "to": outgoing.phone}},
        )
        return f"log-{outgoing.delivery_id}"

    async def close(self) -> None:
        return None
