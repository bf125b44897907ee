"""What the weavers are told on WhatsApp: their production leads' contacts, and the messages Gotong sent them.

Gotong's notifications service sends through the WhatsApp number it is configured with, or (with none) through
its log channel; either way every message is in the delivery log, which this prints. With ``--whatsapp-url`` the
demo also serves a stand-in Graph API at that address and prints each message as it arrives there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO
from urllib.parse import urlsplit

from demo.client import DemoError, Json, Marketplace, Progress, eventually, in_parallel
from demo.seed import Supplier
from demo.whatsapp import FakeGraphApi, Sent

Say = Callable[[str], None]
SHOWN = ("request", "request_resent", "lot_rejected", "shipped")
"""The kinds of message shown in full, one each."""


def phone_of(supplier: Supplier) -> str:
    """A made-up Indonesian mobile number per weaver (+62 812 …), stable across the demo's run."""
    return f"+62812{int(supplier.producer.nib[-8:]):08d}"


async def add_contacts(market: Marketplace, weavers: list[Supplier]) -> None:
    """Each weaver's owner adds its production lead, who agreed to WhatsApp messages on the onboarding form."""

    async def add(weaver: Supplier) -> None:
        body = {
            "name": weaver.producer.contact,
            "role": "production lead",
            "phone": phone_of(weaver),
            "language": "id",
            "opted_in": True,
            "opt_in_evidence": "ticked the WhatsApp box on the cooperative's onboarding form",
        }

        path = f"/v1/msmes/{weaver.msme_id}/contacts"
        positions: list[int] = []

        async def added() -> bool:
            response = await market.call("POST", path, weaver.person, body, accept=(201, 404))
            if response.status_code == 201:  # 404: notifications has not yet heard of the MSME from catalog
                positions.append(response.json()["position"])
            return bool(positions)

        await eventually(added, f"notifications to know {weaver.producer.name}", 30)
        # read back: a request sent before notifications has the contact in its contacts would go to no one
        await market.get(f"{path}?wait_for_position={positions[0]}", weaver.person)

    await in_parallel(weavers, add, Progress("WhatsApp contacts added", len(weavers)))


def serve_fake(url: str, out: TextIO) -> FakeGraphApi:
    """A stand-in Graph API at ``url`` that prints each message it receives."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.port:
        raise DemoError(f"--whatsapp-url must be http://host:port of a free local port, got {url!r}")

    def show(sent: Sent) -> None:
        buttons = " ".join(f"[{title or payload.split(':')[0]}]" for payload, title in sent.buttons)
        print(f"    WhatsApp → {sent.to} ({sent.kind}): {sent.text}  {buttons}".rstrip(), file=out, flush=True)

    fake = FakeGraphApi(port=parts.port, host=parts.hostname or "127.0.0.1", on_message=show)
    fake.start()
    return fake


async def show_messages(market: Marketplace, weavers: list[Supplier], say: Say) -> None:
    """The delivery log of the weavers' contacts: how many messages of each kind, and a few of them in full."""
    kinds: dict[str, int] = {}
    statuses: dict[str, int] = {}
    examples: dict[str, Json] = {}
    for weaver in weavers:
        items = await market.all(f"/v1/deliveries?msme_id={weaver.msme_id}", weaver.person)
        for item in items:
            kinds[item["kind"]] = kinds.get(item["kind"], 0) + 1
            statuses[item["status"]] = statuses.get(item["status"], 0) + 1
            examples.setdefault(item["kind"], item)
    if not kinds:
        say("no messages were sent (is the notifications service running?)")
        return
    say("by kind: " + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items())))
    say("by status: " + ", ".join(f"{status} {n}" for status, n in sorted(statuses.items())))
    for item in (examples[kind] for kind in SHOWN if kind in examples):
        text = item["text"].replace("\n", " ")
        say(f"  to {item['phone']} ({item['kind']}, {item['status']}): {text}")
