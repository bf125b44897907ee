"""Which errors are outages of PostgreSQL or NATS (retried, a 503) and which are faults of the work itself."""

from __future__ import annotations

import asyncpg
import msgspec
import nats.errors
import nats.js.errors
import pytest
from asyncpg.exceptions import _base as asyncpg_base

from shared.outages import is_outage

pytestmark = pytest.mark.unit

OUTAGES = [
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
    asyncpg.exceptions.SerializationError("could not serialize access"),
    asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
    asyncpg.exceptions.LockNotAvailableError("could not obtain lock"),
    asyncpg.exceptions.IdleInTransactionSessionTimeoutError("terminating connection due to idle-in-transaction"),
    asyncpg.InterfaceError("cannot perform operation: connection is closed"),
    asyncpg_base.InternalClientError("cannot switch to state 15; another operation (2) is in progress"),
    ConnectionRefusedError(111, "Connect call failed"),
    ConnectionResetError(),
    TimeoutError(),
    nats.errors.TimeoutError(),
    nats.errors.ConnectionClosedError(),
    nats.errors.NoServersError(),
    nats.errors.NoRespondersError(),
    nats.js.errors.ServiceUnavailableError(),
]

FAULTS_OF_THE_WORK = [
    asyncpg.exceptions.StringDataRightTruncationError("value too long for type character varying(12)"),
    asyncpg.exceptions.NumericValueOutOfRangeError("bigint out of range"),
    asyncpg.exceptions.UniqueViolationError("duplicate key value violates unique constraint"),
    asyncpg.exceptions.NotNullViolationError("null value in column"),
    asyncpg.exceptions.UndefinedColumnError("column does not exist"),
    asyncpg_base.DataError("invalid input for query argument $1"),
    msgspec.ValidationError("Expected `int`, got `str`"),
    msgspec.DecodeError("malformed JSON"),
    KeyError("amount"),
    ValueError("a deposit of 13 is refused"),
    nats.js.errors.NotFoundError(),
]


@pytest.mark.parametrize("error", OUTAGES, ids=lambda e: type(e).__name__)
def test_a_lost_unreachable_or_busy_server_is_an_outage(error: Exception) -> None:
    assert is_outage(error)


@pytest.mark.parametrize("error", FAULTS_OF_THE_WORK, ids=lambda e: type(e).__name__)
def test_bad_data_a_violated_constraint_or_a_bug_is_not(error: Exception) -> None:
    assert not is_outage(error)


def test_an_error_raised_from_an_outage_is_one_too_but_not_one_merely_raised_during_it() -> None:
    lost = ConnectionResetError("connection reset by peer")
    caused = RuntimeError("could not finish the batch")
    caused.__cause__ = lost
    assert is_outage(caused)
    later = ValueError("a deposit of 13 is refused")
    later.__context__ = lost  # raised in an except block that had handled the outage
    assert not is_outage(later)
