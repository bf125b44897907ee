"""A message to an MSME's contact, as the outbox keeps it: text, reply buttons, a link, a template to fall back on."""

from __future__ import annotations

from typing import Annotated

import msgspec

ButtonId = Annotated[str, msgspec.Meta(max_length=256)]
ButtonTitle = Annotated[str, msgspec.Meta(max_length=20)]


class ReplyButton(msgspec.Struct, frozen=True, kw_only=True):
    """A quick-reply button: WhatsApp sends ``id`` back when it is tapped; ``title`` is what the MSME sees."""

    id: ButtonId
    title: ButtonTitle


class TemplateCall(msgspec.Struct, frozen=True, kw_only=True):
    """An approved template, used outside the 24-hour window: its body parameters and button payloads."""

    name: str
    language: str
    parameters: list[str] = msgspec.field(default_factory=list)
    button_payloads: list[str] = msgspec.field(default_factory=list)


class OutboundMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A message in the recipient's language: text, up to three reply buttons and a link to the phone page."""

    text: str
    buttons: list[ReplyButton] = msgspec.field(default_factory=list)
    link: str | None = None
    template: TemplateCall | None = None

    def __post_init__(self) -> None:
        if len(self.buttons) > 3:
            raise ValueError("a message carries at most three reply buttons")

    def full_text(self) -> str:
        """The text with its link on a line of its own."""
        return f"{self.text}\n\n{self.link}" if self.link else self.text


MESSAGE = msgspec.json.Decoder(OutboundMessage)
