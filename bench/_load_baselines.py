"""The load benchmark's baselines, measured in the same run on the same servers:

- HTTP read of one order (`GET /v1/orders/{id}` on `gotong serve orders`, as its buyer) against a bare Litestar
  route on uvicorn reading the same order's row by primary key from the same table and answering the same bytes
  (bench/_bare_order.py); one kept-alive connection each, interleaved rounds, p50/p95 and the p50 ratio.
- Consumer with its inbox against a bare JetStream pull consumer, and the relay against raw publishing
  (bench/bus.py's throughput table, on the ledger test service's events).
- Append → handled (a relay and an inbox consumer, each in a process of its own, the relay woken by NOTIFY)
  against raw JetStream publish → consume (a bare pull consumer), both at the same steady rate, measured the same
  way and in turns (bench/bus.py's ``steady_latency`` and ``raw_latency``).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _servers import interleaved, markdown_table, median, percentile, ratios
from bus import bus_bench, raw_latency, steady_latency, throughput_table

from shared.dev import free_port
from tests.e2e.processes import GotongProcess

BENCH = Path(__file__).resolve().parent


async def baselines(
    url: str,
    nats_url: str,
    processes: list[GotongProcess],
    client: httpx.AsyncClient,
    order: tuple[str, dict[str, str]],
    *,
    quick: bool,
) -> str:
    parts = ["Baselines, same run\n", await order_read(url, processes, client, order, rounds=200 if quick else 2_000)]
    events, rounds = (2_000, 2) if quick else (20_000, 5)
    rate, seconds = (500, 2.0) if quick else (1_000, 10.0)
    async with bus_bench(url, nats_url, events) as bench:
        parts.append(f"Bus throughput, {events:,} events, {rounds} rounds, medians\n")
        parts.append(await throughput_table(bench, rounds) + "\n")
        bench.messages.clear()
        await steady_latency(bench, rate, 1)  # warm up
        await raw_latency(bench, rate, 1)
        ours = await steady_latency(bench, rate, seconds)
        raw = await raw_latency(bench, rate, seconds)
    handled_ms = ours.handled_ms
    rows = [
        ["append → handled (relay + consumer with inbox)", *_pcts(handled_ms)],
        ["raw JetStream publish → consume (bare pull)", *_pcts(raw)],
        ["ratio", *(f"{a / b:.1f}x" for a, b in zip(_values(handled_ms), _values(raw), strict=True))],
    ]
    parts.append(f"Latency at {rate:,} events/s for {seconds:g} s (target p99 ratio ≤ 3×)\n")
    parts.append(markdown_table(["", "p50 ms", "p95 ms", "p99 ms"], rows) + "\n")
    return "\n".join(parts)


def _values(ms: list[float]) -> list[float]:
    return [percentile(ms, share) for share in (0.5, 0.95, 0.99)]


def _pcts(ms: list[float]) -> list[str]:
    return [f"{value:.1f}" for value in _values(ms)]


async def order_read(
    url: str, processes: list[GotongProcess], client: httpx.AsyncClient, order: tuple[str, dict[str, str]], rounds: int
) -> str:
    order_id, buyer = order
    orders = next(p for p in processes if p.name == "orders")
    real = f"{orders.url}/v1/orders/{order_id}"
    body = (await client.get(real, headers=buyer)).content
    with tempfile.NamedTemporaryFile(suffix=".json") as file:
        file.write(body)
        file.flush()
        port = free_port()
        bare = _start_bare(port, url, file.name)
        try:
            await _ready(client, f"http://127.0.0.1:{port}/ready")
            async with httpx.AsyncClient() as ours, httpx.AsyncClient() as floor:

                async def gotong() -> float:
                    started = time.perf_counter()
                    response = await ours.get(real, headers=buyer)
                    assert response.status_code == 200 and response.content == body, response.text
                    return time.perf_counter() - started

                async def litestar() -> float:
                    started = time.perf_counter()
                    response = await floor.get(f"http://127.0.0.1:{port}/orders/{order_id}")
                    assert response.status_code == 200 and response.content == body
                    return time.perf_counter() - started

                await interleaved(20, [("gotong", gotong), ("bare", litestar)])
                times = await interleaved(rounds, [("gotong", gotong), ("bare", litestar)])
        finally:
            bare.terminate()
            bare.wait(timeout=10)
    real_ms, bare_ms = ([1000 * t for t in times[name]] for name in ("gotong", "bare"))
    ratio = median(ratios(times["gotong"], times["bare"]))
    rows = [
        ["`GET /v1/orders/{id}` (gotong serve orders, as the buyer)", *_pcts(real_ms)],
        ["bare Litestar: the row by primary key, the same bytes", *_pcts(bare_ms)],
    ]
    verdict = (
        f"{len(body):,} bytes; median per-round ratio {ratio:.2f}× (target ≤ 2×: {'met' if ratio <= 2 else 'MISSED'})"
    )
    return (
        f"HTTP read of one order, {rounds:,} interleaved rounds\n\n"
        + markdown_table(["", "p50 ms", "p95 ms", "p99 ms"], rows)
        + f"\n\n{verdict}\n"
    )


def _start_bare(port: int, url: str, body_file: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(BENCH / "_bare_order.py"), str(port), url, body_file]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _ready(client: httpx.AsyncClient, url: str) -> None:
    for _ in range(200):
        try:
            if (await client.get(url)).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"the bare Litestar app did not answer at {url}")
