"""A projection or subscription that names the event types it takes names exactly the ones its code matches: one
it forgot would never reach it (the store, or JetStream, sends only those), and its tables would quietly fall
behind."""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from events.base import Event, event_names
from services.orders.handlers import CATALOG_MIRROR
from services.orders.read.supply_records import keep_catalog
from services.quality.handlers import MSME_OWNERS, record_msme_owner
from shared.inbox import Subscription
from shared.projection import Projection
from shared.service import load_services

NAMING = [p for s in load_services() for p in s.projections if p.takes is not None]
SUBSCRIBING = [(s.name, subscription) for s in load_services() for subscription in s.subscriptions]
GATHERED_BY: dict[str, tuple[Subscription, Callable[..., Any]]] = {
    "orders": (CATALOG_MIRROR, keep_catalog),
    "quality": (MSME_OWNERS, record_msme_owner),
}
"""What each subscription that names its types does with an event, by service."""


def matched_classes(function: Callable[..., Any]) -> list[type[Event]]:
    """The event classes the ``case`` patterns of ``function`` name."""
    source = textwrap.dedent(inspect.getsource(function))
    scope = function.__globals__
    patterns = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.MatchClass)]
    classes = [scope[node.cls.id] for node in patterns if isinstance(node.cls, ast.Name)]
    return [cls for cls in classes if issubclass(cls, Event)]


def test_the_projections_of_a_few_types_are_found() -> None:
    assert {p.name for p in NAMING} >= {"plots", "notifications"}


@pytest.mark.parametrize("projection", NAMING, ids=lambda p: p.name)
def test_a_projection_takes_the_types_its_apply_matches(projection: Projection) -> None:
    assert projection.takes == event_names(*matched_classes(projection.apply))


def test_every_subscription_that_names_its_types_is_checked_here() -> None:
    naming = {(service, s.name) for service, s in SUBSCRIBING if s.takes is not None}
    assert naming == {(service, s.name) for service, (s, _) in GATHERED_BY.items()}


@pytest.mark.parametrize("service", sorted(GATHERED_BY))
def test_a_subscription_takes_the_types_its_mirror_matches(service: str) -> None:
    subscription, gather = GATHERED_BY[service]
    assert subscription.takes == event_names(*matched_classes(gather))


def test_a_subscription_sent_only_some_types_cannot_be_held_to_its_streams_order() -> None:
    with pytest.raises(ValueError, match="cannot be held to its streams' order"):
        replace(CATALOG_MIRROR, ordered=True)
