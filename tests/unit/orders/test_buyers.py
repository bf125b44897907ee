"""Registering a buyer organisation."""

from __future__ import annotations

import pytest

from events.orders import BuyerRegistered, Contact
from services.orders.domain.buyer import BUYER, RegisterBuyer
from shared.errors import Conflict, InvalidInput
from tests.unit.orders.fixtures import NOW

pytestmark = pytest.mark.unit

REGISTER = RegisterBuyer(
    org="rotterdam-home",
    name="Rotterdam Home B.V.",
    country="NL",
    contacts=(Contact(name="Ana de Vries", email="ana@rotterdam-home.example"),),
    registered_by="ana",
    at=NOW,
)


def test_a_buyer_organisation_registers_once_with_its_registering_user() -> None:
    (registered,) = BUYER.decide(REGISTER, BUYER.initial_state)
    assert isinstance(registered, BuyerRegistered) and registered.users == ["ana"]
    buyer = BUYER.fold([registered])
    assert buyer.registered and buyer.country == "NL" and buyer.contacts[0].name == "Ana de Vries"
    with pytest.raises(Conflict) as refused:
        BUYER.decide(REGISTER, buyer)
    assert refused.value.problem == "buyer-already-registered"


def test_the_country_must_be_iso_3166() -> None:
    from dataclasses import replace

    with pytest.raises(InvalidInput) as refused:
        BUYER.decide(replace(REGISTER, country="UK"), BUYER.initial_state)
    assert refused.value.errors[0].field == "country"
