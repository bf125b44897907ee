"""Replicas in the load benchmark: N `gotong serve <service>` processes of each service on the one PostgreSQL and
NATS, as a compose deployment with replicas runs them, and what must hold while they share the work.

- One relay per service is active at every sample (``gotong_relay_active`` of each replica, summed).
- Every consumer handled each event it is sent exactly once: its inbox holds one row per event of the source's
  store (of the types it names, if it names them), none for an event the source does not have, and nothing went
  to the dead letters.
- No handler's effect was recorded twice: no service appended for one (actor, source event) in two
  transactions, and every market's pool demand and order line progress show each confirm and accept once.

The checks are pure functions of what was counted, so they can be tested without servers; the counting reads
/metrics and PostgreSQL once the run has caught up.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx

if TYPE_CHECKING:
    from _load_market import Answers, Story

Metrics = dict[str, list[tuple[dict[str, str], float]]]
HANDLED = ("gotong_consumer_handled_events_total", "gotong_consumer_handled_events")


def replica_names(service: str, count: int) -> list[str]:
    """The processes of one service: the first keeps the service's name (so one replica is named as before)."""
    return [service, *(f"{service}-{number}" for number in range(2, count + 1))]


def round_robin(urls: Mapping[str, Sequence[str]]) -> dict[str, Iterator[str]]:
    """For each service with more than one replica, its first replica's URL → the replicas' URLs in turn."""
    return {replicas[0]: itertools.cycle(replicas) for replicas in urls.values() if len(replicas) > 1}


@dataclass(frozen=True)
class Subscriber:
    """One durable consumer: the service (schema) whose inbox it writes, its name there, the service it follows
    and the event types it is sent (all when none are named)."""

    schema: str
    name: str
    source: str
    takes: frozenset[str] | None = None

    @property
    def durable(self) -> str:
        return f"{self.schema}-{self.name}".replace(".", "-")


def subscribers(services: Sequence[str]) -> list[Subscriber]:
    """Every consumer the named services run, the platform's (identities, published standards, audit) included."""
    from shared.service import load_services

    return [
        Subscriber(s.name, sub.name, sub.source, sub.takes)
        for s in load_services(list(services))
        for sub in s.subscriptions
    ]


# --- the checks, pure ---


def relay_violations(samples: Sequence[Mapping[str, int]], services: Sequence[str]) -> list[str]:
    """Per service, the samples (active relays over all its replicas) that were not exactly one."""
    found = []
    for service in services:
        wrong = Counter(sample.get(service, 0) for sample in samples if sample.get(service, 0) != 1)
        if wrong:
            shown = ", ".join(f"{n} with {active} active" for active, n in sorted(wrong.items()))
            found.append(f"{service}: {wrong.total()} of {len(samples)} samples not exactly one active relay ({shown})")
    return found


@dataclass(frozen=True)
class Inbox:
    """A consumer's inbox against its source's store, counted once the run has caught up."""

    durable: str
    source_events: int
    rows: int
    unknown: int  # rows for an event the source's store does not have
    dead_letters: int


def inbox_violations(inboxes: Sequence[Inbox]) -> list[str]:
    """Consumers that did not handle each event of their source exactly once."""
    found = []
    for inbox in inboxes:
        if inbox.rows - inbox.unknown != inbox.source_events:
            found.append(f"{inbox.durable}: {inbox.rows - inbox.unknown} of {inbox.source_events} events handled")
        if inbox.unknown:
            found.append(f"{inbox.durable}: {inbox.unknown} inbox rows for events its source does not have")
        if inbox.dead_letters:
            found.append(f"{inbox.durable}: {inbox.dead_letters} events dead-lettered")
    return found


@dataclass(frozen=True)
class Expected:
    """One effect of the workload as each service must show it once: what, what the run did, what is shown."""

    what: str
    done: int
    shown: int


def effect_violations(effects: Sequence[Expected]) -> list[str]:
    return [f"{e.what}: {e.shown:,} shown, {e.done:,} done" for e in effects if e.shown != e.done]


