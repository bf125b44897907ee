"""An allocation request: answered once, in time; a partial accept keeps the earliest months; releases
give back the latest months first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from events.common import Money
from events.pooling import (
    AllocationAccepted,
    AllocationExpired,
    AllocationReleased,
    LineQuantity,
    MonthQuantity,
)
from services.pooling.domain.allocation_request import (
    REQUEST,
    AcceptAllocation,
    DeclineAllocation,
    ExpireAllocation,
    ReleaseAllocation,
    RequestAllocation,
    WithdrawAllocation,
    request_stream,
)
from services.pooling.domain.capacity_ledger import capacity_stream
from services.pooling.domain.pool import pool_stream
from services.pooling.domain.request_plan import earliest, split_release, taken
from shared.kernel.errors import Conflict, InvalidInput, NotFound
from tests.support.given import history, invalid_fields, then, then_raises

pytestmark = pytest.mark.unit

AT = datetime(2027, 1, 4, 9, tzinfo=UTC)
EXPIRES = AT + timedelta(hours=48)
LINE = (LineQuantity(order_id=UUID(int=1), line_id=UUID(int=2), quantity=600),)


def months(**quantities: int) -> tuple[MonthQuantity, ...]:
    return tuple(MonthQuantity(month=m.replace("_", "-").lstrip("m"), quantity=q) for m, q in quantities.items())


PLAN = months(m2027_02=300, m2027_03=300)


def sent() -> RequestAllocation:
    return RequestAllocation(
        request_id=UUID(int=10), pool_id=UUID(int=11), aggregator_org="nusantara-trading", proposal_id=UUID(int=12),
        msme_id=UUID(int=13), product_id=UUID(int=14), hs_code="460219", standard_id=UUID(int=15),
        standard_version=1, unit="PCE", plan=PLAN, unit_price=Money(amount=Decimal("4.10"), currency="USD"),
        lines=LINE, expires_at=EXPIRES, reason="cheapest", at=AT,
    )  # fmt: skip


SENT = history(REQUEST, sent())
ACCEPTED = history(REQUEST, sent(), AcceptAllocation(600, LINE, "msme:siti", AT))


def test_a_partial_accept_keeps_the_earliest_months() -> None:
    (accepted,) = then(REQUEST, SENT, AcceptAllocation(400, LINE, "msme:siti", AT))
    assert isinstance(accepted, AllocationAccepted)
    assert (accepted.requested, accepted.quantity, accepted.shortfall) == (600, 400, 200)
    assert accepted.plan == list(months(m2027_02=300, m2027_03=100))


def test_a_request_is_answered_once() -> None:
    answered = history(REQUEST, sent(), DeclineAllocation("no rattan", "msme:siti", AT))
    refused = then_raises(REQUEST, answered, AcceptAllocation(600, LINE, "msme:siti", AT), Conflict)
    assert refused.problem == "illegal-transition"
    assert then(REQUEST, answered, WithdrawAllocation("pool full", AT)) == []
    assert then(REQUEST, answered, ExpireAllocation(EXPIRES)) == []


def test_after_its_deadline_a_request_cannot_be_answered_and_expires() -> None:
    refused = then_raises(REQUEST, SENT, AcceptAllocation(600, LINE, "msme:siti", EXPIRES), Conflict)
    assert refused.problem == "request-expired"
    assert then(REQUEST, SENT, ExpireAllocation(EXPIRES - timedelta(seconds=1))) == []
    (expired,) = then(REQUEST, SENT, ExpireAllocation(EXPIRES))
    assert isinstance(expired, AllocationExpired) and expired.lines == list(LINE)


def test_an_accept_must_be_between_one_and_the_requested_quantity() -> None:
    for quantity in (0, 601):
        assert invalid_fields(REQUEST, SENT, AcceptAllocation(quantity, LINE, "msme:siti", AT)) == {"quantity"}


def test_releasing_gives_back_the_latest_months_first_or_one_named_month() -> None:
    (released,) = then(REQUEST, ACCEPTED, ReleaseAllocation(350, None, "order cancelled", (), AT))
    assert isinstance(released, AllocationReleased)
    assert released.released_plan == list(months(m2027_02=50, m2027_03=300)) and released.remaining == 250
    after = REQUEST.fold([*ACCEPTED, released])
    assert after.accepted_plan == months(m2027_02=250) and after.accepted == 250
    (february,) = then(REQUEST, ACCEPTED, ReleaseAllocation(500, "2027-02", "capacity lowered", (), AT))
    assert february.released_plan == list(months(m2027_02=300))
    assert then(REQUEST, SENT, ReleaseAllocation(10, None, "nothing accepted yet", (), AT)) == []


def test_a_request_is_sent_once_and_an_unknown_one_cannot_be_answered() -> None:
    then_raises(REQUEST, SENT, sent(), Conflict)
    then_raises(REQUEST, [], DeclineAllocation("no", "msme:siti", AT), NotFound)


def test_plans_split_by_month() -> None:
    assert earliest(PLAN, 450) == months(m2027_02=300, m2027_03=150)
    assert split_release(PLAN, 100, None) == (months(m2027_03=100), months(m2027_02=300, m2027_03=200))
    assert split_release(PLAN, 100, "2027-04") == ((), PLAN)


@pytest.mark.parametrize(("asked", "requested", "expected"), [(None, 400, 400), (1, 400, 1), (400, 400, 400)])
def test_an_msme_takes_what_it_names_or_all_that_was_requested(
    asked: int | None, requested: int, expected: int
) -> None:
    assert taken(asked, requested) == expected


@pytest.mark.parametrize("asked", [0, -1, 401])
def test_an_msme_takes_between_1_and_what_was_requested(asked: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        taken(asked, 400)
    assert "between 1 and the 400 requested" in str(refused.value)


@pytest.mark.parametrize("low, high", [(UUID(int=0), UUID(int=2**128 - 1)), (UUID(int=2**128 - 1), UUID(int=0))])
def test_a_request_and_its_ledgers_sort_before_any_pool(low: UUID, high: UUID) -> None:
    """Answering commands lock the request and its ledgers first and the pool last: that is the one sorted
    order every command locks in only while those streams sort before every pool's."""
    locked_first = [request_stream(low), request_stream(high), capacity_stream(low, "2027-02")]
    locked_first.append(capacity_stream(high, "9999-12"))
    assert max(locked_first) < min(pool_stream(low), pool_stream(high))
