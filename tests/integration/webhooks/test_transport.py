"""The sender resolves the URL's host itself, checks every address, and connects to an address it checked:
a name is judged by what it resolves to when the message goes, not when it was subscribed."""

from __future__ import annotations

import ipaddress

import pytest

from services.webhooks.domain.addresses import AddressPolicy, IPAddress
from services.webhooks.transport import Sender
from tests.support.receiver import running_receiver

pytestmark = pytest.mark.integration

LOOPBACK = AddressPolicy.of(("127.0.0.0/8",), allow_http=True)
NAME = "erp.rotterdam-home.test"  # resolvable only through the test's resolver


def resolving(*answers: str) -> tuple[list[str], object]:
    """A resolver giving ``answers`` in turn (the last one again after that), and the names it was asked."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[IPAddress]:
        asked.append(host)
        return [ipaddress.ip_address(answers[min(len(asked), len(answers)) - 1])]

    return asked, resolve


async def test_the_connection_goes_to_the_address_checked_under_the_urls_host_name() -> None:
    async with running_receiver() as receiver:
        asked, resolve = resolving("127.0.0.1")
        sender = Sender(LOOPBACK, resolve)  # type: ignore[arg-type]
        try:
            outcome = await sender.post(f"http://{NAME}:{receiver.port}/in", {"webhook-id": "msg_1"}, b"{}")
        finally:
            await sender.close()
        assert outcome.status == 204 and outcome.error is None, outcome
        assert asked == [NAME]
        [got] = receiver.received
        assert got.host == f"{NAME}:{receiver.port}" and got.message_id == "msg_1"


async def test_a_name_that_now_resolves_to_a_private_address_is_not_connected_to() -> None:
    async with running_receiver() as receiver:
        _, rebinding = resolving("10.9.8.7")
        sender = Sender(LOOPBACK, rebinding)  # type: ignore[arg-type]
        try:
            outcome = await sender.post(f"http://{NAME}:{receiver.port}/in", {}, b"{}")
        finally:
            await sender.close()
        assert outcome.status is None and outcome.error is not None
        assert outcome.error.startswith(f"refused: {NAME} resolves to 10.9.8.7 is a private address")
        assert receiver.received == []


async def test_a_redirect_is_not_followed_and_counts_as_a_failure() -> None:
    async with running_receiver() as receiver:
        receiver.answer = 307
        sender = Sender(LOOPBACK)
        try:
            outcome = await sender.post(receiver.url(), {}, b"{}")
        finally:
            await sender.close()
        assert outcome.status == 307 and [r.path for r in receiver.received] == ["/hooks"]