def sharing_rows(
    handled: Mapping[str, Mapping[str, float]], inboxes: Sequence[Inbox], replicas: Mapping[str, Sequence[str]]
) -> tuple[list[str], list[list[str]]]:
    """The table of how consumers shared their events: per consumer, what each replica of its service acknowledged
    (from /metrics), their sum, the inbox's rows, and the difference (duplicates the inbox turned away)."""
    width = max((len(names) for names in replicas.values()), default=1)
    headers = ["consumer", *(f"replica {n}" for n in range(1, width + 1)), "acknowledged", "inbox", "duplicates"]
    rows = []
    for inbox in sorted(inboxes, key=lambda i: i.durable):
        service = inbox.durable.split("-", 1)[0]
        counts = [handled.get(inbox.durable, {}).get(name, 0.0) for name in replicas.get(service, [])]
        counts += [0.0] * (width - len(counts))
        total = sum(counts)
        row = [inbox.durable, *(f"{c:,.0f}" for c in counts), f"{total:,.0f}", f"{inbox.rows:,}"]
        rows.append([*row, f"{total - inbox.rows:,.0f}"])
    return headers, rows


def relays_active(metrics: Mapping[str, Metrics]) -> dict[str, int]:
    """Active relays per service over the scraped processes."""
    active: dict[str, int] = defaultdict(int)
    for scraped in metrics.values():
        for labels, value in scraped.get("gotong_relay_active", []):
            active[labels["service"]] += int(value)
    return dict(active)


def handled_by_replica(metrics: Mapping[str, Metrics]) -> dict[str, dict[str, float]]:
    """Events each process's consumers acknowledged: durable → process → count."""
    handled: dict[str, dict[str, float]] = defaultdict(dict)
    for process, scraped in metrics.items():
        for name in HANDLED:
            for labels, value in scraped.get(name, []):
                handled[labels["consumer"]][process] = value
    return dict(handled)


def quiet(metrics: Mapping[str, Metrics]) -> bool:
    """Nothing left to do: no event waiting for a relay, none waiting for or held by a consumer."""
    waiting = (
        "gotong_relay_lag_seconds",
        "gotong_consumer_pending_messages",
        "gotong_consumer_unacknowledged_messages",
    )
    # every process relays and consumes: a lag missing from a scrape (left out on a timeout) is not a zero
    return all(
        scraped.get(name) and all(value == 0 for _, value in scraped[name])
        for scraped in metrics.values()
        for name in waiting
    )


# --- counting, from PostgreSQL ---


async def count_inboxes(pool: asyncpg.Pool, consumers: Sequence[Subscriber]) -> list[Inbox]:
    inboxes = []
    for consumer in consumers:
        schema, source = consumer.schema, consumer.source
        row = await pool.fetchrow(
            f"SELECT (SELECT count(*) FROM {source}.events WHERE $2::text[] IS NULL OR event_type = ANY($2)) "
            f"AS source_events, (SELECT count(*) FROM {schema}.inbox WHERE consumer = $1) AS rows, "
            f"(SELECT count(*) FROM {schema}.inbox i WHERE consumer = $1 AND NOT EXISTS "
            f"(SELECT 1 FROM {source}.events e WHERE e.event_id = i.event_id)) AS unknown, "
            f"(SELECT count(*) FROM {schema}.dead_letters WHERE consumer = $1) AS dead_letters",
            consumer.name,
            sorted(consumer.takes) if consumer.takes is not None else None,
        )
        inboxes.append(Inbox(consumer.durable, row["source_events"], row["rows"], row["unknown"], row["dead_letters"]))
    return inboxes


async def handled_twice(pool: asyncpg.Pool, services: Sequence[str]) -> list[Expected]:
    """Per service, the source events a handler recorded effects of in more than one transaction: a handler's
    appends carry command id ``actor:event id`` and the event as their cause (``Delivery.caused``)."""
    effects = []
    for service in services:
        doubled = await pool.fetchval(
            f"SELECT count(*) FROM (SELECT metadata->>'command_id' FROM {service}.events "
            "WHERE metadata->>'command_id' = (metadata->>'actor') || ':' || (metadata->>'causation_id') "
            "GROUP BY 1 HAVING count(DISTINCT transaction_id) > 1) AS twice"
        )
        effects.append(Expected(f"{service}: source events whose handler appended twice", 0, doubled))
    return effects


