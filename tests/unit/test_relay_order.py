"""The relay sends each stream's events in version order, whatever order global order found them in."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from shared.eventstore import Metadata, RecordedEvent
from shared.kernel.ids import new_id
from shared.relay import Batch, in_stream_order, missing_versions


def event(stream: str, version: int, transaction: int) -> RecordedEvent:
    return RecordedEvent(
        position=transaction * 10 + version,
        transaction_id=transaction,
        event_id=new_id(),
        stream_id=stream,
        stream_type="pool",
        stream_version=version,
        event_type="Happened",
        schema_version=1,
        data="{}",
        metadata=Metadata(),
        recorded_at=datetime(2027, 1, 1, tzinfo=UTC),
    )


def labels(events: list[RecordedEvent]) -> list[tuple[str, int]]:
    return [(e.stream_id, e.stream_version) for e in events]


def test_a_batch_already_in_stream_order_is_sent_as_read() -> None:
    records = [event("a", 1, 1), event("b", 1, 1), event("a", 2, 2)]
    assert in_stream_order(records, []) is records


def test_a_version_global_order_put_first_waits_for_the_one_before_it_in_the_batch() -> None:
    passed, other, received = event("pool", 6, 1), event("x", 1, 2), event("pool", 5, 3)
    assert labels(in_stream_order([passed, other, received], [])) == [("pool", 5), ("pool", 6), ("x", 1)]


def test_earlier_versions_beyond_the_batch_go_ahead_of_their_successor() -> None:
    records = [event("x", 1, 1), event("pool", 7, 2)]
    earlier = [event("pool", 5, 9), event("pool", 6, 8)]
    sending = in_stream_order(records, earlier)
    assert labels(sending) == [("x", 1), ("pool", 5), ("pool", 6), ("pool", 7)]
    batch = Batch(records, sending)
    assert [batch.reached(n) for n in range(5)] == [0, 1, 1, 1, 2]


def test_the_checkpoint_waits_for_an_event_sent_late_in_its_batch() -> None:
    records = [event("pool", 6, 1), event("x", 1, 2), event("pool", 5, 3)]
    batch = Batch(records, in_stream_order(records, []))
    assert labels(batch.sending) == [("pool", 5), ("pool", 6), ("x", 1)]
    # pool 6 leads the batch: nothing is checkpointed until it is acknowledged, after pool 5 is
    assert [batch.reached(n) for n in range(4)] == [0, 0, 1, 3]


def test_a_batch_lacks_the_version_under_each_streams_lowest_and_its_gaps() -> None:
    records = [event("a", 1, 1), event("b", 4, 1), event("a", 4, 2), event("c", 2, 3), event("b", 5, 3)]
    assert sorted(missing_versions(records)) == [("a", 2), ("a", 3), ("b", 3), ("c", 1)]


@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(1, 50)), max_size=40), st.data())
def test_every_event_is_sent_once_after_all_lower_versions_of_its_stream(
    writes: list[tuple[str, int]], data: st.DataObject
) -> None:
    """Versions of a stream written by transactions in any order; a batch cut anywhere in global order, with what
    ``late_versions`` finds for it: every version under the batch's highest of its stream beyond the batch."""
    streams: dict[str, list[RecordedEvent]] = {}
    for stream, transaction in writes:
        version = len(streams.setdefault(stream, [])) + 1
        streams[stream].append(event(stream, version, transaction))
    everything = sorted((e for s in streams.values() for e in s), key=lambda e: e.global_position)
    cut = data.draw(st.integers(0, len(everything)))
    records, beyond = everything[:cut], everything[cut:]
    highest = {r.stream_id: r.stream_version for r in sorted(records, key=lambda r: r.stream_version)}
    late = [e for e in beyond if e.stream_version < highest.get(e.stream_id, 0)]
    sending = in_stream_order(records, late)
    assert len({e.event_id for e in sending}) == len(sending) == len(records) + len(late)
    for stream, top in highest.items():
        assert [e.stream_version for e in sending if e.stream_id == stream] == list(range(1, top + 1)), stream
    batch = Batch(records, sending)
    assert batch.reached(len(sending)) == len(records)
    reached = [batch.reached(n) for n in range(len(sending) + 1)]
    assert reached == sorted(reached), "the checkpoint only moves forward"
