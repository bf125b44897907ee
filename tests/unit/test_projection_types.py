"""A projection that names the event types it takes names exactly the ones its ``apply`` matches: one it
forgot would never reach it (the store sends only those), and its tables would quietly fall behind."""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest

from events.base import Event, event_names
from shared.projection import Projection
from shared.service import load_services

NAMING = [p for s in load_services() for p in s.projections if p.takes is not None]


def matched_classes(projection: Projection) -> list[type[Event]]:
    """The event classes the ``case`` patterns of the projection's ``apply`` name."""
    source = textwrap.dedent(inspect.getsource(projection.apply))
    scope = projection.apply.__globals__
    patterns = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.MatchClass)]
    classes = [scope[node.cls.id] for node in patterns if isinstance(node.cls, ast.Name)]
    return [cls for cls in classes if issubclass(cls, Event)]


def test_the_projections_of_a_few_types_are_found() -> None:
    assert {p.name for p in NAMING} >= {"plots", "notifications"}


@pytest.mark.parametrize("projection", NAMING, ids=lambda p: p.name)
def test_a_projection_takes_the_types_its_apply_matches(projection: Projection) -> None:
    assert projection.takes == event_names(*matched_classes(projection))
