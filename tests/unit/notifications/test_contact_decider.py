"""The contact aggregate: consent is recorded with its evidence, opting out is honoured, removal is final."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from events.notifications import ContactAdded, ContactOptedIn, ContactOptedOut, ContactRemoved, ContactUpdated
from services.notifications.domain.contacts import (
    CONTACT,
    AddContact,
    ContactChanges,
    ContactDetails,
    OptIn,
    OptOut,
    RemoveContact,
    UpdateContact,
    normal_phone,
)
from shared.kernel.errors import Conflict, NotFound
from tests.support.given import history, invalid_fields, then, then_raises

pytestmark = pytest.mark.unit

AT = datetime(2027, 1, 4, 9, tzinfo=UTC)
CONTACT_ID = UUID("01900000-0000-7000-8000-000000000001")
MSME_ID = UUID("01900000-0000-7000-8000-000000000002")
SLAMET = ContactDetails(name="Pak Slamet", role="owner", phone="+6281234567890")


def add(details: ContactDetails = SLAMET, opted_in: bool = True, evidence: str | None = "signed form") -> AddContact:
    return AddContact(contact_id=CONTACT_ID, msme_id=MSME_ID, details=details, opted_in=opted_in,
                      evidence=evidence, by="msme:owner", at=AT)  # fmt: skip


def test_a_contact_added_with_consent_is_opted_in_with_the_evidence() -> None:
    added, consent = then(CONTACT, [], add())
    assert isinstance(added, ContactAdded) and added.language == "id" and added.channel == "whatsapp"
    assert isinstance(consent, ContactOptedIn) and consent.via == "api" and consent.evidence == "signed form"


def test_a_contact_added_without_consent_is_not_messaged_until_it_opts_in() -> None:
    (added,) = then(CONTACT, [], add(opted_in=False, evidence=None))
    assert isinstance(added, ContactAdded)
    assert not CONTACT.fold([added]).opted_in


def test_bad_details_name_each_field() -> None:
    bad = ContactDetails(name=" ", role="", phone="0812-3456", channel="email")
    assert invalid_fields(CONTACT, [], add(bad, evidence=" ")) == {"name", "role", "phone", "email", "opt_in_evidence"}


def test_phone_numbers_are_normalised_to_e164() -> None:
    assert normal_phone("+62 812-3456-7890") == "+6281234567890"
    assert normal_phone("(+62) 812.3456.7890") == "+6281234567890"


def test_opting_out_is_honoured_and_opting_out_twice_changes_nothing() -> None:
    given = history(CONTACT, add())
    (out,) = then(CONTACT, given, OptOut(via="whatsapp", at=AT))
    assert isinstance(out, ContactOptedOut) and out.phone == "+6281234567890"
    assert then(CONTACT, [*given, out], OptOut(via="api", at=AT)) == []
    assert then(CONTACT, given, OptIn(via="api", evidence="again", at=AT)) == [], "already opted in"


def test_an_update_names_what_changed_and_keeps_the_rest() -> None:
    given = history(CONTACT, add())
    (updated,) = then(CONTACT, given, UpdateContact(changes=ContactChanges(language="en", role="owner"), at=AT))
    assert isinstance(updated, ContactUpdated) and updated.changed == ["language"]
    assert (updated.name, updated.phone, updated.language) == ("Pak Slamet", "+6281234567890", "en")
    assert then(CONTACT, given, UpdateContact(changes=ContactChanges(), at=AT)) == []


def test_a_removed_contact_is_gone() -> None:
    given = history(CONTACT, add(), RemoveContact(by="msme:owner", at=AT))
    assert isinstance(given[-1], ContactRemoved)
    then_raises(CONTACT, given, OptIn(via="api", evidence="x", at=AT), NotFound)
    then_raises(CONTACT, given, UpdateContact(changes=ContactChanges(name="x"), at=AT), NotFound)
    then_raises(CONTACT, [], OptOut(via="api", at=AT), NotFound)
    then_raises(CONTACT, history(CONTACT, add()), add(), Conflict)
