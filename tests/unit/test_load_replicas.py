"""The load benchmark's checks of replicas (bench/_load_replicas.py) on counts made up here: what each check lets
pass and what it reports, so a run with replicas fails on a doubled effect or a second active relay."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.unit
MODULE = Path(__file__).resolve().parents[2] / "bench" / "_load_replicas.py"


def _load() -> ModuleType:
    """The benchmark's module by its path (bench/ is a directory of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("_load_replicas", MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("_load_replicas", module)
    spec.loader.exec_module(module)
    return module


replicas = _load()
SERVICES = ("catalog", "pooling")


def test_one_active_relay_per_service_in_every_sample_passes() -> None:
    samples = [{"catalog": 1, "pooling": 1}] * 3
    assert replicas.relay_violations(samples, SERVICES) == []


def test_a_sample_with_two_active_relays_or_none_is_reported_per_service() -> None:
    samples = [{"catalog": 1, "pooling": 2}, {"catalog": 1}, {"catalog": 1, "pooling": 1}, {"catalog": 0, "pooling": 2}]
    assert replicas.relay_violations(samples, SERVICES) == [
        "catalog: 1 of 4 samples not exactly one active relay (1 with 0 active)",
        "pooling: 3 of 4 samples not exactly one active relay (1 with 0 active, 2 with 2 active)",
    ]


def test_relays_are_counted_over_every_replica_of_a_service() -> None:
    metrics = {
        "catalog": {"gotong_relay_active": [({"service": "catalog"}, 1.0)]},
        "catalog-2": {"gotong_relay_active": [({"service": "catalog"}, 1.0)]},
        "pooling": {"gotong_relay_active": [({"service": "pooling"}, 0.0)]},
    }
    assert replicas.relays_active(metrics) == {"catalog": 2, "pooling": 0}


def test_an_inbox_with_one_row_per_source_event_passes() -> None:
    inbox = replicas.Inbox("orders-catalog", source_events=1_280, rows=1_280, unknown=0, dead_letters=0)
    assert replicas.inbox_violations([inbox]) == []


def test_an_inbox_missing_events_holding_foreign_ones_or_dead_letters_is_reported() -> None:
    short = replicas.Inbox("orders-catalog", source_events=10, rows=9, unknown=0, dead_letters=0)
    swapped = replicas.Inbox("pooling-orders", source_events=10, rows=10, unknown=1, dead_letters=0)
    parked = replicas.Inbox("quality-msme-owners", source_events=10, rows=10, unknown=0, dead_letters=2)
    assert replicas.inbox_violations([short, swapped, parked]) == [
        "orders-catalog: 9 of 10 events handled",
        "pooling-orders: 9 of 10 events handled",
        "pooling-orders: 1 inbox rows for events its source does not have",
        "quality-msme-owners: 2 events dead-lettered",
    ]


def test_an_effect_shown_twice_is_reported_and_one_shown_once_is_not() -> None:
    effects = [
        replicas.Expected("pool p: demand", done=4_860, shown=9_720),
        replicas.Expected("order o: accepted", done=1_200, shown=1_200),
        replicas.Expected("pooling: source events whose handler appended twice", done=0, shown=0),
    ]
    assert replicas.effect_violations(effects) == ["pool p: demand: 9,720 shown, 4,860 done"]


def test_the_sharing_table_shows_each_replica_and_the_duplicates_the_inbox_turned_away() -> None:
    handled = replicas.handled_by_replica(
        {
            "orders": {"gotong_consumer_handled_events_total": [({"consumer": "orders-catalog"}, 700.0)]},
            "orders-2": {"gotong_consumer_handled_events_total": [({"consumer": "orders-catalog"}, 590.0)]},
        }
    )
    inboxes = [replicas.Inbox("orders-catalog", source_events=1_280, rows=1_280, unknown=0, dead_letters=0)]
    headers, rows = replicas.sharing_rows(handled, inboxes, {"orders": ["orders", "orders-2"]})
    assert headers == ["consumer", "replica 1", "replica 2", "acknowledged", "inbox", "duplicates"]
    assert rows == [["orders-catalog", "700", "590", "1,290", "1,280", "10"]]


def test_caught_up_only_when_every_process_reports_nothing_waiting() -> None:
    def process(pending: float, relay_lag: float = 0.0) -> dict[str, list[tuple[dict[str, str], float]]]:
        return {
            "gotong_relay_lag_seconds": [({"service": "orders"}, relay_lag)],
            "gotong_consumer_pending_messages": [({"consumer": "orders-catalog"}, pending)],
            "gotong_consumer_unacknowledged_messages": [({"consumer": "orders-catalog"}, 0.0)],
        }

    assert replicas.quiet({"orders": process(0), "orders-2": process(0)})
    assert not replicas.quiet({"orders": process(0), "orders-2": process(3)})
    assert not replicas.quiet({"orders": process(0, relay_lag=0.4)})
    assert not replicas.quiet({"orders": process(0), "orders-2": {}})  # a scrape that left its lags out


def test_requests_go_to_each_replica_in_turn_and_the_first_keeps_the_service_name() -> None:
    assert replicas.replica_names("orders", 1) == ["orders"]
    assert replicas.replica_names("orders", 3) == ["orders", "orders-2", "orders-3"]
    turns = replicas.round_robin({"orders": ["http://a", "http://b"], "catalog": ["http://c"]})
    assert list(turns) == ["http://a"]
    assert [next(turns["http://a"]) for _ in range(3)] == ["http://a", "http://b", "http://a"]