async def story_effects(stories: Sequence[Story], outcomes: Sequence[Answers | BaseException]) -> list[Expected]:
    """Each market's confirm counted once in its pool's demand (pooling follows orders), and each accept and lot
    once in its order line's progress (orders follows pooling)."""
    effects = []
    for story, answers in zip(stories, outcomes, strict=True):
        if isinstance(answers, BaseException):
            continue  # the run failed already
        market, pool = story.market, story.pool_id
        shown = await market.pool_state(pool)
        effects.append(Expected(f"pool {pool}: demand", story.demand, int(shown["demand"])))
        order = await market.gotong.get(f"/v1/orders/{answers.order_id}", market.buyer)
        progress = order["lines"][0]["progress"]
        for measure in ("accepted", "delivered"):  # every accepted unit is delivered in a lot
            effects.append(Expected(f"order {answers.order_id}: {measure}", answers.accepted_units, progress[measure]))
    return effects


# --- sampling, from /metrics ---


@dataclass
class RelaySamples:
    """Active relays per service at each scrape of every replica, from when all were first active."""

    samples: list[dict[str, int]] = field(default_factory=list)
    missed: int = 0  # scrapes a replica did not answer (checked: none may be missed)

    async def first_active(self, scrape: Any, services: Sequence[str], timeout: float) -> float:
        """Wait until every service has one active relay (each replica contends on start); seconds waited."""
        started = time.perf_counter()
        while True:
            active = relays_active(await scrape())
            if all(active.get(service, 0) == 1 for service in services):
                return time.perf_counter() - started
            if time.perf_counter() - started > timeout:
                raise AssertionError(f"relays not active in {timeout:.0f} s: {active}")
            await asyncio.sleep(0.2)

    async def sample(self, scrape: Any, stop: asyncio.Event, every: float = 1.0) -> None:
        while not stop.is_set():
            try:
                self.samples.append(relays_active(await scrape()))
            except httpx.HTTPError:
                self.missed += 1
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(every):
                    await stop.wait()


async def catch_up(scrape: Any, timeout: float) -> float:
    """Seconds until two scrapes in a row find nothing left to relay or consume."""
    started = time.perf_counter()
    first_quiet: float | None = None
    while True:
        now = time.perf_counter()
        if quiet(await scrape()):
            if first_quiet is not None:
                return first_quiet - started
            first_quiet = now
        else:
            first_quiet = None
        if now - started > timeout:
            raise AssertionError(f"not caught up {timeout:.0f} s after the workload")
        await asyncio.sleep(0.25)


# --- after the workload ---


@dataclass
class Settled:
    """What the run came to once it caught up: the seconds that took, and every check that failed."""

    catch_up: float
    violations: list[str]


async def settle(
    scrape: Any,
    pool: asyncpg.Pool,
    replicas: Mapping[str, Sequence[str]],
    relays: RelaySamples,
    played: Sequence[tuple[Story, Answers | BaseException]],
    timeout: float,
) -> Settled:
    """Wait until nothing is left to relay or consume, then count and check; prints what each replica's
    consumers handled. ``replicas``: service → its processes' names; ``relays`` still sampling meanwhile."""
    from _servers import markdown_table

    caught_up = await catch_up(scrape, timeout)
    print(f"Caught up {caught_up:.1f} s after the workload (nothing left to relay, pending or unacknowledged)\n")
    handled = handled_by_replica(await scrape())
    inboxes = await count_inboxes(pool, subscribers(list(replicas)))
    stories, outcomes = [story for story, _ in played], [outcome for _, outcome in played]
    effects = [*await handled_twice(pool, list(replicas)), *await story_effects(stories, outcomes)]
    headers, rows = sharing_rows(handled, inboxes, replicas)
    print(markdown_table(headers, rows) + "\n")
    violations = [
        *relay_violations(relays.samples, list(replicas)),
        *([f"{relays.missed} scrapes of the relays missed"] if relays.missed else []),
        *inbox_violations(inboxes),
        *effect_violations(effects),
    ]
    print(
        f"Checks: one active relay per service in each of {len(relays.samples)} samples; "
        f"{len(inboxes)} inboxes against their sources' stores; {len(effects)} effects counted once: "
        f"{len(violations)} violations\n"
    )
    return Settled(caught_up, violations)
