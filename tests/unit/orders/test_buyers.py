"""Registering a buyer organisation, and ordering only as one."""

from __future__ import annotations

from dataclasses import replace

import pytest

from events.orders import BuyerRegistered, Contact
from services.orders.domain.buyer import BUYER, RegisterBuyer, require_registered
from shared.kernel.errors import Conflict
from tests.support.given import invalid_fields, then, then_raises
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
    (registered,) = then(BUYER, [], REGISTER)
    assert isinstance(registered, BuyerRegistered) and registered.users == ["ana"]
    buyer = BUYER.fold([registered])
    assert buyer.registered and buyer.country == "NL" and buyer.contacts[0].name == "Ana de Vries"
    assert then_raises(BUYER, [registered], REGISTER, Conflict).problem == "buyer-already-registered"


def test_the_country_must_be_iso_3166() -> None:
    assert invalid_fields(BUYER, [], replace(REGISTER, country="UK")) == {"country"}


def test_a_buyer_organisation_names_at_least_one_contact_even_when_already_registered() -> None:
    assert invalid_fields(BUYER, [], replace(REGISTER, contacts=())) == {"contacts"}
    assert invalid_fields(BUYER, then(BUYER, [], REGISTER), replace(REGISTER, contacts=())) == {"contacts"}


def test_only_a_registered_buyer_organisation_may_order() -> None:
    with pytest.raises(Conflict) as refused:
        require_registered(BUYER.initial_state, "rotterdam-home")
    assert refused.value.problem == "buyer-not-registered"
    assert "POST /v1/buyers" in refused.value.detail
    require_registered(BUYER.fold(then(BUYER, [], REGISTER)), "rotterdam-home")
