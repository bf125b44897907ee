"""The buyer organisation decider: a foreign buyer organisation registered once, with its contacts and users."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import msgspec

from events.orders import BuyerRegistered, Contact
from shared.kernel.countries import is_country
from shared.kernel.decider import Decider
from shared.kernel.errors import Conflict, InvalidInput


def buyer_stream(org: str) -> str:
    return f"buyer-{org}"


class Buyer(msgspec.Struct, frozen=True, kw_only=True):
    """A buyer organisation; ``org`` is empty until it registers."""

    org: str = ""
    name: str = ""
    country: str = ""
    contacts: tuple[Contact, ...] = ()
    users: tuple[str, ...] = ()

    @property
    def registered(self) -> bool:
        return bool(self.org)


@dataclass(frozen=True)
class RegisterBuyer:
    org: str
    name: str
    country: str
    contacts: tuple[Contact, ...]
    registered_by: str
    at: datetime


def decide(command: RegisterBuyer, buyer: Buyer) -> Sequence[BuyerRegistered]:
    if not command.contacts:
        raise InvalidInput.of("contacts", "name at least one contact")
    if buyer.registered:
        raise Conflict(f"buyer organisation {buyer.org} is already registered", problem="buyer-already-registered")
    if not is_country(command.country):
        raise InvalidInput.of("country", f"{command.country!r} is not an ISO 3166-1 alpha-2 country code")
    return [
        BuyerRegistered(
            org=command.org,
            name=command.name,
            country=command.country,
            contacts=list(command.contacts),
            users=[command.registered_by],
            registered_by=command.registered_by,
            at=command.at,
        )
    ]


def require_registered(buyer: Buyer, org: str) -> None:
    """Only a registered buyer organisation may request orders."""
    if not buyer.registered:
        raise Conflict(
            f"organisation {org} is not a registered buyer; register it with POST /v1/buyers first",
            problem="buyer-not-registered",
        )


def evolve(buyer: Buyer, event: BuyerRegistered) -> Buyer:
    return Buyer(
        org=event.org,
        name=event.name,
        country=event.country,
        contacts=tuple(event.contacts),
        users=tuple(event.users),
    )


BUYER = Decider[RegisterBuyer, Buyer, BuyerRegistered]("buyer", Buyer(), decide, evolve)
