"""Accounts' reactions to every service's events: the audit trail.

Accounts follows every installed service's stream, its own included (``Service.follows``: the services are
found through the entry points, so one added later is followed with no change here). Of each event it reads
only the envelope the bus carries (type, stream, time, and the metadata saying who did it for which
organisation), never the body, so a new event type of any service is on the trail without accounts knowing it.
An event whose metadata names no actor or organisation (one a service's own saga or deadline caused) is no one's
act and stays off the trail.
"""

from __future__ import annotations

from events.accounts import CODEC as ACCOUNTS
from events.base import Event, EventCodec
from services.accounts.read.tables import ACTOR_LENGTH, NAME_LENGTH, audit_trail
from shared.inbox import Delivery, Subscription
from shared.mirrors import Upserts, mirror_handlers


class Unread(Event, frozen=True, kw_only=True, tag="accounts.UnreadEvent.v1"):
    """Another service's event, whose body the audit trail does not read: only its type."""

    event_type: str


class Envelope(EventCodec):
    """A codec of one service's events that decodes no body: every event is ``Unread`` with its type."""

    def __init__(self, service: str) -> None:
        super().__init__(ACCOUNTS.service, Unread)
        self.service = service

    def decode(self, name: str, version: int, data: bytes | str) -> Event:
        return Unread(event_type=name)


def record(rows: Upserts, delivery: Delivery) -> None:
    """Put one event on its organisation's trail (once, whatever the bus delivers twice)."""
    metadata, event = delivery.metadata, delivery.event
    if not metadata.org or not metadata.actor or not isinstance(event, Unread):
        return
    row = {
        "event_id": delivery.event_id,
        "org": metadata.org[:NAME_LENGTH],
        "at": delivery.recorded_at,
        "service": delivery.source[:NAME_LENGTH],
        "event_type": event.event_type[:NAME_LENGTH],
        "stream_id": delivery.stream_id[:NAME_LENGTH],
        "stream_version": delivery.stream_version,
        "actor": metadata.actor[:ACTOR_LENGTH],
        "correlation_id": metadata.correlation_id[:NAME_LENGTH] if metadata.correlation_id else None,
    }
    rows.upsert(audit_trail, ["event_id"], row, update=False)


def audit(service: str) -> Subscription:
    """Accounts' subscription to one service's events, for the audit trail: a batch's entries in one statement.
    An entry is the event's own row, so the trail needs no stream's order (``ordered=False``): the inbox keeps no
    progress of the service's streams, millions of them after a catalog's bulk import."""
    return Subscription(f"audit-{service}", service, Envelope(service), *mirror_handlers(record), ordered=False)
