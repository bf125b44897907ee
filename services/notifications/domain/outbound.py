"""A message to an MSME's contact, as the outbox keeps it: text, reply buttons, a link, a template to fall back on,
and the credentials it carries (a sign-in code, a sign-in link's token), masked once it has gone."""

from __future__ import annotations

from typing import Annotated

import msgspec

ButtonId = Annotated[str, msgspec.Meta(max_length=256)]
ButtonTitle = Annotated[str, msgspec.Meta(max_length=20)]
MASK = "••••••"
"""What a credential reads as in a message kept after sending (the outbox row, the delivery log)."""


class ReplyButton(msgspec.Struct, frozen=True, kw_only=True):
    """A quick-reply button: WhatsApp sends ``id`` back when it is tapped; ``title`` is what the MSME sees."""

    id: ButtonId
    title: ButtonTitle


class TemplateCall(msgspec.Struct, frozen=True, kw_only=True):
    """An approved template, used outside the 24-hour window: its body parameters and button payloads, or for an
    authentication template the one-time code its copy-code button copies."""

    name: str
    language: str
    parameters: list[str] = msgspec.field(default_factory=list)
    button_payloads: list[str] = msgspec.field(default_factory=list)
    copy_code: str | None = None


class OutboundMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A message in the recipient's language: text, up to three reply buttons and a link to the phone page."""

    text: str
    buttons: list[ReplyButton] = msgspec.field(default_factory=list)
    link: str | None = None
    template: TemplateCall | None = None
    secrets: list[str] = msgspec.field(default_factory=list)
    """Credentials in the message (a sign-in code, a sign-in link's token): masked once it is sent or has failed
    for good, and never shown in the delivery log."""

    def __post_init__(self) -> None:
        if len(self.buttons) > 3:
            raise ValueError("a message carries at most three reply buttons")

    def full_text(self) -> str:
        """The text with its link on a line of its own."""
        return f"{self.text}\n\n{self.link}" if self.link else self.text

    def redacted(self) -> OutboundMessage:
        """The message with each of its secrets replaced by MASK (the longest first: a code may be part of a token)."""
        if not self.secrets:
            return self
        secrets = sorted((s for s in self.secrets if s), key=len, reverse=True)

        def mask(text: str) -> str:
            for secret in secrets:
                text = text.replace(secret, MASK)
            return text

        template = self.template
        if template is not None:
            template = msgspec.structs.replace(
                template,
                parameters=[mask(p) for p in template.parameters],
                copy_code=mask(template.copy_code) if template.copy_code else template.copy_code,
            )
        link = mask(self.link) if self.link else self.link
        return msgspec.structs.replace(self, text=mask(self.text), link=link, template=template, secrets=[])


MESSAGE = msgspec.json.Decoder(OutboundMessage)
